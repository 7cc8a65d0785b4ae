"""Generator backends against real components: a tiny GLM on disk and a local OpenAI-style server."""

from __future__ import annotations

import importlib.util
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from models.errors import GenerationFailed, ModelUnavailable
from models.factory import build_generator
from models.generators.openai import OpenAICompatibleGenerator
from models.generators.transformers import TransformersGenerator, plain_prompt
from models.ports import ChatMessage, Generation, Generator
from models.settings import GeneratorSettings
from tests.models.fake_openai_server import Canned, FakeOpenAIServer
from tests.models.gen_tiny_glm import build_tiny_glm

MESSAGES = [
    ChatMessage("system", "你是电商客服，回答要简短。"),
    ChatMessage("user", "你好，这件衣服还有货吗？"),
]
CONVERSATION = [
    ChatMessage("system", "你是客服"),
    ChatMessage("user", "在吗"),
    ChatMessage("assistant", "在的"),
    ChatMessage("user", "我的快递什么时候到？"),
]
API_KEY = "sk-backstop-test-0123456789"


def _transformers(folder: Path, **overrides: object) -> TransformersGenerator:
    settings = GeneratorSettings.model_validate(
        {"backend": "transformers", "model": str(folder), **overrides}
    )
    generator = build_generator(settings)
    assert isinstance(generator, TransformersGenerator)
    return generator


def _openai(base_url: str, **overrides: object) -> OpenAICompatibleGenerator:
    settings = GeneratorSettings.model_validate(
        {"backend": "openai", "model": "glm-4-9b-chat", "base_url": base_url, **overrides}
    )
    generator = build_generator(settings)
    assert isinstance(generator, OpenAICompatibleGenerator)
    return generator


@pytest.fixture(scope="module")
def glm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_glm(tmp_path_factory.mktemp("tiny-glm"))


@pytest.fixture(scope="module")
def glm(glm_folder: Path) -> TransformersGenerator:
    return _transformers(glm_folder)


@pytest.fixture()
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


def test_backend_none_builds_no_generator() -> None:
    assert build_generator(GeneratorSettings.model_validate({"backend": "none"})) is None


# --- transformers backend -------------------------------------------------------------------------


def test_tiny_glm_answers_through_its_chat_template(glm: TransformersGenerator, glm_folder: Path) -> None:
    from transformers import AutoTokenizer

    result = glm.generate(MESSAGES, max_new_tokens=8)

    tokenizer = AutoTokenizer.from_pretrained(str(glm_folder), local_files_only=True)
    rendered = tokenizer.apply_chat_template(
        [{"role": m.role, "content": m.content} for m in MESSAGES], add_generation_prompt=True, tokenize=False
    )
    assert isinstance(rendered, str)
    assert rendered.startswith("[gMASK]<sop><|system|>\n你是电商客服")
    assert isinstance(glm, Generator)
    assert glm.prompt_mode == "chat_template"
    assert result.model == glm.name == f"transformers:{glm_folder.name}"
    assert result.prompt_tokens == len(tokenizer(rendered, add_special_tokens=False)["input_ids"])
    assert 1 <= result.completion_tokens <= 8
    assert (result.extra["finish_reason"] == "length") == (result.completion_tokens == 8)
    assert "<|" not in result.text and result.text == result.text.strip()
    assert result.latency_s > 0


def test_greedy_is_deterministic_and_sampling_is_not(glm: TransformersGenerator) -> None:
    first = glm.generate(MESSAGES, max_new_tokens=8, temperature=0.0)
    second = glm.generate(MESSAGES, max_new_tokens=8, temperature=0.0)
    sampled = {glm.generate(MESSAGES, max_new_tokens=8, temperature=1.5).text for _ in range(4)}

    assert (first.text, first.completion_tokens) == (second.text, second.completion_tokens)
    assert len(sampled) > 1


def test_parallel_callers_get_the_same_greedy_answer(glm: TransformersGenerator) -> None:
    expected = glm.generate(CONVERSATION, max_new_tokens=6).text
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda _: glm.generate(CONVERSATION, max_new_tokens=6).text, range(4)))
    assert texts == [expected] * 4


def test_generation_stops_at_end_of_text(tmp_path: Path) -> None:
    generator = _transformers(build_tiny_glm(tmp_path / "eos", always_eos=True))

    result = generator.generate(MESSAGES, max_new_tokens=16)

    assert (result.text, result.completion_tokens, result.extra["finish_reason"]) == ("", 1, "stop")


def test_tokenizer_without_chat_template_uses_plain_glm_prompt(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    folder = build_tiny_glm(tmp_path / "plain", chat_template=False)
    generator = _transformers(folder)

    result = generator.generate(MESSAGES, max_new_tokens=5)

    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    assert generator.prompt_mode == "plain"
    assert (
        plain_prompt(MESSAGES)
        == "<|system|>\n你是电商客服，回答要简短。<|user|>\n你好，这件衣服还有货吗？<|assistant|>\n"
    )
    assert result.prompt_tokens == len(tokenizer(plain_prompt(MESSAGES))["input_ids"])
    assert 1 <= result.completion_tokens <= 5


def test_chatglm_remote_code_answers_through_model_chat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import transformers.dynamic_module_utils as dynamic_modules
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # Remote code is copied into a modules cache and imported from there; keep it out of ~/.cache
    # and out of later tests' import state.
    monkeypatch.setattr(dynamic_modules, "HF_MODULES_CACHE", str(tmp_path / "hf_modules"))
    monkeypatch.setattr(sys, "path", [*sys.path])
    for name in [m for m in sys.modules if m.startswith("transformers_modules")]:
        monkeypatch.delitem(sys.modules, name)
    folder = build_tiny_glm(tmp_path / "chatglm2-tiny", chat_template=False, remote_chat=True)
    generator = _transformers(folder, trust_remote_code=True)

    result = generator.generate(CONVERSATION, max_new_tokens=6)

    # What a ChatGLM2 user would get by calling the model directly with the same turns.
    model: Any = AutoModelForCausalLM.from_pretrained(
        str(folder), trust_remote_code=True, local_files_only=True
    )
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    direct, _ = model.chat(
        tokenizer,
        "我的快递什么时候到？",
        history=[("你是客服\n在吗", "在的")],
        do_sample=False,
        max_new_tokens=6,
    )
    assert generator.prompt_mode == "model_chat"
    assert result.text == direct.strip()
    assert result.prompt_tokens > 0 and result.completion_tokens <= 6
    assert result.extra["token_counts"] == "estimated"


def test_missing_model_folder_is_model_unavailable(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailable, match="not found"):
        _transformers(tmp_path / "no-such-model")


def test_unusable_placement_is_model_unavailable(glm_folder: Path) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("checks the messages a CPU-only machine gives")
    with pytest.raises(ModelUnavailable, match="no CUDA GPU"):
        _transformers(glm_folder, device="cuda")
    with pytest.raises(ModelUnavailable, match=r"8bit quantization .* needs a CUDA GPU"):
        _transformers(glm_folder, quantization="8bit")
    if importlib.util.find_spec("accelerate") is None:
        with pytest.raises(ModelUnavailable, match="pip install accelerate"):
            _transformers(glm_folder, device="auto")


def test_bad_requests_raise_generation_failed(glm: TransformersGenerator) -> None:
    with pytest.raises(GenerationFailed):
        glm.generate([])
    with pytest.raises(GenerationFailed):
        glm.generate(MESSAGES, max_new_tokens=0)


# --- openai backend -------------------------------------------------------------------------------


def test_openai_request_and_reply_follow_the_wire_format(server: FakeOpenAIServer) -> None:
    generator = _openai(server.base_url, api_key=SecretStr(API_KEY))

    result = generator.generate(MESSAGES, max_new_tokens=64, temperature=0.3)

    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.body == {
        "model": "glm-4-9b-chat",
        "messages": [{"role": m.role, "content": m.content} for m in MESSAGES],
        "max_tokens": 64,
        "temperature": 0.3,
        "stream": False,
    }
    assert result.text == "收到：你好，这件衣服还有货吗？"
    assert (result.model, result.prompt_tokens, result.completion_tokens) == ("openai:glm-4-9b-chat", 25, 15)
    assert result.extra == {"finish_reason": "stop", "id": "chatcmpl-1"}
    assert result.latency_s > 0


def test_openai_without_api_key_sends_no_authorization(server: FakeOpenAIServer) -> None:
    _openai(server.base_url).generate(MESSAGES)
    assert "Authorization" not in server.requests[0].headers


def test_openai_reuses_one_keep_alive_connection(server: FakeOpenAIServer) -> None:
    generator = _openai(server.base_url)
    for _ in range(3):
        generator.generate(MESSAGES)
    assert len({r.client_port for r in server.requests}) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
def test_openai_retries_overload_and_server_errors(server: FakeOpenAIServer, status: int) -> None:
    server.script.append(Canned(status=status, body={"error": "busy"}, headers={"Retry-After": "0"}))

    result = _openai(server.base_url, max_retries=2).generate(MESSAGES)

    assert result.text == "收到：你好，这件衣服还有货吗？"
    assert len(server.requests) == 2


def test_openai_client_error_is_not_retried(server: FakeOpenAIServer) -> None:
    error = {"error": {"message": "max_tokens must be at most 4096", "type": "invalid_request_error"}}
    server.script.append(Canned(status=400, body=error))

    with pytest.raises(GenerationFailed, match=r"HTTP 400.*max_tokens must be at most 4096") as caught:
        _openai(server.base_url, max_retries=3, api_key=SecretStr(API_KEY)).generate(MESSAGES)

    assert len(server.requests) == 1
    assert API_KEY not in str(caught.value)


def test_openai_gives_up_after_max_retries(server: FakeOpenAIServer) -> None:
    server.script.extend([Canned(status=502, body="bad gateway")] * 3)

    with pytest.raises(GenerationFailed, match="HTTP 502: bad gateway after 2 attempt"):
        _openai(server.base_url, max_retries=1).generate(MESSAGES)

    assert len(server.requests) == 2


def test_openai_slow_server_times_out_within_budget(server: FakeOpenAIServer) -> None:
    server.delay_s = 3.0
    generator = _openai(server.base_url, timeout_s=0.3, max_retries=1)

    started = time.perf_counter()
    with pytest.raises(GenerationFailed, match="Timeout"):
        generator.generate(MESSAGES)
    elapsed = time.perf_counter() - started

    # Two attempts of 0.3 s plus at most one 0.25 s backoff, with slack for a busy CI machine.
    assert elapsed < 0.3 * 2 + 0.25 + 0.6
    assert len(server.requests) == 2


def test_openai_unreachable_server_fails_after_retries() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(GenerationFailed, match=r"ConnectError.*after 2 attempt"):
        _openai(f"http://127.0.0.1:{port}/v1", max_retries=1).generate(MESSAGES)


@pytest.mark.parametrize(
    "body", [{"choices": []}, {"choices": [{"message": {"role": "assistant", "content": None}}]}, "<html>"]
)
def test_openai_reply_without_text_fails(server: FakeOpenAIServer, body: dict[str, object] | str) -> None:
    server.script.append(Canned(status=200, body=body))
    with pytest.raises(GenerationFailed):
        _openai(server.base_url).generate(MESSAGES)


def test_openai_respects_the_concurrency_limit(server: FakeOpenAIServer) -> None:
    server.delay_s = 0.2
    generator = _openai(server.base_url, max_concurrency=2)
    start = threading.Barrier(6)

    def call(_: int) -> Generation:
        start.wait()
        return generator.generate(MESSAGES)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(call, range(6)))

    assert len(results) == 6 and all(r.text for r in results)
    assert server.max_in_flight == 2


# --- contract: both backends behave alike ---------------------------------------------------------


def test_openai_backend_over_a_served_tiny_glm_matches_in_process(glm: TransformersGenerator) -> None:
    with FakeOpenAIServer(generator=glm) as served:
        remote = _openai(served.base_url)
        over_http = remote.generate(CONVERSATION, max_new_tokens=7)
    local = glm.generate(CONVERSATION, max_new_tokens=7)

    for generator, result in ((glm, local), (remote, over_http)):
        assert isinstance(generator, Generator)
        assert isinstance(result, Generation) and result.latency_s > 0
        with pytest.raises(GenerationFailed):
            generator.generate([])
    assert (over_http.text, over_http.prompt_tokens, over_http.completion_tokens) == (
        local.text,
        local.prompt_tokens,
        local.completion_tokens,
    )

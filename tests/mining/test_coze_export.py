"""Approved Q&A to a Coze knowledge base: the real cozepy against a local fake of the Coze OpenAPI."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cozepy import Coze, TokenAuth
from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from coze.knowledge_base import (
    CozeKnowledgeBase,
    KnowledgeExportFailed,
    QAPair,
    parse_document_name,
    push_qa_pairs,
)
from fallback.store.base import Base
from fallback.store.schema import Answer
from mining.settings import CozeSettings
from tests.mining.fake_coze import FakeCozeServer
from tests.mining.mining_app import build_app

PAIRS = [QAPair(f"问题{i}：退款多久到账？", f"答案{i}：1-3个工作日原路退回。") for i in range(23)]


@pytest.fixture
def server() -> Iterator[FakeCozeServer]:
    with FakeCozeServer() as fake:
        yield fake


def kb(server: FakeCozeServer, token: str = "pat_test_token") -> CozeKnowledgeBase:
    coze = Coze(auth=TokenAuth(token), base_url=server.base_url)
    return CozeKnowledgeBase(coze, server.state.dataset_id, poll_interval_s=0.01, sleep=lambda s: None)


def creates(server: FakeCozeServer) -> list[int]:
    return [len(b["document_bases"]) for p, b in server.state.calls if p.endswith("/document/create")]


def test_pairs_are_created_in_batches_of_ten_and_polled(server: FakeCozeServer) -> None:
    report = kb(server).push(PAIRS)
    assert creates(server) == [10, 10, 3]
    assert len(report.created) == 23 and report.ok
    assert report.created[0].isdigit()  # int64 ids arrive as strings (Agw-Js-Conv: str)
    contents = sorted(d.content for d in server.state.documents.values())
    assert contents[0] == "问：问题0：退款多久到账？\n答：答案0：1-3个工作日原路退回。\n"
    assert server.state.chunk_strategies[0] == {
        "chunk_type": 0,
        "caption_type": None,
        "max_tokens": None,
        "remove_extra_spaces": None,
        "remove_urls_emails": None,
        "separator": None,
    }
    assert server.state.chunk_strategies[1:] == [None, None]  # only the first upload may set chunking
    assert sum(p.endswith("/process") for p, _ in server.state.calls) >= 2  # processing, then completed


def test_rerun_changes_only_what_changed(server: FakeCozeServer) -> None:
    kb(server).push(PAIRS[:5])
    old_ids = set(server.state.documents)
    edited = [*PAIRS[:3], QAPair(PAIRS[3].question, "新的答案：24小时内到账。")]  # 4 edited, 5 retired
    server.state.calls.clear()
    report = kb(server).push(edited)
    assert report.unchanged == 3
    assert len(report.created) == 1 and len(report.deleted) == 2  # update = delete + create; prune
    names = [d.name for d in server.state.documents.values()]
    assert len(names) == 4 and len(set(server.state.documents) - old_ids) == 1
    assert any(d.content.endswith("新的答案：24小时内到账。\n") for d in server.state.documents.values())


def test_foreign_documents_are_left_alone(server: FakeCozeServer) -> None:
    kb(server).push(PAIRS[:1])
    server.state.documents["1"] = type(next(iter(server.state.documents.values())))("1", "售后政策.pdf", "…")
    kb(server).push([])
    assert [d.name for d in server.state.documents.values()] == ["售后政策.pdf"]
    assert parse_document_name("售后政策.pdf") is None


def test_failed_processing_is_reported(server: FakeCozeServer) -> None:
    server.state.fail_names.add(PAIRS[0].document_name)
    report = kb(server).push(PAIRS[:2])
    assert report.failed == [report.created[0]] and not report.ok


def test_api_errors_become_our_error(server: FakeCozeServer) -> None:
    with pytest.raises(KnowledgeExportFailed, match="authentication is invalid"):
        kb(server, token="wrong").push(PAIRS[:1])


def test_push_qa_pairs_takes_plain_tuples(server: FakeCozeServer) -> None:
    settings = CozeSettings(
        base_url=server.base_url,
        token="pat_test_token",
        dataset_id=server.state.dataset_id,
        poll_interval_s=0.01,
    )
    report = push_qa_pairs([("运费谁出？", "退货运费由卖家承担。")], settings)
    assert len(report.created) == 1 and report.ok


def test_jwt_app_auth_gets_a_token_then_pushes(server: FakeCozeServer, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "app.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    server.state.jwt_public_keys["kid-1"] = public.decode("ascii")
    settings = CozeSettings(
        base_url=server.base_url,
        auth="jwt",
        jwt_client_id="1180000000001",
        jwt_public_key_id="kid-1",
        jwt_private_key_file=tmp_path / "app.pem",
        dataset_id=server.state.dataset_id,
        poll_interval_s=0.01,
    )
    report = push_qa_pairs([("运费谁出？", "退货运费由卖家承担。")], settings)
    assert len(report.created) == 1 and report.ok
    assert server.state.calls[0][0] == "/api/permission/oauth2/token"


def test_export_kb_command_reads_active_answers(
    server: FakeCozeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'backstop.db'}"
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(
            [
                Answer(question="运费谁出？", text="卖家承担。"),
                Answer(question="旧的", text="旧的", status="retired"),
            ]
        )
        session.commit()
    monkeypatch.setenv("BACKSTOP_MINING__COZE__TOKEN", "pat_test_token")
    monkeypatch.setenv("BACKSTOP_MINING__COZE__POLL_INTERVAL_S", "0.01")
    result = CliRunner().invoke(
        build_app(),
        [
            "export",
            "kb",
            "--dataset-id",
            server.state.dataset_id,
            "--database-url",
            url,
            "--base-url",
            server.base_url,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 approved answers: 1 created" in result.output
    assert [d.name.split(" #")[0] for d in server.state.documents.values()] == ["运费谁出？"]


def test_export_kb_reads_the_database_of_backstop_data_dir(
    server: FakeCozeServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'backstop.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Answer(question="能开发票吗？", text="可以，确认收货后申请。"))
        session.commit()
    monkeypatch.setenv("BACKSTOP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BACKSTOP_MINING__COZE__TOKEN", "pat_test_token")
    monkeypatch.setenv("BACKSTOP_MINING__COZE__POLL_INTERVAL_S", "0.01")
    monkeypatch.chdir(tmp_path.parent)
    result = CliRunner().invoke(
        build_app(), ["export", "kb", "--dataset-id", server.state.dataset_id, "--base-url", server.base_url]
    )
    assert result.exit_code == 0, result.output
    assert "1 approved answers: 1 created" in result.output

"""Approved Q&A pairs to a Coze text knowledge base through the official ``cozepy`` SDK.

One document per Q&A pair, named ``<question prefix> #qa-<question hash>-<content hash>``: the question
hash finds a pair's document again, the content hash tells whether it changed. Coze documents cannot be
edited in place through the API, so an update is delete + create.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from cozepy import (
    Coze,
    CozeAPIError,
    DocumentBase,
    DocumentChunkStrategy,
    DocumentSourceInfo,
    DocumentStatus,
    DocumentUpdateRule,
    JWTAuth,
    TokenAuth,
)

from mining.settings import CozeSettings
from models.errors import BackstopError

logger = logging.getLogger(__name__)

MAX_CREATE_BATCH = 10  # Coze accepts at most 10 documents per create call
MAX_DELETE_BATCH = 100  # and at most 100 ids per delete call
_NAME_TAG = re.compile(r"#qa-([0-9a-f]{12})-([0-9a-f]{8})$")


class KnowledgeExportFailed(BackstopError):
    """The Coze OpenAPI refused or failed a knowledge-base call."""


@dataclass(frozen=True)
class QAPair:
    """An approved question and its answer."""

    question: str
    answer: str

    @property
    def key(self) -> str:
        """Stable id of the question (12 hex digits)."""
        return hashlib.sha256(self.question.strip().encode("utf-8")).hexdigest()[:12]

    @property
    def content_hash(self) -> str:
        """Changes whenever the document text changes (8 hex digits)."""
        return hashlib.sha256(self.document_text.encode("utf-8")).hexdigest()[:8]

    @property
    def document_text(self) -> str:
        """What the knowledge base stores and retrieves."""
        return f"问：{self.question.strip()}\n答：{self.answer.strip()}\n"

    @property
    def document_name(self) -> str:
        """Readable in the Coze console, parseable by :func:`parse_document_name`."""
        prefix = " ".join(self.question.split())[:30]
        return f"{prefix} #qa-{self.key}-{self.content_hash}"


def parse_document_name(name: str) -> tuple[str, str] | None:
    """(question key, content hash) of a document this exporter wrote; ``None`` for any other document."""
    match = _NAME_TAG.search(name)
    return (match.group(1), match.group(2)) if match else None


@dataclass
class KnowledgeExportReport:
    """What one push did (document ids as Coze returned them)."""

    created: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every created document finished processing."""
        return not self.failed and not self.pending


def build_coze(settings: CozeSettings) -> Coze:
    """A ``cozepy`` client for ``settings`` (PAT or OAuth JWT; base URL configurable)."""
    if settings.auth == "pat":
        token = settings.token.get_secret_value()
        if not token:
            raise KnowledgeExportFailed("set BACKSTOP_MINING__COZE__TOKEN (a Coze personal access token)")
        auth: TokenAuth | JWTAuth = TokenAuth(token)
    else:
        if not (settings.jwt_client_id and settings.jwt_public_key_id and settings.jwt_private_key_file):
            raise KnowledgeExportFailed(
                "jwt auth needs jwt_client_id, jwt_public_key_id and jwt_private_key_file"
            )
        auth = JWTAuth(
            client_id=settings.jwt_client_id,
            private_key=settings.jwt_private_key_file.read_text(encoding="utf-8"),
            public_key_id=settings.jwt_public_key_id,
            base_url=settings.base_url,
        )
    return Coze(auth=auth, base_url=settings.base_url)


def _batches(items: Sequence[str], size: int) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class CozeKnowledgeBase:
    """Keeps a Coze text knowledge base in step with a list of approved Q&A pairs.

    Args:
        coze: A ``cozepy.Coze`` client.
        dataset_id: The text knowledge base.
        poll_interval_s: Pause between processing polls.
        poll_timeout_s: Documents still processing after this long are reported as pending.
        sleep: Injected for tests (``time.sleep`` by default).
    """

    def __init__(
        self,
        coze: Coze,
        dataset_id: str,
        *,
        poll_interval_s: float = 2.0,
        poll_timeout_s: float = 300.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not dataset_id:
            raise KnowledgeExportFailed("a Coze knowledge base id (dataset_id) is required")
        self.coze = coze
        self.dataset_id = dataset_id
        self.poll_interval_s = poll_interval_s
        self.poll_timeout_s = poll_timeout_s
        self._sleep = sleep

    def documents(self) -> list[tuple[str, str]]:
        """(document id, name) of every document in the knowledge base."""
        try:
            pages = self.coze.datasets.documents.list(dataset_id=self.dataset_id, page_size=50)
            return [(d.document_id, d.name) for d in pages]
        except CozeAPIError as e:
            raise KnowledgeExportFailed(f"listing documents of {self.dataset_id} failed: {e}") from e

    def push(self, pairs: Sequence[QAPair], *, prune: bool = True) -> KnowledgeExportReport:
        """Create new pairs, replace changed ones, optionally delete ours that are no longer approved.

        Documents not written by this exporter are never touched.
        """
        report = KnowledgeExportReport()
        existing = self.documents()
        wanted = {p.key: p for p in pairs}
        ours: dict[str, list[tuple[str, str]]] = {}
        for doc_id, name in existing:
            tag = parse_document_name(name)
            if tag:
                ours.setdefault(tag[0], []).append((doc_id, tag[1]))
        to_delete: list[str] = []
        to_create: list[QAPair] = []
        for key, pair in wanted.items():
            docs = ours.get(key, [])
            if any(h == pair.content_hash for _, h in docs):
                report.unchanged += 1
                to_delete += [d for d, h in docs if h != pair.content_hash]
            else:
                to_delete += [d for d, _ in docs]
                to_create.append(pair)
        if prune:
            to_delete += [d for key, docs in ours.items() if key not in wanted for d, _ in docs]
        try:
            for batch in _batches(to_delete, MAX_DELETE_BATCH):
                self.coze.datasets.documents.delete(document_ids=batch)
                report.deleted += batch
            first_upload = not existing
            for start in range(0, len(to_create), MAX_CREATE_BATCH):
                created = self.coze.datasets.documents.create(
                    dataset_id=self.dataset_id,
                    document_bases=[
                        DocumentBase(
                            name=p.document_name,
                            source_info=DocumentSourceInfo.build_local_file(p.document_text, "txt"),
                            update_rule=DocumentUpdateRule.build_no_auto_update(),
                        )
                        for p in to_create[start : start + MAX_CREATE_BATCH]
                    ],
                    # the chunking rule can only be set by the first upload to a knowledge base
                    chunk_strategy=DocumentChunkStrategy.build_auto() if first_upload else None,
                )
                first_upload = False
                report.created += [d.document_id for d in created]
        except CozeAPIError as e:
            raise KnowledgeExportFailed(f"knowledge-base update failed: {e}") from e
        self._wait(report)
        logger.info(
            "kb.push dataset=%s created=%d deleted=%d unchanged=%d failed=%d pending=%d",
            self.dataset_id,
            len(report.created),
            len(report.deleted),
            report.unchanged,
            len(report.failed),
            len(report.pending),
        )
        return report

    def _wait(self, report: KnowledgeExportReport) -> None:
        waiting = list(report.created)
        deadline = time.monotonic() + self.poll_timeout_s
        while waiting:
            still: list[str] = []
            try:
                for batch in _batches(waiting, MAX_DELETE_BATCH):
                    polled = self.coze.datasets.process(dataset_id=self.dataset_id, document_ids=batch)
                    for progress in polled:
                        if progress.status == DocumentStatus.FAILED:
                            report.failed.append(progress.document_id)
                        elif progress.status == DocumentStatus.PROCESSING:
                            still.append(progress.document_id)
            except CozeAPIError as e:
                raise KnowledgeExportFailed(f"polling document processing failed: {e}") from e
            waiting = still
            if waiting and time.monotonic() >= deadline:
                report.pending = waiting
                return
            if waiting:
                self._sleep(self.poll_interval_s)


def push_qa_pairs(
    pairs: Sequence[tuple[str, str]], settings: CozeSettings, *, prune: bool = True, coze: Coze | None = None
) -> KnowledgeExportReport:
    """Push (question, answer) pairs to the knowledge base of ``settings`` (what the review side calls)."""
    kb = CozeKnowledgeBase(
        coze or build_coze(settings),
        settings.dataset_id,
        poll_interval_s=settings.poll_interval_s,
        poll_timeout_s=settings.poll_timeout_s,
    )
    return kb.push([QAPair(q, a) for q, a in pairs], prune=prune)

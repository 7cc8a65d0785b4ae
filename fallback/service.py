"""The online path: mask -> (cache) -> embed -> retrieve -> gate -> answer / review / hand-off, logged.

``FallbackService`` is framework-free: the FastAPI layer only translates HTTP to ``FallbackRequest``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from fallback.core import gating
from fallback.core.domain import Action, Decision, KeyMatch, Ranked
from fallback.core.gating import Calibration, Policy, Verdict
from fallback.core.masking import mask, mask_mapping, pseudonymize
from fallback.core.normalize import cache_key, normalize
from fallback.core.safety import SafetyPolicy, detect_injection
from fallback.logs import new_trace_id, trace_id_var
from fallback.retrieval.answer_index import AnswerIndex, use_one_search_thread
from fallback.retrieval.grouping import BatchGrouping, CandidateGrouper
from fallback.scoring.serving import Retrainer, ScorerSlot
from fallback.settings import Settings
from fallback.store import answers as answers_repo
from fallback.store import candidates as cand_repo
from fallback.store import events as events_repo
from fallback.store.db import Database, GroupCommit
from fallback.store.prepared import Tx
from models.ports import Embedder, Vectors

log = logging.getLogger(__name__)
# the normalised form of answer keys, which recur in every search (normalising is pure Python)
_key_form = lru_cache(maxsize=1 << 16)(cache_key)


@dataclass(frozen=True)
class FallbackRequest:
    """What the bot sends when no intent matched (already validated by the API layer)."""

    query: str
    user_id: str
    conversation_id: str
    message_id: str | None = None
    bot_id: str | None = None
    history: list[dict[str, str]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    locale: str = "zh-CN"
    client: dict[str, str] = field(default_factory=dict)  # Coze headers: logged, never trusted


@dataclass(frozen=True)
class FallbackResult:
    """What the bot gets back."""

    action: str
    answer: str
    confidence: float
    answer_id: int | None
    candidate_id: int | None
    reason: str
    trace_id: str
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action, "answer": self.answer, "confidence": round(self.confidence, 4),
            "answer_id": self.answer_id, "candidate_id": self.candidate_id, "reason": self.reason,
            "trace_id": self.trace_id,
        }


T = TypeVar("T")


@dataclass(eq=False)
class _Call:
    """One call on its way through :meth:`FallbackService.handle_many`."""

    req: FallbackRequest
    started: float
    trace_id: str
    text: str  # normalised, masked
    key: str  # the exact-repeat cache's key
    slots: dict[str, Any]
    history: list[dict[str, str]]
    risk: list[str]
    matches: list[KeyMatch] = field(default_factory=list)
    vector: Vectors | None = None
    cached: bool = False
    scorer: str = "vote"  # which scorer decided: "vote" or "learned:v<version>"


class RepeatCache:
    """Exact-repeat cache: normalised masked query -> key matches, valid for one index version.

    Entries are kept as plain tuples of ints, floats and strings (and the query's vector), which the
    garbage collector stops tracking after they survive one pass; as ``KeyMatch`` objects, a full
    cache of 10,000 entries was ~120,000 tracked objects, and every full collection walked them:
    84 ms per pass in process, the serving P99's largest stall (docs/benchmarks.md, "Fifth round").
    A hit builds its ``KeyMatch`` list again (~10 small objects).
    """

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict[str, tuple[int, tuple[tuple[int, int, float, str], ...], Vectors]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, version: int) -> tuple[list[KeyMatch], Vectors] | None:
        with self._lock:
            item = self._data.get(key)
            if item is None or item[0] != version:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
        return [KeyMatch(*m) for m in item[1]], item[2]

    def put(self, key: str, version: int, matches: list[KeyMatch], vector: Vectors) -> None:
        if self.size <= 0:
            return
        flat = tuple((m.key_id, m.answer_id, m.score, m.text) for m in matches)
        with self._lock:
            self._data[key] = (version, flat, vector)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)


class FallbackService:
    """Wires the pure policy to the index, the store and the grouper."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        embedder: Embedder,
        index: AnswerIndex,
        calibration: Calibration,
        safety: SafetyPolicy,
        *,
        drafting_enabled: bool,
    ):
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.index = index
        self.calibration = calibration
        self.safety = safety
        self.drafting_enabled = drafting_enabled
        g = settings.gating
        self.policy = Policy(
            answer_threshold=(
                g.answer_threshold if g.answer_threshold is not None else calibration.answer_threshold
            ),
            suggest_threshold=g.suggest_threshold if g.suggest_threshold is not None
            else calibration.suggest_threshold,
            min_confidence=g.min_confidence,
        )
        grouping = settings.drafting.grouping_threshold
        self.grouper = CandidateGrouper(
            embedder, db, grouping if grouping is not None else calibration.grouping_threshold
        )
        self.cache = RepeatCache(g.cache_size)
        auth = settings.auth
        self._pseudonym_key = (
            auth.pseudonym_key.get_secret_value() if auth.pseudonym_key
            else "ids:" + auth.session_secret.get_secret_value()
        )
        # SQLite has one writer: queue this process's writes and commit concurrent ones together
        self._writer = GroupCommit(db) if db.is_sqlite else None
        # the shop's learned scorer (None until one is trained; the vote serves meanwhile)
        self.scorer = ScorerSlot(db, embedder.model_id, g.learned_target) if g.scorer == "learned" else None
        self._retrainer: Retrainer | None = None

    def start(self) -> None:
        """Load the index, the open candidates and the newest learned scorer (call once before serving)."""
        self.index.open()
        self.grouper.refresh()
        if self.scorer is not None:
            try:
                self.scorer.refresh()
            except Exception:  # the store may be unreachable for a moment: the vote serves
                log.exception("scorer.refresh_failed")

    def start_background(self) -> None:
        """Poll for newer scorer versions and retrain in the background (the API process)."""
        g = self.settings.gating
        if self.scorer is not None and self._retrainer is None:
            self._retrainer = Retrainer(self.db, self.embedder, self.scorer, every_s=g.retrain_check_s,
                                        after=g.retrain_after, train=g.retrain_in_server)
            self._retrainer.start()

    def stop_background(self) -> None:
        """Stop what :meth:`start_background` started."""
        if self._retrainer is not None:
            self._retrainer.stop()
            self._retrainer = None

    def scorer_status(self) -> dict[str, Any]:
        """The scorer in force, for /readyz and the startup log."""
        if self.scorer is None:
            return {"scorer": "vote", "reason": "gating.scorer = vote"}
        served = self.scorer.current
        if served is None:
            return {"scorer": "vote", "reason": "no learned scorer trained yet"}
        if served.threshold is None:
            return {"scorer": "vote", "reason": f"learned v{served.version} cannot prove {served.target}",
                    "learned": served.describe()}
        return {"scorer": "learned", "learned": served.describe()}

    # ------------------------------------------------------------------------------------------
    def handle(self, req: FallbackRequest) -> FallbackResult:
        """Decide, log and (when needed) queue a draft for one bot call."""
        outcome = self.handle_many([req])[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    def handle_many(self, reqs: list[FallbackRequest]) -> list[FallbackResult | Exception]:
        """:meth:`handle` for several calls at once: one forward pass embeds every query not in the
        repeat cache, one FAISS call searches them, one transaction logs them all. Each call gets its
        own result or its own exception (a failing call never fails the others)."""
        use_one_search_thread()
        self.index.maybe_sync()
        out: list[FallbackResult | Exception | None] = [None] * len(reqs)
        calls: list[tuple[int, _Call]] = []
        for i, req in enumerate(reqs):
            try:
                calls.append((i, self._prepare(req)))
            except Exception as e:
                out[i] = e
        for i, error in self._retrieve([c for _, c in calls]).items():
            out[calls[i][0]] = error
        ready = [(i, c) for i, c in calls if out[i] is None]
        for (i, _), outcome in zip(ready, self._log_all([c for _, c in ready]), strict=True):
            out[i] = outcome
        return [o if o is not None else RuntimeError("call not handled") for o in out]

    def pseudonym(self, value: str) -> str:
        """The keyed hash stored and logged in place of a user or conversation id."""
        return pseudonymize(value, self._pseudonym_key)

    def _prepare(self, req: FallbackRequest) -> _Call:
        """Mask and normalise the query and history; risk terms; the exact-repeat cache."""
        started = time.perf_counter()
        # ids become keyed hashes before anything stores or logs them (a user id may be a phone number)
        ids = {"user_id", "conversation_id"}
        req = replace(
            req, user_id=self.pseudonym(req.user_id), conversation_id=self.pseudonym(req.conversation_id),
            client={k: self.pseudonym(v) if k in ids else v for k, v in req.client.items()},
        )
        masked = mask(normalize(req.query))
        text = masked.text
        slots = mask_mapping(dict(req.slots))
        if masked.order_ids and "order_id" not in slots:
            slots["order_id"] = masked.order_ids[0]
        turns = self.settings.drafting.history_turns
        history = [
            {"role": str(t.get("role", "user")), "content": mask(normalize(str(t.get("content", "")))).text}
            for t in req.history[-turns:]
        ] if turns else []
        risk = sorted(set(self.safety.risk_terms(text)) | set(detect_injection(text)))
        key = cache_key(text)
        call = _Call(req, started, new_trace_id(), text, key, slots, history, risk)
        trace_id_var.set(call.trace_id)  # what this thread logs next belongs to this call
        cached = self.cache.get(key, self.index.version)
        if cached is not None:
            call.matches, call.vector = cached
            call.cached = True
        return call

    def _retrieve(self, calls: list[_Call]) -> dict[int, Exception]:
        """Embed and search the calls the cache did not answer; {position: error} for those that failed."""
        todo = [(pos, c) for pos, c in enumerate(calls) if not c.cached]
        if not todo:
            return {}
        try:
            vectors = self.embedder.encode([c.text for _, c in todo])
            found = self.index.search_batch(vectors, self.settings.gating.top_k)
        except Exception as e:
            if len(todo) == 1:
                return {todo[0][0]: e}
            errors: dict[int, Exception] = {}
            for pos, c in todo:  # find the one that fails, as if each had come alone
                if failed := self._retrieve([c]):
                    errors[pos] = failed[0]
            return errors
        version = self.index.version
        for row, ((_, call), matches) in enumerate(zip(todo, found, strict=True)):
            call.vector, call.matches = vectors[row : row + 1].copy(), matches
            self.cache.put(call.key, version, matches, call.vector)
        return {}

    def _log_all(self, calls: list[_Call]) -> list[FallbackResult | Exception]:
        """Decide and log every call, in one transaction when they all succeed."""
        if not calls:
            return []
        grouping = self.grouper.batch([c.vector for c in calls])  # one index search for the batch
        ranked = [self._rank(c) for c in calls]
        verdicts = self._verdicts(calls, ranked)  # one learned-scorer pass for the batch
        writes = [self._decision(c, row, grouping, ranked[row], verdicts[row]) for row, c in enumerate(calls)]
        if len(writes) > 1:
            try:
                results: list[FallbackResult | Exception] = list(
                    self._write(lambda tx: [w(tx) for w in writes])
                )
            except Exception:
                results = [self._log_one(c, w) for c, w in zip(calls, writes, strict=True)]
        else:
            results = [self._log_one(calls[0], writes[0])]
        for call, result in zip(calls, results, strict=True):
            if isinstance(result, FallbackResult) and not result.replayed:
                trace_id_var.set(call.trace_id)
                log.info("fallback.decided trace_id=%s action=%s reason=%s confidence=%.3f scorer=%s "
                         "latency_ms=%.1f", call.trace_id, result.action, result.reason, result.confidence,
                         call.scorer,
                         (time.perf_counter() - call.started) * 1000)
        return results

    def _log_one(self, call: _Call, write: Callable[[Tx], FallbackResult]) -> FallbackResult | Exception:
        req = call.req
        try:
            return self._write(write)
        except IntegrityError as e:
            # the same (conversation_id, message_id) was logged concurrently: answer as that call did
            prior = self.db.run_tx(lambda tx: events_repo.find(tx, req.conversation_id, req.message_id))
            if prior is None:
                return e
            return self._replay(prior.response, prior.trace_id)
        except Exception as e:
            return e

    def _rank(self, call: _Call) -> Ranked:
        key, matches = call.key, call.matches
        exact = frozenset(m.answer_id for m in matches if _key_form(m.text) == key) if key else frozenset()
        return gating.rank(matches, self.calibration.vote_k, exact)

    def _verdicts(self, calls: list[_Call], ranked: list[Ranked]) -> list[Verdict | None]:
        """The learned scorer's verdicts (None where the vote decides: no model, exact repeats)."""
        out: list[Verdict | None] = [None] * len(calls)
        if self.scorer is None or self.scorer.current is None:
            return out
        todo = [i for i, r in enumerate(ranked) if r.features is not None and not r.features.exact]
        found = self.scorer.verdicts(
            [calls[i].text for i in todo], [calls[i].vector for i in todo], [calls[i].matches for i in todo],
            [ranked[i].answers[0][0] for i in todo],
        )
        for i, v in zip(todo, found, strict=True):
            out[i] = v
        return out

    def _decision(
        self, call: _Call, row: int, grouping: BatchGrouping, ranked: Ranked, verdict: Verdict | None
    ) -> Callable[[Tx], FallbackResult]:
        """The transaction function that decides and logs ``call`` (safe to run again on a retry)."""
        req, text, matches = call.req, call.text, call.matches
        top_id = ranked.answers[0][0] if ranked.answers else None
        served_id = verdict.answer_id if verdict is not None else top_id
        call.scorer = f"learned:v{verdict.version}" if verdict is not None else "vote"
        top_key = next(
            (m.text for m in sorted(matches, key=lambda m: -m.score) if m.answer_id == served_id), ""
        )
        number_conflict = gating.numbers_conflict(text, top_key)

        references = [
            {"answer_id": a_id, "score": round(score, 4)} for a_id, score in ranked.answers[:5]
        ]

        def write(tx: Tx) -> FallbackResult:
            # one transaction: a retry already answered (idempotency), the best answer's current state,
            # the decision on it, and what the decision writes
            prior = events_repo.find(tx, req.conversation_id, req.message_id)
            if prior is not None:
                return self._replay(prior.response, prior.trace_id)
            answer = answers_repo.gate_view(tx, served_id) if served_id is not None else None
            banned = self.safety.banned_terms(answer.text) if answer else []
            decision = gating.decide(
                ranked, answer, calibration=self.calibration, policy=self.policy,
                now=datetime.now(UTC), risk_terms=call.risk + self.safety.semantic_signals(call.vector),
                banned_terms=banned,
                number_conflict=number_conflict,
                verdict=verdict if answer is not None and verdict is not None else None,
            )
            candidate_id = None
            if decision.request_draft:
                assert call.vector is not None
                candidate_id = self._enqueue(
                    tx, text, call.vector, grouping, row, decision, references, call.history, call.slots
                )
            if decision.action == Action.ANSWER and decision.answer_id is not None:
                answers_repo.add_hits(tx, {decision.answer_id: 1})
            result = self._result(decision, call.trace_id, candidate_id)
            events_repo.insert_event(
                tx, trace_id=call.trace_id, conversation_id=req.conversation_id, message_id=req.message_id,
                user_id=req.user_id, bot_id=req.bot_id, locale=req.locale, query=text,
                action=str(decision.action), reason=decision.reason, confidence=decision.confidence,
                top_score=ranked.features.top_score if ranked.features else 0.0,
                answer_id=decision.answer_id, candidate_id=candidate_id,
                latency_ms=(time.perf_counter() - call.started) * 1000, cached=call.cached,
                scorer=call.scorer,
                matches=[{"key_id": m.key_id, "answer_id": m.answer_id, "score": round(m.score, 4)}
                         for m in matches[:5]],
                slots=call.slots, client=mask_mapping(dict(req.client)), response=result.as_dict(),
            )
            return result

        return write

    def _write(self, fn: Callable[[Tx], T]) -> T:
        if self._writer is None:
            return self.db.run_tx(fn, immediate=True)
        return self._writer.run(fn)

    def _enqueue(
        self, tx: Tx, text: str, vector: Vectors, grouping: BatchGrouping, row: int, decision: Decision,
        references: list[dict[str, Any]], history: list[dict[str, str]], slots: dict[str, Any],
    ) -> int:
        existing = cand_repo.find_pending_by_text(tx, text)
        if existing is not None:
            cand_repo.attach(tx, existing, text, 1.0)
            return existing
        for cand_id, sim in grouping.nearest(row):
            if cand_repo.attach(tx, cand_id, text, sim):
                return cand_id
            grouping.discard([cand_id])
        cand_id = cand_repo.create(
            tx, text=text, risk=bool(decision.risk_terms), references=references,
            context={"history": history, "slots": slots, "risk_terms": list(decision.risk_terms)},
            draft=self.drafting_enabled,
        )
        grouping.add(cand_id, vector)
        return cand_id

    def _result(self, d: Decision, trace_id: str, candidate_id: int | None) -> FallbackResult:
        answered = d.action == Action.ANSWER
        text = d.answer_text if answered and d.answer_text else self.settings.gating.handoff_text
        return FallbackResult(str(d.action), text, d.confidence, d.answer_id if answered else None,
                              candidate_id, d.reason, trace_id)

    def _replay(self, stored: dict[str, Any], trace_id: str) -> FallbackResult:
        return FallbackResult(
            stored["action"], stored["answer"], float(stored.get("confidence", 0.0)), stored.get("answer_id"),
            stored.get("candidate_id"), stored.get("reason", ""), stored.get("trace_id", trace_id),
            replayed=True,
        )

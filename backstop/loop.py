"""Closed-loop simulator: replay a labelled intent dataset as N days of traffic through the real service.

Each day: queries of intents the bot already knows never reach Backstop (bot coverage); the rest go to
the real app (``POST /v1/fallback`` in-process) with the real store, index and gate. A simulated
reviewer then works the real review API within a daily budget, using the gold labels: it approves a
pure candidate group (writing the answer for its label) and rejects a mixed or out-of-scope one.
Nightly, the real mining pipeline clusters the day's unanswered queries and every candidate intent
pure enough is "imported" into the bot. Everything is measured against the gold labels.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fallback.core.masking import mask
from fallback.core.normalize import normalize
from fallback.evaluation.datasets import OOS, IntentExample
from models.ports import Embedder

log = logging.getLogger(__name__)
TOKEN = "loop-simulator-token-0123456789"


@dataclass(frozen=True)
class LoopOptions:
    """Knobs of the simulation (defaults: a bot that knows 85% of the intents, 14 days)."""

    days: int = 14
    per_day: int = 600
    known_share: float = 0.85
    review_budget: int = 40
    purity: float = 0.9
    import_min_size: int = 8
    seed: int = 0


@dataclass
class DayStats:
    day: int
    traffic: int
    bot: int
    auto_answers: int
    wrong: int
    handoffs: int
    review_actions: int
    approved: int
    imported_intents: int
    coverage: float = 0.0
    wrong_rate: float = 0.0


@dataclass
class LoopResult:
    days: list[DayStats] = field(default_factory=list)
    seconds: float = 0.0

    def summary(self, options: LoopOptions) -> dict[str, Any]:
        traffic = sum(d.traffic for d in self.days)
        auto = sum(d.auto_answers for d in self.days)
        wrong = sum(d.wrong for d in self.days)
        crossed = next((d.day for d in self.days if d.coverage >= 0.97), None)
        return {
            "final_coverage": self.days[-1].coverage if self.days else 0.0,
            "initial_coverage": self.days[0].coverage if self.days else 0.0,
            "wrong_answer_rate": round(wrong / auto, 4) if auto else 0.0,
            "wrong_answers": wrong,
            "days_to_97": crossed,
            "review_actions": sum(d.review_actions for d in self.days),
            "auto_answers": auto,
            "handoffs": sum(d.handoffs for d in self.days),
            "imported_intents": sum(d.imported_intents for d in self.days),
            "traffic": traffic,
            "options": asdict(options),
            "per_day": [asdict(d) for d in self.days],
            "seconds": round(self.seconds, 1),
        }


def _key(text: str) -> str:
    return mask(normalize(text)).text


def simulate(
    rows: Sequence[IntentExample],
    embedder: Embedder,
    options: LoopOptions,
    *,
    workdir: Path | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> LoopResult:
    """Run the simulation (see module docstring)."""
    from fastapi.testclient import TestClient

    from fallback.api.app import create_app
    from fallback.runtime import build_runtime
    from fallback.settings import Settings
    from fallback.store import users as users_repo
    from mining.build import build_pipeline
    from mining.settings import MiningSettings

    started = time.perf_counter()
    rng = np.random.default_rng(options.seed)
    labels = sorted({r.label for r in rows if r.label != OOS})
    known = {str(x) for x in rng.choice(labels, round(options.known_share * len(labels)), replace=False)}
    gold: dict[str, str] = {}
    for r in rows:
        gold.setdefault(_key(r.text), r.label)
    result = LoopResult()
    with tempfile.TemporaryDirectory(prefix="backstop-loop-") as tmp:
        base = workdir or Path(tmp)
        settings = Settings(
            data_dir=base,
            seed_demo=False,
            generator={"backend": "none"},
            auth={"service_tokens": [TOKEN], "session_secret": "loop-session-secret-0123456789"},
            drafting={"in_process_worker": False},
            server={"user_rate_per_s": 0},
        )
        rt = build_runtime(settings, embedder=embedder, generator=None)
        token = rt.db.run(
            lambda s: (
                users_repo.create(s, "sim", "simulated-reviewer", "reviewer"),
                users_repo.issue_token(s, "sim"),
            )[1]
        )
        pipeline = build_pipeline(MiningSettings(seed=options.seed), embedder)
        answer_label: dict[int, str] = {}
        with TestClient(create_app(settings, runtime=rt)) as client:
            hook = {"X-Backstop-Token": TOKEN}
            reviewer = {"Authorization": f"Bearer {token}"}
            for day in range(1, options.days + 1):
                batch = [rows[i] for i in rng.integers(0, len(rows), options.per_day)]
                stats = DayStats(day, len(batch), 0, 0, 0, 0, 0, 0, 0)
                unanswered: list[str] = []
                for n, r in enumerate(batch):
                    if r.label in known:
                        stats.bot += 1
                        continue
                    resp = client.post(
                        "/v1/fallback",
                        headers=hook,
                        json={
                            "query": r.text,
                            "user_id": f"u{n % 97}",
                            "conversation_id": f"d{day}-{n}",
                            "message_id": "1",
                        },
                    ).json()
                    if resp["action"] == "answer":
                        stats.auto_answers += 1
                        if answer_label.get(resp["answer_id"]) != r.label:
                            stats.wrong += 1
                    else:
                        stats.handoffs += 1
                        unanswered.append(r.text)
                stats.coverage = round((stats.bot + stats.auto_answers - stats.wrong) / stats.traffic, 4)
                stats.wrong_rate = round(stats.wrong / stats.auto_answers, 4) if stats.auto_answers else 0.0
                _review(client, reviewer, gold, options, stats, answer_label)
                stats.imported_intents = _mine(pipeline, unanswered, gold, options, known)
                result.days.append(stats)
                progress(
                    f"day {day}: coverage {stats.coverage:.3f}, auto {stats.auto_answers}, wrong "
                    f"{stats.wrong}, reviewed {stats.review_actions}, imported {stats.imported_intents}"
                )
        rt.close()
    result.seconds = time.perf_counter() - started
    return result


def _review(
    client: Any,
    headers: dict[str, str],
    gold: dict[str, str],
    options: LoopOptions,
    stats: DayStats,
    answer_label: dict[int, str],
) -> None:
    """The simulated reviewer: approve pure groups with the label's answer, reject the rest.

    Like a person who knows the answer library, it attaches a group to the label's existing answer
    (its queries become more paraphrase keys) rather than writing the same answer twice.
    """
    by_label = {lab: aid for aid, lab in answer_label.items()}
    page = client.get(
        "/v1/review/candidates", headers=headers, params={"sort": "frequency", "limit": options.review_budget}
    ).json()
    for cand in page["items"]:
        votes: Counter[str] = Counter()
        for ex in cand["examples"]:
            votes[gold.get(ex["text"], OOS)] += ex["count"]
        label, n = votes.most_common(1)[0]
        stats.review_actions += 1
        if label != OOS and n / sum(votes.values()) >= options.purity:
            keys = [ex["text"] for ex in cand["examples"] if gold.get(ex["text"]) == label]
            body: dict[str, Any] = {
                "version": cand["version"],
                "text": f"[{label}] 的标准答复",
                "paraphrases": keys,
                "label": label,
                "safe_to_autosend": True,
            }
            if label in by_label:
                existing = client.get(f"/v1/review/answers/{by_label[label]}", headers=headers).json()
                body.update(answer_id=existing["id"], answer_version=existing["version"])
            r = client.post(f"/v1/review/candidates/{cand['id']}/approve", headers=headers, json=body)
            if r.status_code == 200:
                answer_label[r.json()["answer"]["id"]] = label
                by_label[label] = r.json()["answer"]["id"]
                stats.approved += 1
        else:
            client.post(
                f"/v1/review/candidates/{cand['id']}/reject",
                headers=headers,
                json={"version": cand["version"], "reason": "mixed or out of scope"},
            )


def _mine(
    pipeline: Any, texts: list[str], gold: dict[str, str], options: LoopOptions, known: set[str]
) -> int:
    """Nightly mining of the day's unanswered queries; import the pure clusters' intents into the bot."""
    if len(texts) < 2 * options.import_min_size:
        return 0
    mined = pipeline.run(texts)
    imported = 0
    members: dict[int, Counter[str]] = {}
    for utt, lab in zip(mined.utterances, mined.labels, strict=True):
        if lab < 0:
            continue
        members.setdefault(int(lab), Counter())[gold.get(_key(utt.text), OOS)] += utt.count
    for votes in members.values():
        label, n = votes.most_common(1)[0]
        size = sum(votes.values())
        if (
            label != OOS
            and size >= options.import_min_size
            and n / size >= options.purity
            and label not in known
        ):
            known.add(label)
            imported += 1
    return imported


def plot(result: LoopResult, path: Path) -> Path:
    """Coverage and wrong-answer rate per day, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    days = [d.day for d in result.days]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(days, [d.coverage for d in result.days], marker="o", label="automated coverage")
    ax.plot(days, [d.wrong_rate for d in result.days], marker="x", label="wrong auto-answer rate")
    ax.axhline(0.97, ls="--", c="grey", lw=0.8)
    ax.set_xlabel("day")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

"""Approve-to-served latency: how long from a reviewer's approval until the webhook serves the answer.

python scripts/bench_approve.py [--keys 15000] [--rounds 20]

Seeds an index of CLINC150 train texts as approved answers (150 answers, --keys keys), then repeats:
an unknown query opens a candidate, the review API approves it (over HTTP, in-process ASGI), and the
clock stops when the next webhook call for that query returns `answer`. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from fallback.api.app import create_app
from fallback.runtime import build_runtime
from fallback.settings import Settings
from fallback.store import answers as answers_repo
from fallback.store import users as users_repo

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "clinc150" / "clinc150_full.jsonl"
TOKEN = "bench-token-0123456789abcdef"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=15000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    by_label: dict[str, list[str]] = {}
    for line in DATA.open(encoding="utf-8"):
        row = json.loads(line)
        if row["split"] == "train" and row["label"] != "oos":
            by_label.setdefault(row["label"], []).append(row["text"])
    per = max(1, args.keys // len(by_label))
    # distinct unanswered questions: one SMP2017 test text per label (different intents, no templates)
    smp = DATA.parents[1] / "smp2017_ecdt" / "smp2017_ecdt_task1.jsonl"
    seen: dict[str, str] = {}
    for line in smp.open(encoding="utf-8"):
        row = json.loads(line)
        if row["split"] == "test":
            seen.setdefault(row["label"], row["text"])
    fresh = list(seen.values())
    args.rounds = min(args.rounds, len(fresh))
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            auth={"service_tokens": [TOKEN], "session_secret": "x" * 32},  # type: ignore[arg-type]
            server={"user_rate_per_s": 0},
            drafting={"in_process_worker": False},
        )  # type: ignore[arg-type]
        rt = build_runtime(settings, generator=None, start=False)

        def seed(s):  # type: ignore[no-untyped-def]
            for label, texts in by_label.items():
                answers_repo.create(s, question=texts[0], text=f"[{label}]", keys=texts[1:per], actor="bench")
            users_repo.create(s, "bench", "bench-password", "reviewer")
            return users_repo.issue_token(s, "bench")

        token = rt.db.run(seed)
        rt.service.start()
        keys = len(rt.index)
        served = []
        with TestClient(create_app(settings, runtime=rt)) as client:
            hook, rev = {"X-Backstop-Token": TOKEN}, {"Authorization": f"Bearer {token}"}
            for i in range(args.rounds):
                query = fresh[i]
                first = client.post(
                    "/v1/fallback",
                    headers=hook,
                    json={"query": query, "user_id": "u", "conversation_id": f"a{i}", "message_id": "1"},
                ).json()
                cid = first["candidate_id"]
                assert cid is not None, first
                cand = client.get(f"/v1/review/candidates/{cid}", headers=rev).json()
                assert "version" in cand, (cid, cand)
                version = cand["version"]
                started = time.perf_counter()
                client.post(
                    f"/v1/review/candidates/{cid}/approve",
                    headers=rev,
                    json={"version": version, "text": f"主播{i}号"},
                )
                got = client.post(
                    "/v1/fallback",
                    headers=hook,
                    json={"query": query, "user_id": "u", "conversation_id": f"b{i}", "message_id": "1"},
                ).json()
                assert got["action"] == "answer", got
                served.append((time.perf_counter() - started) * 1000)
        rt.close()
    served.sort()
    print(
        json.dumps(
            {
                "index_keys": keys,
                "rounds": len(served),
                "p50_ms": round(statistics.median(served), 1),
                "p95_ms": round(served[int(0.95 * (len(served) - 1))], 1),
                "max_ms": round(served[-1], 1),
            }
        )
    )


if __name__ == "__main__":
    main()

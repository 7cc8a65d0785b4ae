"""``backstop worker``: drafting workers as separate processes (run as many as the generator takes).

Settings from the environment, as for ``backstop serve``. Stop it with SIGTERM or Ctrl-C: it stops
claiming and waits up to ``--grace`` seconds for drafts in progress; a job it could not finish is
retaken by another worker once its lease runs out.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

import typer

log = logging.getLogger(__name__)


def register(app: typer.Typer, *, prepare_database: Callable[[str], str | None]) -> None:
    """Add the ``worker`` command to the root CLI (``prepare_database`` migrates an embedded database)."""

    @app.command()
    def worker(
        concurrency: int = typer.Option(None, min=1, max=64, help="Drafting threads (default: settings)."),
        once: bool = typer.Option(False, "--once", help="Draft every job due now, print counts, exit."),
        requeue_dead: bool = typer.Option(
            False, "--requeue-dead", help="Put dead-lettered jobs back on the queue (tries reset) and exit."
        ),
        grace: float = typer.Option(30.0, min=0, help="Seconds to finish drafts in progress on SIGTERM."),
    ) -> None:
        """Draft answers for review candidates from the database queue (several workers may run)."""
        from fallback.core.safety import SafetyPolicy
        from fallback.drafting.jobs import DraftQueue
        from fallback.drafting.worker import DraftWorker, WorkerPool, embedder_similarity, new_worker_id
        from fallback.settings import load_settings
        from fallback.store.db import Database
        from models.factory import build_embedder, build_generator

        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        settings = load_settings()
        if concurrency:
            settings.drafting.concurrency = concurrency
        done = prepare_database(settings.resolved_database_url)
        if done:
            log.info("worker.schema_migrated %s", done)
        db = Database.connect(settings.resolved_database_url)
        queue = DraftQueue.from_settings(db, settings.drafting)
        if requeue_dead:
            typer.echo(json.dumps({"requeued": queue.requeue_dead()}))
            return
        generator = build_generator(settings.generator)
        if generator is None:
            typer.echo("nothing to draft with: set BACKSTOP_GENERATOR__BACKEND (openai or transformers)",
                       err=True)
            raise typer.Exit(2)
        gating = settings.gating
        drafter = DraftWorker(
            db, generator, SafetyPolicy.load(gating.risk_lexicon, gating.banned_lexicon),
            embedder_similarity(build_embedder(settings.embedder)), settings.drafting,
            max_new_tokens=settings.generator.max_new_tokens, temperature=settings.generator.temperature,
            queue=queue,
        )
        if once:
            worker_id = new_worker_id("once")
            queue.reap()
            while drafter.run_once(worker_id):
                pass
            typer.echo(json.dumps(queue.counts()))
            return

        stop = threading.Event()

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("worker.stopping signal=%d", signum)
            stop.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        pool = WorkerPool(drafter, settings.drafting, db, label="worker").start()
        log.info("worker.ready generator=%s database=%s", generator.name, db.engine.dialect.name)
        while not stop.wait(1.0):
            pass
        pool.stop(grace)
        log.info("worker.stopped drafts=%d", pool.processed)
        db.dispose()


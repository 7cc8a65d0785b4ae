"""Drafting: answers for review candidates, written by a generator from a durable database queue.

* :mod:`fallback.drafting.prompt`: the prompt (pure).
* :mod:`fallback.drafting.checks`: post-checks on a draft (pure, similarity injected).
* :mod:`fallback.drafting.jobs`: the ``draft_jobs`` queue (leases, retries, dead letters).
* :mod:`fallback.drafting.worker`: the worker and its thread pool (:func:`start_in_process`).
* :mod:`fallback.drafting.cli`: ``backstop worker``.

Nothing is imported here so that ``import fallback.drafting.prompt`` stays light.
"""

"""Which backends load, their dimension and load time, a Chinese sanity check (``backstop models check``)."""

from __future__ import annotations

import time

import numpy as np

from models.settings import EmbedderSettings, GeneratorSettings

SANITY = ("我的快递到哪里了", "帮我查一下包裹", "这件衣服有红色的吗")


def check_embedder(settings: EmbedderSettings) -> dict[str, object]:
    """Load one embedder and run the sanity check; never raises (the error goes in the row)."""
    from models.factory import build_embedder

    row: dict[str, object] = {"backend": settings.backend}
    started = time.perf_counter()
    try:
        emb = build_embedder(settings)
        row["load_s"] = round(time.perf_counter() - started, 2)
        v = emb.encode(list(SANITY))
        close, far = float(v[0] @ v[1]), float(v[0] @ v[2])
        row.update(
            model_id=emb.model_id,
            dimension=emb.dimension,
            version=emb.version,
            sim_close=round(close, 4),
            sim_far=round(far, 4),
            sane=close > far,
            unit_norm=bool(np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)),
            ok=True,
        )
    except Exception as e:  # report, don't crash: this is a diagnostic command
        row.update(ok=False, error=f"{type(e).__name__}: {e}")
    return row


def check_generator(settings: GeneratorSettings) -> dict[str, object]:
    """Build the configured generator and ask it for a short reply; never raises."""
    from models.factory import build_generator
    from models.ports import ChatMessage

    row: dict[str, object] = {"backend": f"generator:{settings.backend}", "model": settings.model}
    started = time.perf_counter()
    try:
        gen = build_generator(settings)
        if gen is None:
            row.update(ok=True, sane=True, note="no drafting: reviewers write answers")
            return row
        row["load_s"] = round(time.perf_counter() - started, 2)
        out = gen.generate([ChatMessage("user", "你好")], max_new_tokens=8)
        row.update(ok=True, sane=True, name=gen.name, latency_s=round(out.latency_s, 2))
    except Exception as e:  # diagnostic command: report, don't crash
        row.update(ok=False, error=f"{type(e).__name__}: {e}")
    return row


"""A self-contained HTML report of a mining run (plots inlined as base64 PNG, drawn with matplotlib Agg)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mining.domain import NOISE, MiningResult

#: Most points drawn on the report's 2-D map (a seeded sample beyond that).
MAP_POINTS = 20_000

_STYLE = """
body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:2em;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}
th{background:#f3f3f3}.new{color:#17602a}.merge_into{color:#8a5a00}.conflicts_with{color:#b00020;font-weight:bold}
details{margin:.6em 0}summary{cursor:pointer;font-weight:600}img{max-width:100%}.muted{color:#777}
"""


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _plots(result: MiningResult) -> tuple[str, str]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt

    # cluster ids, not names, on the axes: the default fonts have no CJK glyphs
    sizes = [i.volume for i in result.intents]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.bar(range(len(sizes)), sizes, color="#4c72b0")
    ax.set_xlabel("cluster # (largest first)")
    ax.set_ylabel("queries")
    ax.set_title("Cluster sizes")
    sizes_png = _png(fig)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 6))
    points, labels = result.map_2d, result.labels
    shown = np.flatnonzero(np.isfinite(points).all(axis=1)) if len(points) else np.zeros(0, np.int64)
    if len(shown) > MAP_POINTS:  # a scatter of a million points says no more and takes minutes
        shown = np.sort(np.random.default_rng(0).choice(shown, MAP_POINTS, replace=False))
    points, labels = points[shown], labels[shown]
    if len(points):
        noise = labels == NOISE
        ax.scatter(points[noise, 0], points[noise, 1], s=4, c="#bbbbbb", label="noise")
        ax.scatter(points[~noise, 0], points[~noise, 1], s=6, c=labels[~noise] % 20, cmap="tab20")
        for intent in result.intents[:40]:
            if not (labels == intent.cluster_id).any():
                continue
            centre = points[labels == intent.cluster_id].mean(axis=0)
            ax.annotate(str(intent.cluster_id), centre, fontsize=8, weight="bold")
    ax.set_title("2-D map of the queries (colour = cluster, grey = noise)")
    ax.set_xticks([])
    ax.set_yticks([])
    map_png = _png(fig)
    plt.close(fig)
    return sizes_png, map_png


def render_report(result: MiningResult, *, meta: Mapping[str, Any] | None = None) -> str:
    """The report as one HTML string: summary, plots, then every candidate with its examples and flags."""
    sizes_png, map_png = _plots(result)
    e = html.escape
    meta_rows = "".join(f"<tr><th>{e(str(k))}</th><td>{e(str(v))}</td></tr>" for k, v in (meta or {}).items())
    summary = (
        f"<tr><th>queries (rows)</th><td>{result.n_rows}</td></tr>"
        f"<tr><th>distinct utterances</th><td>{len(result.utterances)}</td></tr>"
        f"<tr><th>candidate intents</th><td>{len(result.intents)}</td></tr>"
        f"<tr><th>noise before attachment</th><td>{result.raw_noise_share:.1%}</td></tr>"
        f"<tr><th>noise after attachment</th><td>{result.noise_share:.1%}</td></tr>"
        f"<tr><th>embedder</th><td>{e(result.embedder)}</td></tr>"
        f"<tr><th>timings (s)</th><td>{e(str(result.timings))}</td></tr>"
    )
    rows = []
    for intent in result.intents:
        kind = intent.overlap.kind
        rows.append(
            f"<tr><td>{intent.cluster_id}</td><td><b>{e(intent.display_name)}</b><br>"
            f"<code>{e(intent.name)}</code></td>"
            f"<td>{e(intent.description)}</td><td>{intent.size}</td><td>{intent.volume}</td>"
            f"<td class='{kind}'>{e(intent.overlap.label)}<br><span class='muted'>"
            f"J={intent.overlap.jaccard:.2f} cos={intent.overlap.cosine:.2f}</span></td></tr>"
        )
    details = []
    for intent in result.intents:
        examples = "".join(f"<li>{e(x)}</li>" for x in intent.examples)
        entities = ", ".join(f"{e(x.name)}{' (required)' if x.required else ''}" for x in intent.entities)
        details.append(
            f"<details><summary>#{intent.cluster_id} {e(intent.display_name)} <code>{e(intent.name)}</code>"
            f" — {intent.volume} queries, "
            f"<span class='{intent.overlap.kind}'>{e(intent.overlap.label)}</span></summary>"
            f"<p>{e(intent.description)}</p><p class='muted'>keywords: {e('、'.join(intent.keywords))}</p>"
            f"<p>entities: {entities or '—'}<br>slot filling: {e(intent.slot_filling_prompt) or '—'}</p>"
            f"<ol>{examples}</ol></details>"
        )
    noise = [u.text for u, label in zip(result.utterances, result.labels, strict=True) if label == NOISE]
    noise_list = "".join(f"<li>{e(t)}</li>" for t in noise[:50])
    return (
        "<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>Backstop intent mining</title><style>{_STYLE}</style></head><body>"
        "<h1>Intent mining report</h1>"
        f"<table>{meta_rows}{summary}</table>"
        f"<h2>Cluster sizes</h2><img alt='cluster sizes' src='data:image/png;base64,{sizes_png}'>"
        f"<h2>Map</h2><img alt='2-D map' src='data:image/png;base64,{map_png}'>"
        "<h2>Candidates</h2><table><tr><th>#</th><th>name</th><th>description</th><th>distinct</th>"
        f"<th>queries</th><th>overlap</th></tr>{''.join(rows)}</table>"
        f"<h2>Examples per cluster</h2>{''.join(details)}"
        f"<h2>Unassigned (noise), first 50 of {len(noise)}</h2><ul>{noise_list}</ul>"
        "</body></html>"
    )


def write_report(result: MiningResult, path: Path, *, meta: Mapping[str, Any] | None = None) -> Path:
    """Write :func:`render_report` to ``path``."""
    path.write_text(render_report(result, meta=meta), encoding="utf-8")
    return path

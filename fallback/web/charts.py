"""Small server-side SVG charts (no JavaScript library): a line chart and a horizontal bar chart.

Pure functions from numbers to markup. Colours come from the console's stylesheet through class names,
so the charts follow the page's theme and need no inline styles (the CSP forbids them).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Formatter = Callable[[float], str]


def _num(v: float) -> str:
    return f"{v:.1f}".rstrip("0").rstrip(".")


def _percent(v: float) -> str:
    return f"{v * 100:.0f}%"


def nice_max(value: float, *, integer: bool = False, ticks: int = 4) -> float:
    """A round axis maximum at or above ``value``: ``ticks`` steps of 1, 2 or 5 times a power of ten.

    With ``integer`` a step is at least 1, so count axes never show fractions.
    """
    want = max(value, 0.0) / ticks
    if want <= 0:
        return float(ticks) if integer else 1.0
    power = 10.0 ** math.floor(math.log10(want))
    step = next(m * power for m in (1, 2, 5, 10) if want <= m * power * (1 + 1e-9))
    if integer:
        step = max(1.0, step)
    return step * ticks


def line_chart(
    points: Sequence[tuple[str, float | None]], *, percent: bool = False, label: str = "",
    width: int = 640, height: int = 220, fmt: Formatter | None = None, integer: bool = False,
) -> Markup:
    """A line over labelled x positions; ``None`` values leave a gap (e.g. a day without traffic).

    Args:
        points: ``(x label, value)`` in order.
        percent: values are shares in 0..1; the axis runs 0..100 %.
        label: the chart's accessible name.
        width: view-box width; the SVG scales to its container.
        height: view-box height.
        fmt: formats a value for tooltips and the axis (default: number or percent).
        integer: values are counts (whole-number axis steps).
    """
    show: Formatter = fmt or (_percent if percent else _num)
    left, right, top, bottom = 46, 14, 14, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, v in points if v is not None]
    y_max = 1.0 if percent else nice_max(max(values, default=0.0), integer=integer)
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max)

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    for k in range(5):
        v = y_max * k / 4
        parts.append(f'<line class="chart-grid" x1="{left}" x2="{width - right}" '
                     f'y1="{y(v):.1f}" y2="{y(v):.1f}"/>')
        parts.append(f'<text class="chart-axis" x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">'
                     f"{escape(show(v))}</text>")
    every = max(1, math.ceil(n / 8))
    for i, (name, _) in enumerate(points):
        if (n - 1 - i) % every == 0:  # counted from the end: the latest day always has a label
            parts.append(f'<text class="chart-axis" x="{x(i):.1f}" y="{height - 8}" text-anchor="middle">'
                         f"{escape(name)}</text>")
    segments: list[list[tuple[float, float]]] = [[]]
    for i, (_, value) in enumerate(points):
        if value is None:
            segments.append([])
        else:
            segments[-1].append((x(i), y(value)))
    for seg in segments:
        if len(seg) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in seg)
            base = f"{seg[-1][0]:.1f},{y(0):.1f} {seg[0][0]:.1f},{y(0):.1f}"
            parts.append(f'<polygon class="chart-area" points="{path} {base}"/>')
            parts.append(f'<polyline class="chart-line" points="{path}"/>')
    for i, (name, value) in enumerate(points):
        if value is not None:
            parts.append(f'<circle class="chart-dot" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5">'
                         f"<title>{escape(name)}: {escape(show(value))}</title></circle>")
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    items: Sequence[tuple[str, float]], *, label: str = "", width: int = 640, fmt: Formatter | None = None,
    classes: Sequence[str] | None = None,
) -> Markup:
    """Horizontal bars, one per ``(label, value)``, longest bar = largest value.

    Args:
        items: ``(label, value)`` rows, drawn top to bottom.
        label: the chart's accessible name.
        width: view-box width.
        fmt: formats the value printed after each bar.
        classes: an extra CSS class per bar (e.g. the action, to colour it).
    """
    show: Formatter = fmt or _num
    row, gap, name_w, value_w = 26, 8, 128, 64
    height = max(1, len(items)) * (row + gap) + gap
    top = max((v for _, v in items), default=0.0) or 1.0
    plot_w = width - name_w - value_w
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    for i, (name, v) in enumerate(items):
        y0 = gap + i * (row + gap)
        w = max(2.0, plot_w * v / top) if v > 0 else 0.0
        extra = f" chart-bar-{escape(classes[i])}" if classes and i < len(classes) else ""
        text_y = y0 + row * 0.68
        parts.append(f'<text class="chart-name" x="{name_w - 10}" y="{text_y:.1f}" text-anchor="end">'
                     f"{escape(name)}</text>")
        parts.append(f'<rect class="chart-bar{extra}" x="{name_w}" y="{y0}" width="{w:.1f}" height="{row}" '
                     'rx="4">'
                     f"<title>{escape(name)}: {escape(show(v))}</title></rect>")
        parts.append(f'<text class="chart-value" x="{name_w + w + 8:.1f}" y="{text_y:.1f}">'
                     f"{escape(show(v))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))

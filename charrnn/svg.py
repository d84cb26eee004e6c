"""Small inline SVG charts for the HTML pages (no plotting library, nothing fetched)."""

from __future__ import annotations

import html
import math

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.0e}"
    return f"{v:g}"


def line_chart(
    series: dict,
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    log_y: bool = False,
    width: int = 520,
    height: int = 260,
) -> str:
    """series: {name: [(x, y), ...]} drawn as lines (a single point as a dot)."""
    pts = [
        (x, y)
        for s in series.values()
        for x, y in s
        if y is not None and math.isfinite(y) and (not log_y or y > 0)
    ]
    if not pts:
        return (
            f"<svg width='{width}' height='40'><text x='4' "
            f"y='20' font-size='12'>{html.escape(title)}: no data</text></svg>"
        )
    fy = (lambda v: math.log10(v)) if log_y else (lambda v: v)
    x0, x1 = min(p[0] for p in pts), max(p[0] for p in pts)
    y0, y1 = min(fy(p[1]) for p in pts), max(fy(p[1]) for p in pts)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y0, y1 = y0 - 0.5, y1 + 0.5
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    left, right, top, bottom = 56, 12, 24, 38
    pw, ph = width - left - right, height - top - bottom

    def sx(x):
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y):
        return top + (1 - (fy(y) - y0) / (y1 - y0)) * ph

    parts = [
        f"<svg width='{width}' height='{height}' "
        f"class='chart'><rect x='{left}' y='{top}' width='{pw}' height='{ph}' fill='none' "
        f"stroke='#bbb'/>",
        f"<text x='{left}' y='15' font-size='12' font-weight='bold'>{html.escape(title)}</text>",
    ]
    for t in _ticks(x0, x1):
        parts.append(
            f"<text x='{sx(t):.1f}' y='{top + ph + 14}' font-size='10' "
            f"text-anchor='middle'>{_fmt(t)}</text>"
        )
    if log_y:
        yticks = [10.0**k for k in range(math.floor(y0), math.ceil(y1) + 1) if y0 <= k <= y1]
    else:
        yticks = _ticks(y0, y1)
    for t in yticks:
        y = top + (1 - ((math.log10(t) if log_y else t) - y0) / (y1 - y0)) * ph
        parts.append(
            f"<line x1='{left}' x2='{left + pw}' y1='{y:.1f}' y2='{y:.1f}' "
            f"stroke='#eee'/><text x='{left - 4}' y='{y + 3:.1f}' font-size='10' "
            f"text-anchor='end'>{_fmt(t)}</text>"
        )
    parts.append(
        f"<text x='{left + pw / 2}' y='{height - 4}' font-size='11' "
        f"text-anchor='middle'>{html.escape(x_label)}</text>"
    )
    parts.append(
        f"<text x='12' y='{top + ph / 2}' font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {top + ph / 2})'>{html.escape(y_label)}</text>"
    )
    for k, (name, s) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        good = [(x, y) for x, y in s if y is not None and math.isfinite(y) and (not log_y or y > 0)]
        if len(good) == 1:
            parts.append(
                f"<circle cx='{sx(good[0][0]):.1f}' cy='{sy(good[0][1]):.1f}' r='3' "
                f"fill='{color}'/>"
            )
        elif good:
            d = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
            parts.append(
                f"<polyline points='{d}' fill='none' stroke='{color}' stroke-width='1.6'/>"
            )
        parts.append(
            f"<text x='{left + pw - 4}' y='{top + 14 + 13 * k}' font-size='11' "
            f"text-anchor='end' fill='{color}'>{html.escape(str(name))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

"""Small inline SVG charts for the HTML pages (no plotting library, nothing fetched).

Axes fit what they show: a fixed range where the quantity has one (fractions 0 … 1), else the
data's range widened to round tick values; ticks in human units (2.5k, 10k; 1e-5 on log axes);
lines kept a few pixels inside the frame, so a flat series at an axis bound stays visible.
"""

from __future__ import annotations

import html
import math

from charrnn.render.numbers import tick

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#17becf"]
INSET = 4  # pixels between the frame and the extreme values


def nice_step(span: float, n: int = 5) -> float:
    raw = span / n
    mag = 10 ** math.floor(math.log10(raw))
    return next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw * 0.999)


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """Round values from lo to hi (both included when they are round themselves)."""
    if hi <= lo:
        return [lo]
    step = nice_step(hi - lo, n)
    first = math.ceil(lo / step - 1e-9) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 12) for i in range(count)]


def nice_range(lo: float, hi: float, floor: float | None = None) -> tuple[float, float]:
    """[lo, hi] widened to round tick values (a flat series gets room around it), not below
    `floor`."""
    if hi - lo < 1e-12:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = nice_step(hi - lo)
    lo, hi = math.floor(lo / step + 1e-9) * step, math.ceil(hi / step - 1e-9) * step
    return (max(lo, floor) if floor is not None else lo), hi


def log_ticks(lo: float, hi: float) -> list[float]:
    """Decades between 10**lo and 10**hi; with 2 and 5 between them when there are few."""
    decades = [10.0**k for k in range(math.floor(lo), math.ceil(hi) + 1)]
    if math.ceil(hi) - math.floor(lo) <= 2:
        decades = [d * m for d in decades for m in (1, 2, 5)]
    return [t for t in decades if lo - 1e-9 <= math.log10(t) <= hi + 1e-9]


def line_chart(
    series: dict,
    *,
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    log_y: bool = False,
    y_range: tuple[float, float] | None = None,
    y_floor: float | None = None,
    width: int = 520,
    height: int = 260,
) -> str:
    """series: {name: [(x, y), ...]} drawn as lines (a single point as a dot). `y_range` fixes
    the axis (e.g. (0, 1) for a fraction); else the data decide, not below `y_floor`."""

    def usable(y):
        return y is not None and math.isfinite(y) and (not log_y or y > 0)

    pts = [(x, y) for s in series.values() for x, y in s if usable(y)]
    if not pts:
        return (
            f"<svg width='{width}' height='40' class='chart'><text x='4' "
            f"y='20' font-size='12'>{html.escape(title)}: no data</text></svg>"
        )
    fy = math.log10 if log_y else (lambda v: v)
    x0, x1 = nice_range(min(p[0] for p in pts), max(p[0] for p in pts), floor=0)
    if y_range is not None:
        y0, y1 = (fy(v) for v in y_range)
    elif log_y:
        y0, y1 = math.floor(min(fy(p[1]) for p in pts)), math.ceil(max(fy(p[1]) for p in pts))
        y1 = y1 if y1 > y0 else y0 + 1
    else:
        y0, y1 = nice_range(min(p[1] for p in pts), max(p[1] for p in pts), y_floor)
    left, right, top, bottom = 60, 12, 24, 40
    pw, ph = width - left - right, height - top - bottom

    def sx(x):
        return left + INSET + (x - x0) / (x1 - x0) * (pw - 2 * INSET)

    def sy_axis(v):  # v already on the axis scale (log10 for a log axis)
        return top + INSET + (1 - (v - y0) / (y1 - y0)) * (ph - 2 * INSET)

    parts = [
        f"<svg width='{width}' height='{height}' class='chart' data-y0='{y0:g}' "
        f"data-y1='{y1:g}' data-log='{int(log_y)}'><rect x='{left}' y='{top}' width='{pw}' "
        f"height='{ph}' fill='none' stroke='#bbb'/>",
        f"<text x='{left}' y='15' font-size='12' font-weight='bold'>{html.escape(title)}</text>",
    ]
    for t in ticks(x0, x1):
        parts.append(
            f"<text class='xtick' x='{sx(t):.1f}' y='{top + ph + 14}' font-size='10' "
            f"text-anchor='middle'>{tick(t)}</text>"
        )
    yticks = log_ticks(y0, y1) if log_y else ticks(y0, y1)
    for t in yticks:
        y = sy_axis(fy(t))
        parts.append(
            f"<line x1='{left}' x2='{left + pw}' y1='{y:.1f}' y2='{y:.1f}' stroke='#eee'/>"
            f"<text class='ytick' x='{left - 4}' y='{y + 3:.1f}' font-size='10' "
            f"text-anchor='end'>{tick(t)}</text>"
        )
    parts.append(
        f"<text x='{left + pw / 2}' y='{height - 6}' font-size='11' "
        f"text-anchor='middle'>{html.escape(x_label)}</text>"
    )
    parts.append(
        f"<text x='12' y='{top + ph / 2}' font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {top + ph / 2})'>{html.escape(y_label)}</text>"
    )
    for k, (name, s) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        good = [(x, min(max(fy(y), y0), y1)) for x, y in s if usable(y)]
        if len(good) == 1:
            parts.append(
                f"<circle cx='{sx(good[0][0]):.1f}' cy='{sy_axis(good[0][1]):.1f}' r='3' "
                f"fill='{color}'/>"
            )
        elif good:
            d = " ".join(f"{sx(x):.1f},{sy_axis(y):.1f}" for x, y in good)
            parts.append(
                f"<polyline points='{d}' fill='none' stroke='{color}' stroke-width='1.8'/>"
            )
        parts.append(
            f"<text class='legend' x='{left + pw - 6}' y='{top + 16 + 13 * k}' font-size='11' "
            f"text-anchor='end' fill='{color}'>{html.escape(str(name))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)

"""Small inline SVG charts for the HTML pages (no plotting library, nothing fetched).

Axes fit what they show: a fixed range where the quantity has one (fractions 0 … 1), else the
data's range widened to round tick values; ticks in human units (2.5k, 10k; 1e-5 on log axes);
lines kept a few pixels inside the frame, so a flat series at an axis bound stays visible.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class _Frame:
    """Where a chart's data go: the plot area in pixels and the axis ranges (log10 for a log
    axis)."""

    width: int
    height: int
    x0: float
    x1: float
    y0: float
    y1: float
    log_y: bool
    left: int = 60
    right: int = 12
    top: int = 24
    bottom: int = 40

    @property
    def pw(self) -> float:
        return self.width - self.left - self.right

    @property
    def ph(self) -> float:
        return self.height - self.top - self.bottom

    def fy(self, v: float) -> float:
        return math.log10(v) if self.log_y else v

    def sx(self, x: float) -> float:
        return self.left + INSET + (x - self.x0) / (self.x1 - self.x0) * (self.pw - 2 * INSET)

    def sy(self, v: float) -> float:  # v already on the axis scale (log10 for a log axis)
        return self.top + INSET + (1 - (v - self.y0) / (self.y1 - self.y0)) * (self.ph - 2 * INSET)


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

    series = {name: [(x, y) for x, y in s if usable(y)] for name, s in series.items()}
    pts = [p for s in series.values() for p in s]
    if not pts:
        return (
            f"<svg width='{width}' height='40' class='chart'><text x='4' "
            f"y='20' font-size='12'>{html.escape(title)}: no data</text></svg>"
        )
    x0, x1 = nice_range(min(p[0] for p in pts), max(p[0] for p in pts), floor=0)
    y0, y1 = _y_range([p[1] for p in pts], log_y, y_range, y_floor)
    frame = _Frame(width, height, x0, x1, y0, y1, log_y)
    return "".join([*_axes(frame, title, x_label, y_label), *_lines(frame, series), "</svg>"])


def _y_range(ys, log_y, fixed, floor) -> tuple[float, float]:
    if fixed is not None:
        return tuple(math.log10(v) if log_y else v for v in fixed)
    if log_y:
        y0, y1 = math.floor(min(map(math.log10, ys))), math.ceil(max(map(math.log10, ys)))
        return y0, (y1 if y1 > y0 else y0 + 1)
    return nice_range(min(ys), max(ys), floor)


def _axes(f: _Frame, title: str, x_label: str, y_label: str) -> list[str]:
    """The frame, title, ticks with their grid lines, and the axis labels."""
    parts = [
        f"<svg width='{f.width}' height='{f.height}' class='chart' data-y0='{f.y0:g}' "
        f"data-y1='{f.y1:g}' data-log='{int(f.log_y)}'><rect x='{f.left}' y='{f.top}' "
        f"width='{f.pw}' height='{f.ph}' fill='none' stroke='#bbb'/>",
        f"<text x='{f.left}' y='15' font-size='12' font-weight='bold'>{html.escape(title)}</text>",
    ]
    for t in ticks(f.x0, f.x1):
        parts.append(
            f"<text class='xtick' x='{f.sx(t):.1f}' y='{f.top + f.ph + 14}' font-size='10' "
            f"text-anchor='middle'>{tick(t)}</text>"
        )
    for t in log_ticks(f.y0, f.y1) if f.log_y else ticks(f.y0, f.y1):
        y = f.sy(f.fy(t))
        parts.append(
            f"<line x1='{f.left}' x2='{f.left + f.pw}' y1='{y:.1f}' y2='{y:.1f}' stroke='#eee'/>"
            f"<text class='ytick' x='{f.left - 4}' y='{y + 3:.1f}' font-size='10' "
            f"text-anchor='end'>{tick(t)}</text>"
        )
    parts.append(
        f"<text x='{f.left + f.pw / 2}' y='{f.height - 6}' font-size='11' "
        f"text-anchor='middle'>{html.escape(x_label)}</text>"
    )
    parts.append(
        f"<text x='12' y='{f.top + f.ph / 2}' font-size='11' text-anchor='middle' "
        f"transform='rotate(-90 12 {f.top + f.ph / 2})'>{html.escape(y_label)}</text>"
    )
    return parts


def _lines(f: _Frame, series: dict) -> list[str]:
    """Each series as a line (a dot when it has one point), clamped to the axis, and its
    legend entry."""
    parts = []
    for k, (name, s) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        good = [(x, min(max(f.fy(y), f.y0), f.y1)) for x, y in s]
        if len(good) == 1:
            parts.append(
                f"<circle cx='{f.sx(good[0][0]):.1f}' cy='{f.sy(good[0][1]):.1f}' r='3' "
                f"fill='{color}'/>"
            )
        elif good:
            d = " ".join(f"{f.sx(x):.1f},{f.sy(y):.1f}" for x, y in good)
            parts.append(
                f"<polyline points='{d}' fill='none' stroke='{color}' stroke-width='1.8'/>"
            )
        parts.append(
            f"<text class='legend' x='{f.left + f.pw - 6}' y='{f.top + 16 + 13 * k}' "
            f"font-size='11' text-anchor='end' fill='{color}'>{html.escape(str(name))}</text>"
        )
    return parts

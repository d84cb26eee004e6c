"""Self-contained HTML pages (no network, no CDN): the activation viewer (`inspect --html`), the
surprise view (`eval --html`) and pieces of the run report.

Numbers travel as base64 uint8 codes inside one `<script type="application/json">` block (about
one byte per character per unit), decoded lazily per layer and quantity by static/viewer.js.
Corpus text reaches the page only inside that JSON, with `<`, `>` and `&` escaped, and the
script inserts it with textContent: a corpus containing `<script>` shows it, never runs it.
"""

from __future__ import annotations

import base64
import html
import json
from importlib import resources
from pathlib import Path

import numpy as np

from charrnn.fileio import starts_with
from charrnn.model.cells import UNBOUNDED, CellSpec


def diverging_rgb(v: float) -> str:
    """-1 red, 0 white, +1 blue (the same scale as static/viewer.js)."""
    v = float(np.clip(v, -1, 1))
    r = 255 if v < 0 else int(255 - 200 * v)
    b = 255 if v > 0 else int(255 + 200 * v)
    return f"rgb({r},{int(255 - 175 * abs(v))},{b})"


def esc(text) -> str:
    return html.escape(str(text), quote=True)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def quantize(a: np.ndarray, scale: str) -> tuple[str, list]:
    """(T, H) values of one layer -> (base64 of uint8 codes, unit-major, per-unit scales).
    Code 0..255 stands for -scale..+scale; scale is 1 except for unbounded ones (max |value|)."""
    scales = np.maximum(np.abs(a).max(axis=0), 1e-6) if scale == UNBOUNDED else np.ones(a.shape[1])
    codes = np.clip(np.rint((a / scales + 1) * 127.5), 0, 255).astype(np.uint8)
    return b64(np.ascontiguousarray(codes.T).tobytes()), [round(float(s), 5) for s in scales]


def top5(probs: np.ndarray) -> dict:
    """(T, V) next-character distributions -> the 5 best ids (uint16) and probabilities (uint8)."""
    k = min(5, probs.shape[1])
    ids = np.argsort(-probs, axis=1)[:, :5]
    if k < 5:
        ids = np.pad(ids, ((0, 0), (0, 5 - k)), mode="edge")
    p = np.take_along_axis(probs, ids, axis=1)
    return {
        "ids": b64(ids.astype("<u2").tobytes()),
        "p": b64(np.rint(p * 255).clip(0, 255).astype(np.uint8).tobytes()),
    }


# in every page's head: how a page charrnn wrote is told from a file it would replace
GENERATOR = '<meta name="generator" content="charrnn">'


def is_page(path: Path) -> bool:
    return starts_with(path, GENERATOR.encode())


def page(title: str, body: str, data: dict | None = None) -> str:
    css = resources.files("charrnn.render").joinpath("static/viewer.css").read_text("utf-8")
    script = ""
    if data is not None:
        js = resources.files("charrnn.render").joinpath("static/viewer.js").read_text("utf-8")
        payload = (
            json.dumps(data, ensure_ascii=False, separators=(",", ":"))
            .replace("<", "\\u003c")
            .replace(">", "\\u003e")
            .replace("&", "\\u0026")
        )
        script = (
            f'<script type="application/json" id="charrnn-data">{payload}</script>\n'
            f"<script>{js}</script>"
        )
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">{GENERATOR}'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{css}</style></head>\n<body>\n{body}\n"
        f'<div id="tip"></div>\n{script}\n</body></html>\n'
    )


def symbols(vocab) -> list[str]:
    return [vocab.id_to_symbol(i) for i in range(vocab.size)]


# --------------------------------------------------------------------------- activation viewer
def activation_page(
    *,
    title: str,
    text: str,
    vocab,
    cell: CellSpec,
    arrays: dict,
    probs: np.ndarray,
    layers: list[int],
    units: list[int],
    ranking: dict | None = None,
    marks: dict | None = None,
    saturation_svg: str = "",
    subtitle: str = "",
    extra: str = "",
) -> str:
    quantities = {}
    for q, a in arrays.items():  # a: (L, T, H)
        quantity = cell.quantity(q)
        encoded = [quantize(a[i], quantity.scale) for i in range(a.shape[0])]
        quantities[q] = {
            "label": quantity.label,
            "kind": quantity.scale,
            "b64": [e[0] for e in encoded],
            "scales": [e[1] for e in encoded],
        }
    initial = {}
    if ranking:
        best = next((s for scores in ranking.values() for s in scores[:1]), None)
        if best is not None and best.quantity in arrays and best.unit in units:
            initial = {
                "layer": layers.index(best.layer),
                "quantity": best.quantity,
                "unit": units.index(best.unit),
            }
    data = {
        "mode": "activations",
        "text": text,
        "symbols": symbols(vocab),
        "layers": layers,
        "units": units,
        "quantities": quantities,
        "top5": top5(probs),
        "initial": initial,
        "marks": marks or {},
    }
    controls = (
        '<div id="controls"><label>layer <select id="layer"></select></label>'
        '<label>quantity <select id="quantity"></select></label>'
        '<label>unit <button id="prev" title="previous unit (←)">◀</button>'
        '<input id="unit" type="number" min="0" value="0">'
        '<button id="next" title="next unit (→)">▶</button></label>'
        '<span id="selection"></span>'
        '<span id="legend"><span id="legend-lo">-1</span> <span class="bar" '
        'style="background:linear-gradient(90deg,rgb(255,80,55),#fff,rgb(55,80,255))"></span> '
        '<span id="legend-hi">+1</span> <span id="legend-note"></span></span></div>'
    )
    body = (
        f"<h1>{esc(title)}</h1><div class='sub'>{esc(subtitle)}</div>{controls}"
        f"<div id='text'></div>"
    )
    if ranking:
        body += "<h2>Units that follow text features</h2>" + ranking_tables(ranking, units)
    if saturation_svg:
        body += (
            "<h2>Gate saturation</h2><div class='sub'>Each dot is a unit: the fraction of "
            "characters its gate is below 0.1 (left-saturated, x) and above 0.9 "
            "(right-saturated, y).</div>" + saturation_svg
        )
    return page(title, body + extra, data)


def ranking_tables(ranking: dict, units: list[int] | None = None) -> str:
    from charrnn.inspection.features import BUILTIN

    out = []
    for feature, scores in ranking.items():
        rows = "".join(
            f"<tr class='pick' data-layer='{s.layer}' data-unit='{s.unit}' "
            f"data-quantity='{esc(s.quantity)}'><td>{s.layer}</td><td>{s.unit}</td>"
            f"<td>{esc(s.quantity)}</td><td>{s.r:+.3f}</td><td>{s.accuracy:.1%}</td>"
            f"<td>{s.base_rate:.1%}</td></tr>"
            for s in scores
            if units is None or s.unit in units
        )
        name = BUILTIN.get(feature, feature)
        if not rows:  # absent from the text (or present everywhere): no header-only table
            out.append(f"<h3>{esc(name)}</h3><p class='sub'>Not ranked: this feature never "
                       f"changes in this text (none of it, or all of it).</p>")  # fmt: skip
            continue
        out.append(
            f"<h3>{esc(name)}</h3><table class='rank'><tr><th>layer</th><th>unit</th>"
            f"<th>quantity</th><th>r</th><th>threshold accuracy</th><th>feature on</th>"
            f"</tr>{rows}</table>"
        )
    return "".join(out)


def saturation_svg(stats: dict, cell: CellSpec, size: int = 220) -> str:
    """Figure 3 of Karpathy et al. (2015): one scatter per layer, a dot per unit and gate."""
    if not stats:
        return ""
    layers = next(iter(stats.values()))[0].shape[0]
    plots = []
    for layer in range(layers):
        m, s = 36, size - 48  # margin for the tick labels; plot side
        dots = []
        for gate, (left, right) in stats.items():
            for x, y in zip(left[layer], right[layer], strict=True):
                dots.append(
                    f"<circle cx='{m + x * s:.1f}' cy='{10 + (1 - y) * s:.1f}' r='2.2' "
                    f"fill='{cell.quantity(gate).color}' fill-opacity='0.55'/>"
                )
        legend = "".join(
            f"<text class='legend' x='{m + 8 + 28 * k}' y='{s + 52}' font-size='10' "
            f"fill='{cell.quantity(g).color}'>{esc(g)}</text>"
            for k, g in enumerate(stats)
        )
        tick_labels = "".join(
            f"<text class='xtick' x='{m + v * s:.1f}' y='{s + 22}' font-size='9' "
            f"text-anchor='middle'>{v:g}</text><text class='ytick' x='{m - 4}' "
            f"y='{10 + (1 - v) * s + 3:.1f}' font-size='9' text-anchor='end'>{v:g}</text>"
            for v in (0, 0.5, 1)
        )
        plots.append(
            f"<svg width='{size}' height='{s + 58}' "
            f"class='saturation'><rect x='{m}' y='10' width='{s}' height='{s}' fill='none' "
            f"stroke='#999'/><line x1='{m}' y1='{10 + s}' x2='{m + s}' y2='10' stroke='#ddd'/>"
            f"{''.join(dots)}{tick_labels}<text x='{m}' y='{s + 38}' font-size='10'>"
            f"fraction of characters &lt; 0.1 →</text><text x='10' y='{10 + s}' font-size='10' "
            f"transform='rotate(-90 10 {10 + s})'>fraction &gt; 0.9 →</text>"
            f"<text x='{m + s - 40}' y='22' font-size='11'>layer {layer}</text>{legend}</svg>"
        )
    return "<div>" + "".join(plots) + "</div>"


# --------------------------------------------------------------------------- surprise view
def surprise_page(
    *,
    title: str,
    text: str,
    vocab,
    bits: np.ndarray,
    probs: np.ndarray,
    subtitle: str = "",
    marks: dict | None = None,
) -> str:
    """bits[t]: the loss on character t; probs[t]: the distribution after reading character t
    (so the guesses for character t are probs[t - 1]). Characters the model never saw (`marks`)
    are marked and left out of the color scale."""
    marks = marks or {}
    bits = bits.copy()
    bits[marks.get("mapped", [])] = 0.0
    top = max(float(np.percentile(bits, 99.5)) if len(bits) else 1.0, 1e-3)
    codes = np.rint(np.clip(bits / top, 0, 1) * 255).astype(np.uint8)
    data = {
        "mode": "surprise",
        "text": text,
        "symbols": symbols(vocab),
        "top5": top5(probs),
        "surprise": {"b64": b64(codes.tobytes()), "max": top},
        "marks": marks,
    }
    legend = (
        f"<div id='controls'><span id='selection'></span><span id='legend'>0 bits "
        f"<span class='bar' style='background:linear-gradient(90deg,#fff,rgb(255,55,40))'>"
        f"</span> ≥ {top:.1f} bits</span></div>"
    )
    return page(
        title,
        f"<h1>{esc(title)}</h1><div class='sub'>{esc(subtitle)}</div>{legend}<div id='text'></div>",
        data,
    )


def grad_flow_section(flows: dict) -> str:
    """The gradient-flow chart of `inspect --grad-flow --html`: {checkpoint label: GradFlow}."""
    from charrnn.render import svg

    series = {}
    for name, flow in flows.items():
        for layer in range(flow.h.shape[0]):
            for q, values in flow.norms.items():
                series[f"{name}: {q}, layer {layer}"] = list(enumerate(values[layer].tolist()))
    chart = svg.line_chart(
        series,
        title="||dL_T / d state_(T-k)||: how far back the loss reaches",
        x_label="k (steps back)",
        y_label="mean gradient norm (log scale)",
        log_y=True,
        width=640,
        height=300,
    )
    return f"<h2>Gradient flow</h2>{chart}"


# --------------------------------------------------------------------------- compare
def comparison_page(*, title: str, subtitle: str, text: str, names: tuple[str, str],
                    bits: tuple, probs: tuple, symbol_lists: tuple, tables_html: str,
                    marks: dict | None = None) -> str:  # fmt: skip
    """The text colored by the run's bits minus the baseline's (blue: the run did better, red:
    worse), both models' guesses on hover; below, the breakdown tables and charts."""
    a, b = (np.asarray(x, dtype=np.float32) for x in bits)
    gain = b - a  # > 0 where the run did better: blue on the viewer's diverging scale
    top = max(float(np.percentile(np.abs(gain), 99.5)) if len(gain) else 1.0, 1e-3)
    codes = np.rint((np.clip(gain / top, -1, 1) + 1) * 127.5).astype(np.uint8)
    data = {
        "mode": "compare",
        "text": text,
        "symbols": symbol_lists[0],
        "symbolsB": symbol_lists[1],
        "top5": top5(probs[0]),
        "top5b": top5(probs[1]),
        "compare": {
            "b64": b64(codes.tobytes()),
            "max": top,
            "names": list(names),
            "bits_a": b64(a.astype("<f4").tobytes()),
            "bits_b": b64(b.astype("<f4").tobytes()),
        },  # fmt: skip
        "marks": marks or {},
    }
    legend = (
        f"<div id='controls'><span id='selection'></span><span id='legend'>{esc(names[1])} "
        f"better by ≥ {top:.1f} bits <span class='bar' style='background:linear-gradient(90deg,"
        f"{diverging_rgb(-1)},#fff,{diverging_rgb(1)})'></span> {esc(names[0])} better by "
        f"≥ {top:.1f} bits</span></div>"
    )
    return page(
        title,
        f"<h1>{esc(title)}</h1><div class='sub'>{esc(subtitle)}</div>{legend}"
        f"<div id='text'></div>{tables_html}",
        data,
    )


def breakdown_table(title: str, rows: list[dict], names: dict) -> str:
    """One breakdown of `compare` as an HTML table (the terminal's, tables.comparison)."""
    head = "".join(f"<th>{esc(n)}</th>" for n in ["", "chars", *names.values(), "run better",
                                                  "gain, bits/char"])  # fmt: skip
    body = "".join(
        "<tr>"
        + f"<td>{esc(r['group'])}</td><td>{r['chars']:,}</td>"
        + "".join(f"<td>{r[k + '_bpc']:.3f}</td>" for k in names)
        + f"<td>{r['model_better']:.0%}</td><td>{r['gain']:+.3f}</td></tr>"
        for r in rows
    )
    return f"<h2>{esc(title)}</h2><table class='ranking'><tr>{head}</tr>{body}</table>"

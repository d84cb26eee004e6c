"""What `charrnn inspect` and `charrnn eval --html` do: run text through a checkpoint and show
what its units track — activation dumps, unit search tables, span matching, gate saturation, and
the HTML viewers. Like commands.py, it may print (results on stdout, notes on stderr).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from rich.table import Table
from rich.text import Text

from charrnn import activations, checkpoint, dumps, features, html, unitsearch
from charrnn.commands import encode_for, read_text
from charrnn.errors import ConfigError, DataError, OutputError
from charrnn.fileio import atomic_write_bytes
from charrnn.ui import err, out

HTML_BYTES_BUDGET = 64 << 20  # activation codes embedded in one page
ALL = "all"


def _check_indices(values, limit: int, option: str):
    if not values:
        return None
    bad = [v for v in values if not 0 <= v < limit]
    if bad:
        raise ConfigError(f"{option} {bad[0]} is out of range: valid values are 0 to {limit - 1}.")
    return sorted(set(values))


def parse_span(text: str, length: int) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise ConfigError(f"--match {text!r}: write START:END, e.g. 120:135.") from None
    if not 0 <= a < b <= length:
        raise ConfigError(f"--match {text}: need 0 <= START < END <= {length} (the text length).")
    return a, b


def feature_names(find: list[str]) -> list[str]:
    names = []
    for f in find:
        names += list(features.BUILTIN) if f == ALL else [f]
    try:
        return list(dict.fromkeys(features.canonical(n) for n in names))
    except features.FeatureError as e:
        raise ConfigError(str(e)) from None


def run(
    ckpt,
    source,
    *,
    out_path,
    html_path,
    find,
    match,
    threshold,
    saturation,
    as_json,
    layers,
    units,
    quantities,
    max_chars,
    top,
    grad_flow=False,
    horizon=50,
    windows=32,
    compare=None,
) -> None:
    if not any([out_path, html_path, find, match, saturation, grad_flow]):
        raise ConfigError(
            "say what to do: --out FILE, --html FILE, --find FEATURE, "
            "--match START:END, --saturation or --grad-flow "
            "(see charrnn inspect --help)."
        )
    if as_json and bool(find) == bool(grad_flow):
        raise ConfigError("--json goes with one of --find or --grad-flow.")
    if horizon < 1 or windows < 1:
        raise ConfigError("--horizon and --windows must be at least 1.")
    if max_chars < 1 or top < 1:
        raise ConfigError("--max-chars and --top must be at least 1.")
    for path, suffixes in ((out_path, (".npz", ".json")), (html_path, (".html", ".htm"))):
        if path is not None and path.suffix not in suffixes:
            raise ConfigError(f"{path}: the name must end in {' or '.join(suffixes)}.")
    model, vocab, info = checkpoint.load_model(ckpt)
    cfg = model.config
    layers = _check_indices(layers, cfg.num_layers, "--layer")
    units = _check_indices(units, cfg.hidden_size, "--units")
    known = cfg.cell.quantity_names
    bad = [q for q in quantities or [] if q not in known]
    if bad:
        raise ConfigError(f"--quantity {bad[0]}: a {cfg.model} has {', '.join(known)}.")
    names = feature_names(find) if find else []
    text, label = read_text(source, max_chars)
    ids = encode_for(vocab, text, label)
    span = parse_span(match, len(text)) if match else None

    in_memory = out_path or html_path or match
    arrays = probs = None
    if in_memory:
        arrays, probs = activations.collect(model, ids, layers, units)
        arrays = {
            q: a
            for q, a in arrays.items()
            if not quantities or q in quantities or (html_path and q in cfg.cell.saturating_gates)
        }
        chunks = unitsearch.in_memory(arrays, probs)
    else:
        chunks = unitsearch.streamed(model, ids)

    def selected(arrays: dict) -> dict:  # the quantities asked for (all by default)
        return {q: a for q, a in arrays.items() if not quantities or q in quantities}

    layer_ids = layers or list(range(cfg.num_layers))
    unit_ids = units or list(range(cfg.hidden_size))

    if out_path:
        keep = selected(arrays)
        dumps.write(
            out_path,
            text=text,
            vocab=vocab,
            ids=ids,
            arrays=keep,
            probs=probs,
            model=cfg.model,
            layers=layer_ids,
            units=unit_ids,
        )
        err.print(f"activations: {out_path} ({len(ids)} characters, {', '.join(keep)})")
    ranking = {}
    if names or html_path:
        ranking = unitsearch.rank_units(
            chunks, text, names or list(features.BUILTIN), top=top, quantities=quantities
        )
        ranking = {
            f: [_renumber(s, layer_ids, unit_ids) for s in scores] for f, scores in ranking.items()
        }
    if names:
        if as_json:
            print(json.dumps([s.to_dict() for f in names for s in ranking[f]], indent=1))
        else:
            excerpts = _excerpts(chunks, text, ranking, names, layer_ids, unit_ids, cfg.cell)
            for f in names:
                out.print(_ranking_table(f, ranking[f], excerpts))
    sat = {}
    if saturation or html_path:
        sat = unitsearch.saturation(chunks, cfg.cell)
        if saturation:
            out.print(_saturation_table(sat, layer_ids))
    if span:
        h = arrays["h"] if "h" in arrays else activations.collect(model, ids, layers, units)[0]["h"]
        _print_match(
            unitsearch.match_span(h, *span, threshold=threshold),
            text,
            span,
            layer_ids,
            unit_ids,
            threshold,
        )
    flows = {}
    if grad_flow:
        flows[_label(info)] = _grad_flow(model, ids, horizon, windows)
        if compare is not None:
            other, other_vocab, other_info = checkpoint.load_model(compare)
            name = _label(other_info)
            flows[name if name not in flows else f"{name} [2]"] = _grad_flow(
                other, encode_for(other_vocab, text, label), horizon, windows
            )
        if as_json:
            docs = {name: f.to_dict() for name, f in flows.items()}
            print(json.dumps(next(iter(docs.values())) if len(docs) == 1 else docs))
        else:
            out.print(_grad_flow_table(flows))
    if html_path:
        shown = _fit_budget(selected(arrays), cfg.cell)
        page = html.activation_page(
            title=f"charrnn inspect: {Path(str(info.path)).name}",
            text=text,
            vocab=vocab,
            cell=cfg.cell,
            arrays=shown,
            probs=probs,
            layers=layer_ids,
            units=unit_ids,
            ranking=ranking,
            saturation_svg=html.saturation_svg(sat, cfg.cell),
            extra=_grad_flow_svg(flows) if flows else "",
            subtitle=f"{cfg.num_layers}x{cfg.hidden_size} {cfg.model} · {len(text)} characters "
            f"of {label}",
        )
        _write_page(html_path, page)
        err.print(f"page: {html_path}")


def _renumber(score, layer_ids, unit_ids):
    """Indices into the selected arrays -> the model's own layer and unit numbers."""
    score.layer, score.unit = layer_ids[score.layer], unit_ids[score.unit]
    return score


def _fit_budget(arrays: dict, cell) -> dict:
    """Keep quantities (the state first, then the gates) while the page stays under budget."""
    order = [q for q in cell.quantity_names if q in arrays]
    kept, used = {}, 0
    for q in order:
        size = arrays[q].size
        if kept and used + size > HTML_BYTES_BUDGET:
            err.print(
                f"note: the page leaves out {', '.join(o for o in order if o not in kept)} "
                f"to stay under {HTML_BYTES_BUDGET >> 20} MB; choose with --quantity, "
                f"--layer, --units or fewer --max-chars."
            )
            break
        kept[q] = arrays[q]
        used += size
    return kept


def _excerpts(chunks, text, ranking, names, layer_ids, unit_ids, cell, width=32) -> dict:
    """A short stretch of text around where each feature turns on, with each top unit's values.
    (Rankings hold the model's layer and unit numbers; `chunks` holds the selected ones.)"""
    wanted = {
        (s.quantity, layer_ids.index(s.layer), unit_ids.index(s.unit))
        for f in names
        for s in ranking[f][:10]
    }
    by_index = unitsearch.collect_units(chunks, wanted)
    series = {(q, layer_ids[li], unit_ids[ui]): v for (q, li, ui), v in by_index.items()}
    out = {}
    for f in names:
        on = unitsearch.binarise(features.compute(f, text))
        starts = np.flatnonzero(np.diff(on.astype(np.int8)) == 1)
        t = int(starts[min(len(starts) - 1, 1)]) if len(starts) else 0
        lo = max(0, t - width // 3)
        for s in ranking[f][:10]:
            values = html.display_values(
                cell.quantity(s.quantity), series[(s.quantity, s.layer, s.unit)]
            )
            out[(f, s.layer, s.unit, s.quantity)] = _colored(
                text[lo : lo + width], values[lo : lo + width]
            )
    return out


def _colored(text: str, values) -> Text:
    t = Text()
    for ch, v in zip(text, values, strict=False):
        t.append("↵" if ch == "\n" else ch, style=f"black on {html.diverging_rgb(v)}")
    return t


def _ranking_table(feature: str, scores, excerpts):
    name = features.BUILTIN.get(feature, feature)
    if not scores:
        return f"units following: {name}: the feature never changes in this text; nothing to rank."
    t = Table(title=f"units following: {name}", title_justify="left")
    for col in ("layer", "unit", "qty", "r", "thr. acc."):
        t.add_column(col, justify="right")
    t.add_column("excerpt (red -1 … blue +1)", no_wrap=True, overflow="crop")
    for s in scores:
        key = (feature, s.layer, s.unit, s.quantity)
        t.add_row(
            str(s.layer),
            str(s.unit),
            s.quantity,
            f"{s.r:+.3f}",
            f"{s.accuracy:.1%}",
            excerpts.get(key, ""),
        )
    t.caption = (
        f"feature on for {scores[0].base_rate:.1%} of characters; thr. acc.: accuracy "
        f"of the unit's best single threshold"
    )
    return t


def _saturation_table(sat: dict, layer_ids) -> Table:
    t = Table(title="gate saturation (fraction of characters)", title_justify="left")
    for col in (
        "layer",
        "gate",
        "left < 0.1",
        "right > 0.9",
        "units mostly left",
        "units mostly right",
    ):
        t.add_column(col, justify="right")
    for gate, (left, right) in sat.items():
        for i, layer in enumerate(layer_ids):
            t.add_row(
                str(layer),
                gate,
                f"{left[i].mean():.1%}",
                f"{right[i].mean():.1%}",
                str(int((left[i] > 0.5).sum())),
                str(int((right[i] > 0.5).sum())),
            )
    return t


def _print_match(result, text, span, layer_ids, unit_ids, threshold) -> None:
    start, end = span
    if not result.units:
        raise DataError(
            f"no unit stays above {threshold} over {start}:{end} and below it around "
            f"the span; try another span or --threshold."
        )
    names = ", ".join(f"L{layer_ids[lay]}/{unit_ids[u]}" for lay, u in result.units)
    out.print(f"span {start}:{end} {text[start:end]!r}: {len(result.units)} unit(s) on: {names}")
    if not result.matches:
        out.print("no other place in the text where all of them are on together.")
    for s, e, _ in result.matches:
        out.print(f"  {s}:{e}  {text[max(0, s - 10) : s]!r} [{text[s:e]!r}] {text[e : e + 10]!r}")


# --------------------------------------------------------------------------- gradient flow
def _grad_flow(model, ids, horizon, windows):
    from charrnn.gradflow import gradient_flow

    try:
        return gradient_flow(model, ids, horizon=horizon, windows=windows)
    except ValueError as e:
        raise DataError(f"--grad-flow: {e}; give more text or a smaller --horizon.") from None


def _flow_rows(horizon: int) -> list[int]:
    rows = [k for k in (0, 1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200) if k <= horizon]
    return rows if rows[-1] == horizon else rows + [horizon]


def _label(info) -> str:
    """A short name for a checkpoint: its run directory and model, e.g. 'rnn (1x256 rnn)'."""
    c = info.model_config
    return f"{info.path.parent.name} ({c.num_layers}x{c.hidden_size} {c.model})"


def _grad_flow_table(flows: dict) -> Table:
    windows = next(iter(flows.values())).windows
    t = Table(
        title=f"gradient flow: mean ||dL_T/d state_(T-k)|| over {windows} windows",
        title_justify="left",
    )
    t.add_column("k", justify="right")
    columns = []  # (flow, quantity, layer)
    for name, flow in flows.items():
        for layer in range(flow.h.shape[0]):
            for q, values in flow.norms.items():
                prefix = f"{name}\n" if len(flows) > 1 else ""
                t.add_column(f"{prefix}{q}, layer {layer}", justify="right")
                columns.append(values[layer])
    horizon = next(iter(flows.values())).horizon
    for k in _flow_rows(horizon):
        t.add_row(str(k), *(f"{values[k]:.3e}" for values in columns))
    t.caption = "per step back (geometric mean over k): " + "; ".join(
        f"{name} h layer {i}: x{f.per_step_ratio(i):.3f}"
        for name, f in flows.items()
        for i in range(f.h.shape[0])
    )
    return t


def _grad_flow_svg(flows: dict) -> str:
    from charrnn import svg

    series = {}
    for name, flow in flows.items():
        for layer in range(flow.h.shape[0]):
            for q, values in flow.norms.items():
                series[f"{name}: {q}, layer {layer}"] = list(enumerate(values[layer].tolist()))
    chart = svg.line_chart(
        series,
        title="||dL_T / d state_(T-k)||",
        x_label="k (steps back)",
        y_label="gradient norm",
        log_y=True,
        width=640,
        height=300,
    )
    return f"<h2>Gradient flow</h2>{chart}"


# --------------------------------------------------------------------------- eval --html
def surprise_html(ckpt, file: Path, html_path: Path, max_chars: int) -> dict:
    from charrnn.evaluate import char_losses

    if html_path.suffix not in (".html", ".htm"):
        raise ConfigError(f"{html_path}: the name must end in .html.")
    model, vocab, info = checkpoint.load_model(ckpt)
    text, label = read_text(file, max_chars)
    ids = encode_for(vocab, text, label)
    bits, probs = char_losses(model, ids)
    page = html.surprise_page(
        title=f"charrnn eval: {label}",
        text=text,
        vocab=vocab,
        bits=bits,
        probs=probs,
        subtitle=f"{Path(str(info.path)).name} · {len(text)} characters · mean "
        f"{bits[1:].mean():.3f} bits/char (colour: loss on each character)",
    )
    _write_page(html_path, page)
    return {"html": str(html_path), "chars": len(text), "bpc": float(bits[1:].mean())}


def _write_page(path: Path, page: str) -> None:
    atomic_write_bytes(
        path,
        page.encode("utf-8"),
        what="page",
        error=OutputError,
        hint="Free disk space or give another --html file.",
    )

"""Rich renderings of the library's results for the terminal: `info`, the `inspect` tables
(unit rankings with colored excerpts, gate saturation, span matches, gradient flow), `bench` and
`corpus list`. Each function takes plain data and returns something `terminal.out.print` shows;
user text goes through `terminal.safe` and is never read as markup.
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from charrnn.inspection import features
from charrnn.render.numbers import count
from charrnn.render.terminal import safe


def _table(title: str, *columns: str, justify: str = "right") -> Table:
    t = Table(title=Text(title), title_justify="left")
    for col in columns:
        t.add_column(Text(col), justify=justify)
    return t


# --------------------------------------------------------------------------- info
def checkpoint_summary(s: dict) -> Table:
    m = s["model_config"]
    t = Table(show_header=False, box=None)
    rows = {
        "checkpoint": safe(s["path"]) + ("" if s["resumable"] else "  (weights only)"),
        "model": f"{m['num_layers']}x{m['hidden_size']} {m['model']}, embed {m['embed_size']}, "
        f"dropout {m['dropout']}",
        "parameters": f"{s['parameters']:,} ({count(s['parameters'])})",
        "vocabulary": f"{s['vocab_size']} {s['vocab_unit']}s"
        + (f": {safe(repr(s['vocab'][:60]))}" if s["vocab"] else ""),
    }
    if s["step"] is not None:
        rows["run"] = (
            f"{s['step']:,} steps, epoch {s['epoch']}, {count(s['tokens_seen'] or 0)} chars "
            f"seen, {s['train_seconds'] or 0:.0f} s of training"
        )
        for i, line in enumerate(s["sessions"] if len(s["sessions"]) > 1 else []):
            rows[f"session {i + 1}"] = line
        if s["checkpoint_step"] != s["step"]:
            rows["this checkpoint"] = f"step {s['checkpoint_step']:,}" + (
                " (the best validation)" if s["checkpoint_step"] == s["best_step"] else ""
            )
    if s["best_val_bpc"] is not None:
        at = f" at step {s['best_step']:,}" if s["best_step"] is not None else ""
        rows["best val"] = f"{s['best_val_loss']:.4f} nats/char = {s['best_val_bpc']:.4f} bpc{at}"
    if s["test_bpc"] is not None:
        rows["test"] = f"{s['test_bpc']:.4f} bpc (the best weights)"
    if s["train_config"]:
        tc = s["train_config"]
        label = "training (last session)" if len(s["sessions"]) > 1 else "training"
        rows[label] = ", ".join(f"{k}={v}" for k, v in tc.items() if v is not None)
    if s["corpus"]:
        name = s["corpus"].get("path") or s["corpus"].get("name")
        rows["corpus"] = f"{safe(name)} ({s['corpus'].get('chars') or 0:,} chars)"
    if s["init_from"]:
        rows["fine-tuned from"] = f"{safe(s['init_from']['name'])} (step {s['init_from']['step']})"
    if s["snapshots"]:
        shown = s["snapshots"] if len(s["snapshots"]) <= 6 else [*s["snapshots"][:3], "…",
                                                                 *s["snapshots"][-2:]]  # fmt: skip
        rows["snapshots"] = f"{len(s['snapshots'])}: {', '.join(shown)}"
    for layer, sv in enumerate(s["recurrent_singular_values"]):
        gates = ", ".join(f"{k} {v:.3f}" for k, v in sv.items() if k != "W_hh")
        rows[f"sigma_max layer {layer}"] = f"W_hh {sv['W_hh']:.3f}" + (
            f" (gate blocks: {gates})" if gates else ""
        )
    for key, value in rows.items():
        t.add_row(Text(key), Text(value))
    return t


# --------------------------------------------------------------------------- inspect
def colored_excerpt(text: str, values, rgb) -> Text:
    """Each character on the background color of its unit's value (`rgb(v)` -> 'rgb(r,g,b)')."""
    t = Text()
    for ch, v in zip(text, values, strict=False):
        t.append({"\n": "↵", "\r": "␍"}.get(ch) or safe(ch), style=f"black on {rgb(v)}")
    return t


def ranking(feature: str, scores, excerpts: dict) -> Table | Text:
    """One feature's best units; `excerpts[(layer, unit, quantity)]` is a colored Text."""
    name = features.BUILTIN.get(feature, feature)
    if not scores:
        return Text(
            f"units following: {safe(name)}: the feature never changes in this text; "
            f"nothing to rank."
        )
    t = _table(f"units following: {safe(name)}", "layer", "unit", "qty", "r", "thr. acc.")
    t.add_column("excerpt (red -1 … blue +1)", no_wrap=True, overflow="crop")
    for s in scores:
        t.add_row(
            str(s.layer),
            str(s.unit),
            s.quantity,
            f"{s.r:+.3f}",
            f"{s.accuracy:.1%}",
            excerpts.get((s.layer, s.unit, s.quantity), ""),
        )
    t.caption = Text(
        f"feature on for {scores[0].base_rate:.1%} of characters; thr. acc.: accuracy of the "
        f"unit's best single threshold"
    )
    return t


def saturation(sat: dict, layers: list[int]) -> Table | Text:
    if not sat:
        return Text("this cell kind has no sigmoid gates; nothing saturates.")
    t = _table(
        "gate saturation (fraction of characters)",
        "layer",
        "gate",
        "left < 0.1",
        "right > 0.9",
        "units mostly left",
        "units mostly right",
    )
    for gate, (left, right) in sat.items():
        for i, layer in enumerate(layers):
            t.add_row(
                str(layer),
                gate,
                f"{left[i].mean():.1%}",
                f"{right[i].mean():.1%}",
                str(int((left[i] > 0.5).sum())),
                str(int((right[i] > 0.5).sum())),
            )
    return t


def span_match(match, text: str) -> Text:
    start, end = match.span
    names = ", ".join(f"L{layer}/{unit}" for layer, unit in match.units)
    lines = [
        f"span {start}:{end} {safe(repr(text[start:end]))}: {len(match.units)} unit(s) on: {names}"
    ]
    if not match.matches:
        lines.append("no other place in the text where all of them are on together.")
    for s, e, _ in match.matches:
        before, inside, after = text[max(0, s - 10) : s], text[s:e], text[e : e + 10]
        lines.append(f"  {s}:{e}  {safe(repr(before))} [{safe(repr(inside))}] {safe(repr(after))}")
    return Text("\n".join(lines))


def _flow_rows(horizon: int) -> list[int]:
    rows = [k for k in (0, 1, 2, 5, 10, 20, 30, 50, 75, 100, 150, 200) if k <= horizon]
    return rows if rows[-1] == horizon else rows + [horizon]


def grad_flow(flows: dict) -> Table:
    """{checkpoint label: GradFlow} side by side."""
    first = next(iter(flows.values()))
    t = _table(f"gradient flow: mean ||dL_T/d state_(T-k)|| over {first.windows} windows", "k")
    columns = []
    for name, flow in flows.items():
        for layer in range(flow.h.shape[0]):
            for q, values in flow.norms.items():
                prefix = f"{safe(name)}\n" if len(flows) > 1 else ""
                t.add_column(Text(f"{prefix}{q}, layer {layer}"), justify="right")
                columns.append(values[layer])
    for k in _flow_rows(first.horizon):
        t.add_row(str(k), *(f"{values[k]:.3e}" for values in columns))
    t.caption = Text(
        "per step back (geometric mean over k): "
        + "; ".join(
            f"{safe(name)} h layer {i}: x{f.per_step_ratio(i):.3f}"
            for name, f in flows.items()
            for i in range(f.h.shape[0])
        )
    )
    return t


# --------------------------------------------------------------------------- bench, corpora
def bench(result: dict, bf16: bool, reference: bool) -> list:
    peaks = ", ".join(
        f"{k.split('_')[2]} {v:,.0f}"
        for k, v in result.items()
        if k.startswith("matmul_peak_") and k.count("_") == 3  # fmt: skip
    )
    t = _table(
        f"training ({result.get('device_name', result['device'])}, matmul peak GFLOP/s: {peaks}; "
        f"{result['threads']} threads)",
        "config",
        "charrnn chars/s",
        "GFLOP/s",
        "of peak",
        "bf16 chars/s",
        "bf16 of peak",
        "plain loop chars/s",
        "charrnn / plain",
    )
    for r in result["train"]:
        t.add_row(
            r["config"],
            f"{r['charrnn_fp32_chars_per_s']:,}",
            f"{r['charrnn_fp32_gflops']}",
            f"{r['charrnn_fp32_peak_fraction']:.0%}",
            f"{r.get('charrnn_bf16_chars_per_s', 0):,}" if bf16 else "-",
            f"{r.get('charrnn_bf16_peak_fraction', 0):.0%}" if bf16 else "-",
            f"{r.get('reference_chars_per_s', 0):,}" if reference else "-",
            f"{r.get('ratio_vs_reference', 0):.2f}x" if reference else "-",
        )
    s = _table("sampling", "model", "batch", "charrnn chars/s", "plain loop chars/s", "ratio")
    for r in result["sample"]:
        s.add_row(
            r["model"],
            str(r["batch"]),
            f"{r['charrnn_chars_per_s']:,}",
            f"{r['plain_chars_per_s']:,}",
            f"{r['ratio']:.1f}x",
        )
    parts = [t, s]
    if "sample_gpu" in result:
        g = result["sample_gpu"]
        parts.append(Text(f"sampling on the GPU: {g['batch']} samples x {g['length']} characters "
                          f"at {g['chars_per_s']:,} chars/s"))  # fmt: skip
    return [*parts, Text(f"peak RSS {result['peak_rss_mb']} MB")]


def corpora(recipes: dict, builders: dict) -> Table:
    t = _table("corpora", "name", "kind", "size", "what", justify="left")
    for r in recipes.values():
        t.add_row(r.name, "download", count(r.size) + "B", r.about)
    for name, about in builders.items():
        t.add_row(name, "build (offline)", "~2MB", about)
    return t


# --------------------------------------------------------------------------- compare
BREAKDOWN_TITLES = {
    "by_class": "by character class",
    "by_closing_distance": "closing brackets and quotes, by distance to their opening one",
    "by_word_position": "by position in the word",
    "by_copy": "by copy: the character and those before it seen in the last 10,000",
}


def comparison(figures: dict) -> list:
    """`charrnn compare`'s tables: each breakdown (bits per character of each model, the share
    of characters the run predicts better, the bits per character it saves there over the
    n-gram, of the whole text), then the errors."""
    names = {"model": safe(figures["model"]["name"]), "ngram": figures["ngram"]["name"]}
    if "dynamic" in figures:
        names["dynamic"] = "adapting"
    parts = []
    for key, title in BREAKDOWN_TITLES.items():
        found = figures["breakdowns"][key]
        if not found:
            parts.append(Text(f"{title}: none in the text"))
            continue
        t = _table(title, "", "chars", *names.values(), "run better", "gain")
        for row in found:
            t.add_row(safe(row["group"]), f"{row['chars']:,}",
                      *(f"{row[k + '_bpc']:.3f}" for k in names),
                      f"{row['model_better']:.0%}", f"{row['gain']:+.3f}")  # fmt: skip
        parts.append(t)
    e = figures["errors"]
    t = _table(
        f"the run's errors (probability < 0.5): {e['errors']:,} of {e['chars']:,} characters "
        f"({e['error_rate']:.0%}), taken away by each oracle in turn",
        "oracle",
        "errors",
        "share",
    )
    for row in e["oracles"]:
        t.add_row(row["oracle"], f"{row['errors']:,}", f"{row['share']:.0%}")
    t.add_row("other", f"{e['other']:,}", f"{e['other_share']:.0%}")
    return [*parts, t]

"""`charrnn report RUN_DIR`: one HTML page about a run. The first screen tells the story (best
validation and test bits per character, the model, training time and throughput, a sample);
below it the curves (from metrics.jsonl: loss in bits per character, learning rate, gradient
norm, clipping), samples at three temperatures, the units that follow the built-in text
features on a stretch of validation text kept in the checkpoint, and the configuration.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charrnn.errors import CheckpointError, OutputError
from charrnn.fileio import atomic_write_bytes, check_replaceable
from charrnn.files import checkpoint
from charrnn.inference.evaluate import bpc
from charrnn.inference.sample import SampleConfig, generate
from charrnn.inspection import activations, features, unitsearch
from charrnn.render import html, numbers, svg
from charrnn.training.events import Train, Val, read_metrics
from charrnn.training.history import session_lines, summarize
from charrnn.words import plural

TEMPERATURES = (0.5, 0.8, 1.0)
HEADLINE_TEMPERATURE = 0.8  # the sample on the first screen


def curves(records: list[dict]) -> str:
    """Loss in bits per character, learning rate, gradient norm and clipping, against steps."""
    train = [r for r in records if r["kind"] == Train.KIND]
    val = [(r["step"], r["val_bpc"]) for r in records if r["kind"] == Val.KIND]
    return (
        svg.line_chart(
            {
                "train (bits/char)": [(r["step"], bpc(r["loss"])) for r in train],
                "val (bits/char)": val,
            },  # fmt: skip
            title="loss",
            x_label="step",
            y_label="bits per character",
            y_floor=0.0,
        )
        + svg.line_chart(
            {"learning rate": [(r["step"], r["lr"]) for r in train if "lr" in r]},
            title="learning rate",
            x_label="step",
            y_label="lr",
            log_y=True,
        )
        + svg.line_chart(
            {"global norm before clipping": [(r["step"], r["grad_norm"]) for r in train]},
            title="gradient norm",
            x_label="step",
            y_label="norm (log scale)",
            log_y=True,
        )
        + svg.line_chart(
            {"fraction of steps clipped": [(r["step"], r["clip_frac"]) for r in train]},
            title="clipping",
            x_label="step",
            y_label="fraction of steps",
            y_range=(0.0, 1.0),
        )
    )


def headline(ckpt, sample: str) -> str:
    """The first screen: how good the model is, what it is, what it cost, what it writes."""
    cfg, run = ckpt.model_config, summarize(ckpt)
    best, test = run.best_val_loss, run.test_loss
    seconds, chars = run.train_seconds, run.tokens
    at = f" (step {run.best_step:,})" if run.best_step is not None else ""
    figures = [
        ("best validation", f"{bpc(best):.3f} bits/char{at}" if best is not None else "–"),
        ("test", f"{bpc(test):.3f} bits/char" if test is not None else "–"),
        (
            "model",
            f"{cfg.num_layers}x{cfg.hidden_size} {cfg.cell.upper()}, "
            f"{numbers.count(cfg.num_params())} parameters",
        ),  # fmt: skip
        (
            "training",
            f"{seconds / 60:.1f} min, {run.steps:,} steps, "
            f"{chars / max(seconds, 1e-9) / 1000:.1f}k chars/s"
            + (f", {len(run.sessions)} sessions" if len(run.sessions) > 1 else ""),
        ),  # fmt: skip
    ]
    cells = "".join(
        f"<div class='figure'><div class='label'>{html.esc(k)}</div>"
        f"<div class='value'>{html.esc(v)}</div></div>"
        for k, v in figures
    )
    return (
        f"<div class='headline'>{cells}</div>"
        f"<h2>A sample (temperature {HEADLINE_TEMPERATURE})</h2>"
        f"<pre class='sample'>{html.esc(sample)}</pre>"
    )


def _kv_table(rows: dict) -> str:
    return (
        "<table class='kv'>"
        + "".join(f"<tr><td>{html.esc(k)}</td><td>{html.esc(v)}</td></tr>" for k, v in rows.items())
        + "</table>"
    )


def _colored_excerpt(text: str, values: np.ndarray) -> str:
    spans = []
    for ch, v in zip(text, values, strict=False):
        shown = {"\n": "↵\n", "\r": "␍"}.get(ch, ch)  # a CR marked, not a second line break
        spans.append(f"<span style='background:{html.diverging_rgb(v)}'>{html.esc(shown)}</span>")
    return "<pre class='sample'>" + "".join(spans) + "</pre>"


def build(
    run_dir: Path,
    out: Path | None = None,
    sample_len: int = 400,
    seed: int = 0,
    progress=None,
    overwrite: bool = False,
) -> Path:
    """Writes RUN_DIR/report.html (or `out`); `progress(phase, done, total)` hears about the
    passes over the validation text."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: not a run directory (give the --out of a training run).")
    out = out or run_dir / "report.html"
    check_replaceable(out, "report", overwrite=overwrite, ours=html.is_page)
    ckpt = checkpoint.read(run_dir)
    model = checkpoint.build_model(ckpt)
    records = read_metrics(run_dir)
    samples = {t: _sample(model, ckpt, t, sample_len, seed) for t in TEMPERATURES}
    run = summarize(ckpt)
    last = "train (last session)" if len(run.sessions) > 1 else "train"
    summary = {
        "checkpoint": f"{ckpt.path.name} (step {ckpt.meta.get('position', {}).get('step', 0):,})",
        "model": ", ".join(f"{k}={v}" for k, v in ckpt.model_config.to_dict().items()),
        "vocabulary": f"{ckpt.vocab.size} {ckpt.vocab.level}s",
        **{f"session {i + 1}": line for i, line in enumerate(session_lines(run))},
        **{f"{last}: {k}": v for k, v in (ckpt.meta.get("train_config") or {}).items()},
    }
    body = (
        f"<h1>charrnn run report: {html.esc(run_dir.name)}</h1>"
        f"{headline(ckpt, samples[HEADLINE_TEMPERATURE])}"
        f"<h2>Curves</h2>{curves(records)}"
        f"<h2>Samples</h2>"
        + "".join(
            f"<h3>temperature {t}</h3><pre class='sample'>{html.esc(text)}</pre>"
            for t, text in samples.items()
            if t != HEADLINE_TEMPERATURE  # shown at the top
        )
        + _units_section(model, ckpt, progress)
        + f"<h2>Configuration</h2>{_kv_table(summary)}"
    )
    page = html.page(f"charrnn report: {run_dir.name}", body)
    atomic_write_bytes(
        out,
        page.encode("utf-8"),
        what="report",
        error=OutputError,
        hint="Free disk space or give another --out file.",
    )
    return out


def _sample(model, ckpt, temperature: float, length: int, seed: int) -> str:
    steps = generate(
        model, ckpt.vocab, SampleConfig(length=length, temperature=temperature, seed=seed)
    )
    return "".join(ckpt.vocab.decode([s[0]]) for s in steps)


def _units_section(model, ckpt, progress=None) -> str:
    text = ckpt.meta.get("val_excerpt") or ""
    if len(text) < 50:
        return "<h2>Units</h2><p>No validation text in this checkpoint.</p>"
    ids = ckpt.vocab.encode(text)
    report = (lambda done, total: progress("units", done, total)) if progress else None
    chunks = unitsearch.streamed(model, ids, progress=report)
    ranking = unitsearch.rank_units(chunks, text, list(features.BUILTIN), top=5)
    wanted = {(s.quantity, s.layer, s.unit) for scores in ranking.values() for s in scores[:1]}
    series = unitsearch.collect_units(chunks, wanted)
    parts = [
        f"<h2>Units</h2><div class='sub'>Top units for each built-in feature on "
        f"{plural(len(text), 'character')} of validation text.</div>"
    ]
    for feature, scores in ranking.items():
        parts.append(html.ranking_tables({feature: scores}))
        if scores:
            s = scores[0]
            quantity = ckpt.model_config.cell_spec.quantity(s.quantity)
            values = activations.display_values(
                quantity, series[(s.quantity, s.layer, s.unit)][:600]
            )
            parts.append(
                f"<div class='sub'>layer {s.layer} unit {s.unit} ({s.quantity}), "
                f"r = {s.r:+.3f}</div>" + _colored_excerpt(text[:600], values)
            )
    return "".join(parts)

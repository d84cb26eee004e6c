"""`charrnn report RUN_DIR`: one HTML page about a run — loss curves (from metrics.jsonl), the
configuration, samples at three temperatures, and the units that follow the built-in text
features on a stretch of validation text kept in the checkpoint.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from charrnn import checkpoint, features, html, svg, unitsearch
from charrnn.errors import CheckpointError, OutputError
from charrnn.fileio import atomic_write_bytes
from charrnn.metrics import LN2, read_metrics
from charrnn.sample import SampleConfig, generate

TEMPERATURES = (0.5, 0.8, 1.0)


def curves(records: list[dict]) -> str:
    train = [(r["step"], r["loss"]) for r in records if r["kind"] == "train"]
    val = [(r["step"], r["val_loss"]) for r in records if r["kind"] == "val"]
    norm = [(r["step"], r["grad_norm"]) for r in records if r["kind"] == "train"]
    clip = [(r["step"], r["clip_frac"]) for r in records if r["kind"] == "train"]
    return (
        svg.line_chart(
            {"train": train, "val": val},
            title="loss (nats per character)",
            x_label="step",
            y_label="loss",
        )
        + svg.line_chart(
            {"grad norm (before clipping)": norm},
            title="gradient norm",
            x_label="step",
            y_label="global norm",
            log_y=True,
        )
        + svg.line_chart(
            {"fraction of steps clipped": clip},
            title="clipping",
            x_label="step",
            y_label="fraction",
        )
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
        shown = "↵\n" if ch == "\n" else ch
        spans.append(f"<span style='background:{html.diverging_rgb(v)}'>{html.esc(shown)}</span>")
    return "<pre class='sample'>" + "".join(spans) + "</pre>"


def build(run_dir: Path, out: Path | None = None, sample_len: int = 400, seed: int = 0) -> Path:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir}: not a run directory (give the --out of a training run).")
    ckpt = checkpoint.read(run_dir)
    model = checkpoint.build_model(ckpt)
    records = read_metrics(run_dir)
    cfg, pos = ckpt.model_config, ckpt.meta.get("position", {})
    best = pos.get("best_val_loss")
    summary = {
        "checkpoint": str(ckpt.path),
        "model": f"{cfg.num_layers}x{cfg.hidden_size} {cfg.model}, embed {cfg.embed_size}, "
        f"dropout {cfg.dropout}, {cfg.num_params():,} parameters",
        "vocabulary": f"{ckpt.vocab.size} {ckpt.vocab.unit}s",
        "steps": pos.get("step"),
        "training time": f"{pos.get('train_seconds', 0):.0f} s",
        "best val": f"{best:.4f} nats = {best / LN2:.4f} bpc" if best is not None else "-",
        **{f"train: {k}": v for k, v in (ckpt.meta.get("train_config") or {}).items()},
    }
    test = next((r for r in reversed(records) if r["kind"] == "test"), None)
    if test:
        summary["test"] = f"{test['test_loss']:.4f} nats = {test['test_bpc']:.4f} bpc"
    samples = []
    for t in TEMPERATURES:
        steps = generate(
            model, ckpt.vocab, SampleConfig(length=sample_len, temperature=t, seed=seed)
        )
        text = "".join(ckpt.vocab.decode([s[0]]) for s in steps)
        samples.append(f"<h3>temperature {t}</h3><pre class='sample'>{html.esc(text)}</pre>")
    body = (
        f"<h1>charrnn run report: {html.esc(run_dir.name)}</h1>"
        f"<h2>Curves</h2>{curves(records)}<h2>Configuration</h2>{_kv_table(summary)}"
        f"<h2>Samples</h2>{''.join(samples)}{_units_section(model, ckpt)}"
    )
    out = out or run_dir / "report.html"
    page = html.page(f"charrnn report: {run_dir.name}", body)
    atomic_write_bytes(
        out,
        page.encode("utf-8"),
        what="report",
        error=OutputError,
        hint="Free disk space or give another --out file.",
    )
    return out


def _units_section(model, ckpt) -> str:
    text = ckpt.meta.get("val_excerpt") or ""
    if len(text) < 50:
        return "<h2>Units</h2><p>No validation text in this checkpoint.</p>"
    ids = ckpt.vocab.encode(text)
    chunks = unitsearch.streamed(model, ids)
    ranking = unitsearch.rank_units(chunks, text, list(features.BUILTIN), top=5)
    wanted = {(s.quantity, s.layer, s.unit) for scores in ranking.values() for s in scores[:1]}
    series = unitsearch.collect_units(chunks, wanted)
    parts = [
        f"<h2>Units</h2><div class='sub'>Top units for each built-in feature on "
        f"{len(text)} characters of validation text.</div>"
    ]
    for feature, scores in ranking.items():
        parts.append(html.ranking_tables({feature: scores}))
        if scores:
            s = scores[0]
            quantity = ckpt.model_config.cell.quantity(s.quantity)
            values = html.display_values(quantity, series[(s.quantity, s.layer, s.unit)][:600])
            parts.append(
                f"<div class='sub'>layer {s.layer} unit {s.unit} ({s.quantity}), "
                f"r = {s.r:+.3f}</div>" + _colored_excerpt(text[:600], values)
            )
    return "".join(parts)

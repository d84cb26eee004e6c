"""What `charrnn info` shows about a checkpoint: the model, its vocabulary, how far it was
trained and on what, its snapshots, and the largest singular value of each recurrent matrix (a
first look at how the recurrence scales the state, beside `inspect --grad-flow`).
"""

from __future__ import annotations

import os

from charrnn.files.checkpoint import build_model, read
from charrnn.files.format import read_header, snapshots
from charrnn.inference.evaluate import bpc
from charrnn.inspection.gradflow import recurrent_singular_values
from charrnn.training.history import session_lines, summarize


def describe(path: str | os.PathLike) -> dict:
    """What `charrnn info` shows: model, vocabulary, progress, training config, and the largest
    singular value of each recurrent matrix."""
    c = read(path)
    pos = c.meta.get("position", {})
    run = summarize(c)
    best = run.best_val_loss
    return {
        "path": str(c.path),
        "format_version": c.meta["format_version"],
        "model_config": c.model_config.to_dict(),
        "parameters": c.model_config.num_params(),
        "vocab_size": c.vocab.size,
        "vocab_unit": c.vocab.level,
        "vocab": c.vocab.symbols,
        # the run's totals, over every session (the file itself may be the best checkpoint)
        "step": run.steps if pos else None,
        "epoch": run.epoch if pos else None,
        "tokens_seen": run.tokens if pos else None,
        "train_seconds": run.train_seconds if pos else None,
        "checkpoint_step": pos.get("step"),
        "best_step": run.best_step,
        "best_val_loss": best,
        "best_val_bpc": bpc(best) if best is not None else None,
        "test_bpc": bpc(run.test_loss) if run.test_loss is not None else None,
        "sessions": session_lines(run) if pos else [],
        "train_config": c.meta.get("train_config"),
        "corpus": c.meta.get("corpus"),
        "resumable": "rng.torch" in read_header(c.path)[0],
        "init_from": c.meta.get("init_from"),
        "snapshots": [p.name for p in snapshots(c.path.parent)],
        "recurrent_singular_values": recurrent_singular_values(build_model(c)),
    }

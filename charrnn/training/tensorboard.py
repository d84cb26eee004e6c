"""`charrnn train --tensorboard DIR`: the run's curves as TensorBoard event files, written from
the same records as metrics.jsonl (train loss, learning rate, gradient norm, clipping, chars/s,
val and test loss in bits per character), so `tensorboard --logdir DIR` shows them live.

TensorBoard is an optional extra (`pip install 'charrnn[tensorboard]'`): without it the option is
refused before any work starts, with that hint.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from charrnn.errors import ConfigError
from charrnn.training import events

TRAIN_SCALARS = {"loss": "train/loss", "lr": "train/lr", "grad_norm": "train/grad_norm",
                 "clip_frac": "train/clip_frac", "chars_per_s": "train/chars_per_s"}  # fmt: skip


def check_available() -> None:
    if importlib.util.find_spec("tensorboard") is None:
        raise ConfigError(
            "--tensorboard needs the tensorboard package: pip install 'charrnn[tensorboard]' "
            "(or pip install tensorboard), or leave the option out: metrics.jsonl has the same "
            "curves."
        )


class TensorBoardLog:
    """A training-event callback writing TensorBoard scalars."""

    def __init__(self, directory: Path):
        check_available()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(directory))

    def __call__(self, r: dict) -> None:
        kind, step = r["kind"], r.get("step", 0)
        if kind == events.Train.KIND:
            for key, tag in TRAIN_SCALARS.items():
                self.writer.add_scalar(tag, r[key], step)
        elif kind == events.Val.KIND:
            self.writer.add_scalar("val/bpc", r["val_bpc"], step)
            self.writer.add_scalar("val/loss", r["val_loss"], step)
        elif kind == events.Test.KIND:
            self.writer.add_scalar("test/bpc", r["test_bpc"], step)
        elif kind in (events.Done.KIND, events.Checkpoint.KIND):
            self.writer.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.writer.close()
        return False

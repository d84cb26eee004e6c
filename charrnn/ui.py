"""Presentation for the CLI: the training progress display and small formatting helpers.

On a terminal, training shows a Rich progress bar (epoch, step, train loss, val bpc, chars/s,
ETA); anywhere else (CI logs, pipes) it prints plain one-line records, at most one every few
seconds plus every validation. Everything here writes to stderr; only results go to stdout.
"""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)


def human_count(n: float) -> str:
    for unit in ("", "k", "M", "G"):
        if abs(n) < 1000:
            return f"{n:.3g}{unit}"
        n /= 1000
    return f"{n:.3g}T"


class TrainView:
    """Consumes the training loop's records and shows them."""

    def __init__(self, live: bool | None = None, plain_interval: float = 5.0, quiet: bool = False):
        self.live = err.is_terminal if live is None else live
        self.quiet = quiet
        self.plain_interval = plain_interval
        self.last_plain = 0.0
        self.val_bpc = None
        self.progress = None
        self.task = None

    def __enter__(self):
        if self.live and not self.quiet:
            self.progress = Progress(
                TextColumn("[bold]train"),
                BarColumn(bar_width=24),
                TextColumn("{task.percentage:>3.0f}%"),
                TextColumn("{task.fields[status]}"),
                TimeRemainingColumn(),
                console=err,
                transient=False,
            )
            self.progress.__enter__()
            self.task = self.progress.add_task("train", total=1.0, status="starting")
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.__exit__(*exc)
        return False

    def say(self, text: str) -> None:
        if not self.quiet:
            (self.progress.console if self.progress else err).print(text)

    def __call__(self, r: dict) -> None:
        kind = r["kind"]
        if kind == "start":
            cfg = r["model_config"]
            self.say(
                f"model: {cfg['num_layers']}x{cfg['hidden_size']} {cfg['model']}, embed "
                f"{cfg['embed_size']}, {human_count(r['params'])} parameters; data: "
                f"{human_count(r['train_chars'])} train / {human_count(r['val_chars'])} val / "
                f"{human_count(r['test_chars'])} test chars, {r['steps_per_epoch']} steps per epoch"
                + (f"; resuming at step {r['step']}" if r["resumed"] else "")
            )
        elif kind == "train":
            status = (
                f"epoch {r['epoch']} step {r['step']} loss {r['loss']:.3f}"
                + (f" val bpc {self.val_bpc:.3f}" if self.val_bpc is not None else "")
                + f" | {human_count(r['chars_per_s'])} chars/s"
                + f" | grad {r['grad_norm']:.2f} clip {r['clip_frac']:.0%}"
            )
            if self.progress is not None:
                self.progress.update(self.task, completed=r["progress"], status=status)
            elif time.monotonic() - self.last_plain >= self.plain_interval:
                self.last_plain = time.monotonic()
                self.say(f"{status} | {r['progress']:.0%} | lr {r['lr']:.2e}")
        elif kind == "val":
            self.val_bpc = r["val_bpc"]
            self.say(
                f"step {r['step']}: val loss {r['val_loss']:.4f} nats, {r['val_bpc']:.4f} bpc"
                + (" (best)" if r["best"] else "")
            )
        elif kind == "test":
            self.say(f"test loss {r['test_loss']:.4f} nats, {r['test_bpc']:.4f} bpc")
        elif kind == "nonfinite":
            self.say(
                f"[yellow]step {r['step']}: non-finite loss or gradient, update skipped "
                f"({r['in_a_row']} in a row)[/]"
            )
        elif kind == "note":
            self.say(r["text"])
        if self.progress is not None and kind in ("done", "checkpoint"):
            self.progress.update(self.task, completed=1.0 if kind == "done" else None)

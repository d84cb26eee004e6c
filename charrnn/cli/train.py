"""`charrnn train`: build the typed request from the options, run it with the training view, and
say how it ended; Ctrl-C / SIGTERM save and stop.
"""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from charrnn.cli.app import (
    Interrupted,
    app,
    declared,
    examples,
    given_options,
    signals_handled,
    values,
)
from charrnn.data.config import DataConfig
from charrnn.model.config import ModelConfig
from charrnn.training.config import TrainConfig, TrainRequest, request_from

# --------------------------------------------------------------------------- train
EXAMPLES_TRAIN = examples(
    "charrnn train mytext.txt --time 10m",
    "charrnn train mytext.txt --hidden-size 256 --num-layers 2 --epochs 5 -o runs/small",
    "charrnn train mytext.txt --resume runs/mytext --time 20m   # 20 minutes more",
    "charrnn train new.txt --init-from runs/mytext --extend-vocab --max-steps 2000",
)


@app.command(epilog=EXAMPLES_TRAIN)
@declared(TrainRequest, ModelConfig, TrainConfig, DataConfig)
def train(
    ctx: typer.Context,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
    **options,
):
    """Train a model on a text file (truncated BPTT over parallel streams), saving checkpoints."""
    from charrnn.render import terminal
    from charrnn.training import launch

    request = request_from(values(options), given=given_options(ctx))
    file = request.file
    stop = _StopFlag()
    with (
        stop.installed(),
        terminal.TrainView(quiet=quiet) as view,
        terminal.byte_progress(not quiet) as progress,
    ):
        result = launch.run(request, on_event=view, should_stop=stop, progress=progress)
    if result.stopped_by == "signal":
        terminal.note(
            f"interrupted at step {result.position.step}: saved "
            f"{result.out_dir / 'latest.ckpt'}; continue with "
            f"`charrnn train {file} --resume {result.out_dir}`"
        )
        raise typer.Exit(stop.exit_code)
    if result.is_main:
        terminal.result(terminal.safe(_summary(result)))


def _summary(result) -> str:
    from charrnn.inference.evaluate import bpc
    from charrnn.render.numbers import count

    pos, out = result.position, result.out_dir
    line = f"done: {pos.step} steps in {pos.train_seconds:.0f}s"
    if result.chars_per_s:
        line += f" at {count(result.chars_per_s)} chars/s"
        if result.expected_chars_per_s:
            line += f" (autosize predicted {count(result.expected_chars_per_s)})"
    if pos.best_val_loss is not None:
        line += f"; best val {pos.best_val_loss:.4f} nats = {bpc(pos.best_val_loss):.4f} bpc"
    if result.test_loss is not None:
        line += f"; test {bpc(result.test_loss):.4f} bpc"
    return f"{line}; checkpoints: {out}/best.ckpt, {out}/latest.ckpt"


class _StopFlag:
    """SIGINT / SIGTERM ask the training loop to save and stop; a second Ctrl-C stops at once."""

    def __init__(self):
        self.signum = None

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + (self.signum or signal.SIGINT)

    def _handle(self, signum, frame):
        if self.signum is not None and signum == signal.SIGINT:
            raise Interrupted(signum)
        self.signum = signum

    def installed(self):
        return signals_handled(self._handle)

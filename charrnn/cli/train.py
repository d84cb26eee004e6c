"""`charrnn train`: build the typed request from the options, run it with the training view, and
say how it ended; Ctrl-C / SIGTERM save and stop.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cli.app import (
    CacheDirOpt,
    D,
    DeviceOpt,
    Interrupted,
    M,
    MaxVocabOpt,
    MinCountOpt,
    ModelType,
    Precision,
    T,
    ThreadsOpt,
    Unit,
    UnitOpt,
    app,
    config_option,
    examples,
    given_options,
)
from charrnn.data.config import DataOptions
from charrnn.model.cells import CELLS
from charrnn.model.config import ModelConfig
from charrnn.training.config import TrainConfig, parse_duration

# --------------------------------------------------------------------------- train
EXAMPLES_TRAIN = examples(
    "charrnn train mytext.txt --time 10m",
    "charrnn train mytext.txt --hidden-size 256 --num-layers 2 --epochs 5 -o runs/small",
    "charrnn train mytext.txt --resume runs/mytext --time 20m   # 20 minutes more",
    "charrnn train new.txt --init-from runs/mytext --extend-vocab --max-steps 2000",
)


@app.command(epilog=EXAMPLES_TRAIN)
def train(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="UTF-8 text file to learn from.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Run directory: latest.ckpt, best.ckpt, metrics.jsonl. Default: runs/<file name>.",
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue a run: its directory (latest.ckpt) or a full checkpoint. Stop options "
            "given now mean that much more training."
        ),
    ] = None,
    init_from: Annotated[
        Path | None,
        typer.Option(
            help="Fine-tune: start a new run from these weights (a run directory, a checkpoint "
            "or an export), keeping the model and its vocabulary; fresh optimizer and schedule."
        ),
    ] = None,
    extend_vocab: Annotated[
        bool,
        typer.Option(
            "--extend-vocab",
            help="With --init-from: add the characters of FILE the model never saw (new rows).",
        ),
    ] = False,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in --out.")] = False,
    model: Annotated[
        ModelType,
        config_option(
            M, "model", more="; ".join(f"{k}: {c.about}" for k, c in CELLS.items()) + "."
        ),
    ] = M.model,
    num_layers: Annotated[int, config_option(M, "num_layers")] = M.num_layers,
    hidden_size: Annotated[
        int,
        config_option(
            M, "hidden_size", more="With --time and no size options, sized to the budget."
        ),
    ] = M.hidden_size,
    embed_size: Annotated[int, config_option(M, "embed_size")] = M.embed_size,
    dropout: Annotated[float, config_option(M, "dropout")] = M.dropout,
    seq_len: Annotated[int, config_option(T, "seq_len")] = T.seq_len,
    batch_size: Annotated[
        int, config_option(T, "batch_size", more="(Tuned for CPUs; on a GPU use 64 or more.)")
    ] = T.batch_size,
    chunk_len: Annotated[int, config_option(T, "chunk_len")] = T.chunk_len,
    val_frac: Annotated[float, config_option(T, "val_frac")] = T.val_frac,
    test_frac: Annotated[float, config_option(T, "test_frac")] = T.test_frac,
    unit: UnitOpt = Unit.char,
    max_vocab: MaxVocabOpt = None,
    min_count: MinCountOpt = D.min_count,
    cache_dir: CacheDirOpt = None,
    lr: Annotated[float, config_option(T, "lr")] = T.lr,
    min_lr_frac: Annotated[float, config_option(T, "min_lr_frac")] = T.min_lr_frac,
    decay_frac: Annotated[float, config_option(T, "decay_frac")] = T.decay_frac,
    warmup_steps: Annotated[int, config_option(T, "warmup_steps")] = T.warmup_steps,
    weight_decay: Annotated[float, config_option(T, "weight_decay")] = T.weight_decay,
    grad_clip: Annotated[float, config_option(T, "grad_clip")] = T.grad_clip,
    seed: Annotated[int, config_option(T, "seed")] = T.seed,
    ema: Annotated[float | None, config_option(T, "ema")] = T.ema,
    epochs: Annotated[float | None, config_option(T, "epochs")] = None,
    max_steps: Annotated[int | None, config_option(T, "max_steps")] = None,
    time: Annotated[
        str | None,
        config_option(T, "time_limit", "--time", more="With no stop option: 10 epochs."),
    ] = None,
    eval_every: Annotated[int, config_option(T, "eval_every")] = T.eval_every,
    keep_every: Annotated[int | None, config_option(T, "keep_every")] = None,
    log_every: Annotated[int, config_option(T, "log_every")] = T.log_every,
    device: DeviceOpt = "auto",
    precision: Annotated[
        Precision,
        typer.Option(
            help="auto: bf16 autocast where the hardware runs it fast (CUDA, AVX512-BF16/AMX "
            "CPUs), else fp32. fp16 needs a GPU."
        ),
    ] = Precision.auto,
    threads: ThreadsOpt = None,
    tensorboard: Annotated[
        Path | None,
        typer.Option(
            help="Also write the curves as TensorBoard events in this directory (needs the "
            "tensorboard package: pip install 'charrnn[tensorboard]')."
        ),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
):
    """Train a model on a text file (truncated BPTT over parallel streams), saving checkpoints."""
    from charrnn.render import terminal
    from charrnn.training import launch

    given = {"time_limit" if name == "time" else name for name in given_options(ctx)}
    request = launch.TrainRequest(
        file=file,
        model=ModelConfig(
            model=model.value,
            num_layers=num_layers,
            hidden_size=hidden_size,
            embed_size=embed_size,
            dropout=dropout,
        ),
        train=TrainConfig(
            seq_len=seq_len,
            batch_size=batch_size,
            chunk_len=chunk_len,
            lr=lr,
            min_lr_frac=min_lr_frac,
            decay_frac=decay_frac,
            warmup_steps=warmup_steps,
            weight_decay=weight_decay,
            grad_clip=grad_clip,
            epochs=epochs,
            max_steps=max_steps,
            time_limit=parse_duration(time) if time is not None else None,
            eval_every=eval_every,
            keep_every=keep_every,
            val_frac=val_frac,
            test_frac=test_frac,
            log_every=log_every,
            seed=seed,
            ema=ema,
        ),
        data=DataOptions(
            unit=unit.value, max_vocab=max_vocab, min_count=min_count, cache_dir=cache_dir
        ),
        given=frozenset(given),
        out=out,
        resume=resume,
        init_from=init_from,
        extend_vocab=extend_vocab,
        overwrite=overwrite,
        device=device,
        precision=precision.value,
        threads=threads,
        tensorboard=tensorboard,
    )
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

    pos, out = result.position, result.out_dir
    line = f"done: {pos.step} steps in {pos.train_seconds:.0f}s"
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
        import contextlib

        @contextlib.contextmanager
        def scope():
            old = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for s, h in old.items():
                    signal.signal(s, h)

        return scope()

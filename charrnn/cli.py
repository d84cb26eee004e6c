"""The `charrnn` command: Typer declarations and one thin function per command. Each builds the
typed configs or request from its options (checked before any file is read), calls the library,
and hands the result to terminal.py / tables.py, the only modules that write to the terminal.

torch and the heavy modules are imported inside the commands, so `charrnn --help` is instant.
`main()` turns usage errors and library errors (`CharRNNError`) into one line and an exit code.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cells import CELLS
from charrnn.errors import CharRNNError, ConfigError, DataError
from charrnn.modelconfig import ModelConfig
from charrnn.options import help_of, range_of
from charrnn.sample import SampleConfig
from charrnn.trainconfig import DataOptions, TrainConfig, parse_duration

app = typer.Typer(
    name="charrnn",
    help="Train character-level RNN language models, sample from them, and look inside them.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help texts are shown as written
    context_settings={"help_option_names": ["-h", "--help"]},
)
corpus_app = typer.Typer(
    help="Get, build or generate corpora.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(corpus_app, name="corpus")


def _show_version(value: bool) -> None:
    if value:
        from charrnn import __version__

        print(f"charrnn {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", is_eager=True, callback=_show_version
        ),
    ] = False,
):
    """Train character-level RNN language models, sample from them, and look inside them."""


M, T, D, S = ModelConfig, TrainConfig, DataOptions, SampleConfig
ModelType = Enum("ModelType", {name: name for name in CELLS}, type=str)  # --model choices


class Unit(str, Enum):
    char = "char"
    byte = "byte"


class Unknown(str, Enum):
    map = "map"
    skip = "skip"
    error = "error"


UnknownOpt = Annotated[
    Unknown,
    typer.Option(
        help="Characters the model never saw: map (read each as the model's unknown symbol, or "
        "the text's most frequent known character, and score those positions apart), skip (drop "
        "them), or error (refuse, listing them)."
    ),
]


class Precision(str, Enum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


def examples(*lines: str) -> str:
    """An "Examples" block for a command's help, its lines kept as written (click's \\b)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def config_option(cls, name: str, *decls: str, more: str = "", **kwargs):
    """A Typer option for a config field: its help text and closed bounds come from the field's
    declaration (options.py); open bounds and NaN are refused by the config itself."""
    limits = range_of(cls, name)
    bounds = {}
    if limits.low is not None and not limits.low_open:
        bounds["min"] = limits.low
    if limits.high is not None and not limits.high_open:
        bounds["max"] = limits.high
    return typer.Option(*decls, help=" ".join(x for x in (help_of(cls, name), more) if x),
                        **bounds, **kwargs)  # fmt: skip


# Options shared by several commands: defined once.
CkptArg = Annotated[
    Path,
    typer.Argument(
        help="Checkpoint file, or a run directory (meaning its best.ckpt).", show_default=False
    ),
]
DeviceOpt = Annotated[
    str, typer.Option(help="auto (CUDA when present, else CPU), cpu, cuda, cuda:N or mps.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
UnitOpt = Annotated[Unit, config_option(D, "unit")]
MaxVocabOpt = Annotated[int | None, config_option(D, "max_vocab")]
MinCountOpt = Annotated[int, config_option(D, "min_count")]
CacheDirOpt = Annotated[
    Path | None,
    typer.Option(help="Where token files of large corpora are cached. Default: ~/.cache/charrnn."),
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        min=1, max=8 * (os.cpu_count() or 1), help="CPU threads for torch. Default: torch's choice."
    ),
]


def parse_units(text: str) -> list[int]:
    """'0-9,17' -> [0, ..., 9, 17]."""
    units = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            units.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ConfigError(
            f"--units {text!r}: write unit numbers and ranges, e.g. 0-9,17."
        ) from None
    return units


def given_options(ctx: typer.Context) -> frozenset:
    """The parameters the user set (on the command line), as opposed to their defaults."""
    return frozenset(
        name
        for name in ctx.params
        if (source := ctx.get_parameter_source(name)) is not None and source.name != "DEFAULT"
    )


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
    from charrnn import launch, terminal

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
    from charrnn.metrics import bpc

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
            raise KeyboardInterrupt
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


# --------------------------------------------------------------------------- sample
EXAMPLES_SAMPLE = examples(
    'charrnn sample runs/mytext --prime "The " --temperature 0.7 --length 1000',
    "charrnn sample runs/mytext --num-samples 5 --stop $'\\n\\n' --seed 1",
    "echo 'def ' | charrnn sample runs/code --prime-file -",
)


@app.command(epilog=EXAMPLES_SAMPLE)
def sample(
    ckpt: CkptArg,
    length: Annotated[int, config_option(S, "length", "--length", "-n")] = S.length,
    temperature: Annotated[
        float, config_option(S, "temperature", "--temperature", "-t")
    ] = S.temperature,
    top_k: Annotated[int | None, config_option(S, "top_k")] = None,
    argmax: Annotated[
        bool, typer.Option("--argmax", help="Always take the most likely character (greedy).")
    ] = False,
    prime: Annotated[str, typer.Option(help="Text to start from; it is printed first.")] = "",
    prime_file: Annotated[
        Path | None, typer.Option(help="Read the prime text from this file (- for stdin).")
    ] = None,
    stop: Annotated[
        str | None,
        typer.Option(help="End each sample at the first occurrence of this text (not printed)."),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(help="Random seed, for a reproducible sample. Default: a fresh one, shown."),
    ] = None,
    num_samples: Annotated[int, config_option(S, "num_samples")] = S.num_samples,
    device: Annotated[
        str,
        typer.Option(
            help="auto (the numpy step on the CPU, fastest for a few samples; a GPU for 64 or "
            "more samples when there is one), cpu, cuda, cuda:N or mps."
        ),
    ] = "auto",
):
    """Generate text from a checkpoint, streamed to stdout as it is made."""
    from charrnn import terminal
    from charrnn.sample import prime_ids, sampler, sampling_device

    if prime_file is not None:
        prime = _read_prime(prime_file)
    fresh_seed = seed is None
    if fresh_seed:
        seed = random.SystemRandom().randrange(2**31)
    cfg = SampleConfig(
        length=length,
        temperature=temperature,
        top_k=top_k,
        argmax=argmax,
        prime=prime,
        seed=seed,
        num_samples=num_samples,
        stop=stop,
    )
    vocab, generate = sampler(ckpt, sampling_device(device, num_samples))
    prime_ids(vocab, cfg.prime)  # refuses characters the model never saw, before any output
    if fresh_seed:
        terminal.note(f"seed: {seed} (give --seed {seed} to repeat this sample)")
    _stream_samples(vocab, generate(cfg), cfg)


def _read_prime(path: Path) -> str:
    try:
        if str(path) == "-":
            return sys.stdin.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DataError(f"--prime-file {path}: cannot read it as UTF-8 text ({e}).") from None


def _stream_samples(vocab, steps, cfg) -> None:
    """Sample 1 streams to stdout as it is made; samples 2..N follow it, headed on stderr."""
    from charrnn import terminal
    from charrnn.sample import text_pieces

    rest = [[] for _ in range(cfg.num_samples)]
    write, started = sys.stdout.write, time.perf_counter()
    if cfg.num_samples > 1:
        terminal.note(f"--- sample 1 of {cfg.num_samples}")
    write(cfg.prime)
    for step, pieces in enumerate(text_pieces(vocab, steps, cfg)):
        write(pieces[0])
        for b in range(1, cfg.num_samples):
            rest[b].append(pieces[b])
        if step % 32 == 0:
            sys.stdout.flush()
    write("\n")
    if cfg.num_samples > 1:
        chars = cfg.num_samples * sum(map(len, rest[1]))
        rate = chars / (time.perf_counter() - started)
        terminal.note(
            f"generated {cfg.num_samples} samples, {chars:,} characters at {rate:,.0f} chars/s"
        )
    for b in range(1, cfg.num_samples):
        sys.stdout.flush()
        terminal.note(f"--- sample {b + 1} of {cfg.num_samples}")
        write(cfg.prime + "".join(rest[b]) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- inspect
EXAMPLES_INSPECT = examples(
    "charrnn inspect runs/mytext mytext.txt --html look.html",
    "charrnn inspect runs/mytext mytext.txt --find quotes --find line_pos",
    "charrnn inspect runs/mytext --text 'f(a, (b))' --out acts.npz",
    "charrnn inspect runs/rnn text.txt --grad-flow --compare runs/lstm",
)


@app.command(epilog=EXAMPLES_INSPECT)
def inspect(
    ckpt: CkptArg,
    file: Annotated[
        Path | None,
        typer.Argument(help="Text file to run through the model.", show_default=False),
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="Text to run through the model (instead of FILE).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write activations: .npz (arrays [layer, time, unit] + text) or .json.",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Write a self-contained page: text colored by a chosen unit, "
            "top-5 guesses on hover, unit rankings, gate saturation."
        ),
    ] = None,
    find: Annotated[
        list[str] | None,
        typer.Option(
            help="Rank units by how well they follow a feature: quotes, brackets, "
            "line_pos, indent, comment, word_pos, eol, regex:PATTERN, or all. "
            "Repeat for several."
        ),
    ] = None,
    match: Annotated[
        str | None,
        typer.Option(
            help="START:END: units on over this span and off around it, and the "
            "other places where they are on together (as in LSTMVis)."
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="--match: a unit is on above this.")] = 0.3,
    saturation: Annotated[
        bool, typer.Option("--saturation", help="Print gate saturation statistics.")
    ] = False,
    as_json: JsonOpt = False,
    layer: Annotated[
        list[int] | None, typer.Option(help="Only this layer (0-based); repeat for several.")
    ] = None,
    units: Annotated[str | None, typer.Option(help="Only these units, e.g. 0-9,17.")] = None,
    quantity: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these quantities: "
            + "; ".join(f"{', '.join(c.quantity_names)} ({name})" for name, c in CELLS.items())
            + "."
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Units listed per feature.")] = 10,
    grad_flow: Annotated[
        bool,
        typer.Option(
            "--grad-flow",
            help="Norm of dL_T/dh_(T-k) (and dL_T/dc_(T-k) for an LSTM) "
            "for k = 0..--horizon, averaged over windows.",
        ),
    ] = False,
    horizon: Annotated[int, typer.Option(min=1, help="--grad-flow: steps back (K).")] = 50,
    windows: Annotated[int, typer.Option(min=1, help="--grad-flow: windows averaged over.")] = 32,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="--grad-flow: also measure this checkpoint on the same text and show "
            "the two side by side (e.g. a vanilla RNN against an LSTM)."
        ),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Use at most this many characters of the text.")
    ] = 20000,
    unknown: UnknownOpt = Unknown.map,
):
    """Look inside a model: per-character activations (hidden, cell, gates), unit search,
    span matching, gate saturation, and an HTML viewer."""
    from charrnn.inspecting import InspectRequest

    if (file is None) == (text is None):
        raise ConfigError("give the text as a FILE argument or with --text (one of the two).")
    request = InspectRequest(out, html, tuple(find or ()), match, saturation, grad_flow, as_json)
    _inspect(
        request,
        ckpt,
        file if file is not None else text,
        dict(layers=layer, units=parse_units(units) if units else None, quantities=quantity,
             max_chars=max_chars, unknown=unknown.value),
        top=top, threshold=threshold, horizon=horizon, windows=windows, compare=compare,
    )  # fmt: skip


def _inspect(request, ckpt, source, selection, *, top, threshold, horizon, windows, compare):
    """Load once and run the actions asked for (a progress bar on long texts), then render."""
    from charrnn import inspecting as lib
    from charrnn import tables, terminal

    with terminal.progress(not request.as_json) as progress:
        subject = lib.load(
            ckpt, source, **selection, in_memory=request.in_memory, progress=progress
        )
        dumped = lib.dump(subject, request.out) if request.out else None
        names = lib.feature_names(request.find or (["all"] if request.html else []))
        ranking = lib.rank(subject, names, top) if names else {}
        shown = lib.excerpts(subject, ranking) if request.find and not request.as_json else {}
        sat = lib.saturation(subject) if request.saturation or request.html else {}
        found = lib.match(subject, request.match, threshold) if request.match else None
        flows = lib.grad_flow(subject, horizon, windows, compare) if request.grad_flow else {}
        page = lib.page(subject, request.html, ranking, sat, flows) if request.html else None
    if subject.reading.unseen:
        terminal.note(subject.reading.describe())
    if dumped:
        terminal.note(f"activations: {dumped['path']} ({dumped['chars']} characters, "
                      f"{', '.join(dumped['quantities'])})")  # fmt: skip
    if request.find:
        _show_ranking(ranking, shown, request.as_json)
    if request.saturation:
        terminal.out.print(tables.saturation(sat, subject.layers))
    if found:
        terminal.out.print(tables.span_match(found, subject.text))
    if flows:
        _show_flows(flows, request.as_json)
    if page:
        terminal.note(_page_note(page))


def _show_ranking(ranking: dict, shown: dict, as_json: bool) -> None:
    from charrnn import html, tables, terminal

    if as_json:
        terminal.result(json.dumps([s.to_dict() for f in ranking for s in ranking[f]], indent=1))
        return
    for feature, excerpts in shown.items():
        colored = {k: tables.colored_excerpt(*v, html.diverging_rgb) for k, v in excerpts.items()}
        terminal.out.print(tables.ranking(feature, ranking[feature], colored))


def _show_flows(flows: dict, as_json: bool) -> None:
    from charrnn import tables, terminal

    if as_json:
        docs = {name: f.to_dict() for name, f in flows.items()}
        terminal.result(json.dumps(next(iter(docs.values())) if len(docs) == 1 else docs))
    else:
        terminal.out.print(tables.grad_flow(flows))


def _page_note(page: dict) -> str:
    from charrnn.inspecting import HTML_BYTES_BUDGET

    note = f"page: {page['path']}"
    if page["left_out"]:
        note += (
            f" (it leaves out {', '.join(page['left_out'])} to stay under "
            f"{HTML_BYTES_BUDGET >> 20} MB; choose with --quantity, --layer, --units or fewer "
            f"--max-chars)"
        )
    return note


# --------------------------------------------------------------------------- eval
EXAMPLES_EVAL = examples(
    "charrnn eval runs/mytext heldout.txt",
    "charrnn eval runs/mytext heldout.txt --json --html surprise.html",
    "charrnn eval runs/mytext last10pct.txt --fresh-windows   # nanoGPT's protocol",
)


@app.command(name="eval", epilog=EXAMPLES_EVAL)
def eval_(
    ckpt: CkptArg,
    file: Annotated[Path, typer.Argument(help="Text file to score.", show_default=False)],
    fresh_windows: Annotated[
        bool,
        typer.Option(
            help="nanoGPT's protocol: separate --window-length windows, each from a zero state, "
            "instead of reading the text once with the state carried."
        ),
    ] = False,
    window_length: Annotated[
        int, typer.Option(min=1, help="--fresh-windows: characters per window (nanoGPT: 256).")
    ] = 256,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write a page coloring each character by the model's loss on "
            "it, with its top-5 guesses on hover (first --max-chars characters)."
        ),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Characters shown in the --html page.")
    ] = 20000,
    unknown: UnknownOpt = Unknown.map,
):
    """The model's loss on a text file, in nats and bits per character: every character after
    the first, read once with the state carried (or, by name, nanoGPT's windows)."""
    from charrnn import terminal
    from charrnn.evaluate import score_file

    if html is not None:
        from charrnn.inspecting import check_page_name, surprise_page

        check_page_name(html)
    window = window_length if fresh_windows else None
    with terminal.progress(not as_json) as progress:
        report = (lambda done, total: progress("scoring", done, total)) if progress else None
        score, reading = score_file(
            ckpt, file, window=window, device=device, unknown=unknown.value, progress=report
        )
        if html is not None:
            page = surprise_page(ckpt, file, html, max_chars, score, unknown.value, progress)
    if html is not None:
        terminal.note(f"page: {page['path']} ({page['chars']:,} characters shown)")
    if reading.unseen:
        apart = score.to_dict().get("scored_apart")
        terminal.note(
            reading.describe() + (f" ({apart['bpc']:.3f} bits/char on them)" if apart else "")
        )
    if as_json:
        terminal.result(
            json.dumps({**score.to_dict(), "file": str(file), "unknown": reading.to_dict()})
        )
    else:
        terminal.result(
            terminal.safe(
                f"{file}: {score.bpc:.4f} bits/char ({score.loss:.4f} nats/char) over "
                f"{score.chars:,} characters, {score.how}"
            )
        )


# --------------------------------------------------------------------------- info
EXAMPLES_INFO = examples(
    "charrnn info runs/mytext",
    "charrnn info runs/mytext/latest.ckpt --json",
)


@app.command(epilog=EXAMPLES_INFO)
def info(ckpt: CkptArg, as_json: JsonOpt = False):
    """What a checkpoint holds: model, training config, vocabulary, progress."""
    from charrnn import tables, terminal
    from charrnn.checkpoint import describe

    summary = describe(ckpt)
    if as_json:
        terminal.result(json.dumps(summary, indent=2))
    else:
        terminal.out.print(tables.checkpoint_summary(summary))


# --------------------------------------------------------------------------- report
EXAMPLES_REPORT = examples(
    "charrnn report runs/mytext",
    "charrnn report runs/mytext -o report.html",
)


@app.command(epilog=EXAMPLES_REPORT)
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A training run's directory.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Page to write. Default: RUN_DIR/report.html."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the samples.")] = 0,
):
    """One HTML page about a run: curves, config, samples, and the units found."""
    from charrnn import report as report_module
    from charrnn import terminal

    with terminal.progress() as progress:
        page = report_module.build(run_dir, out, seed=seed, progress=progress)
    terminal.result(terminal.safe(page))


# --------------------------------------------------------------------------- export
EXAMPLES_EXPORT = examples(
    "charrnn export runs/mytext shared/mytext-lstm",
)


@app.command(epilog=EXAMPLES_EXPORT)
def export(
    ckpt: CkptArg,
    out_dir: Annotated[
        Path, typer.Argument(help="Directory to write the package into.", show_default=False)
    ],
    seed: Annotated[int, typer.Option(help="Seed for the model card's sample.")] = 0,
):
    """Package a model for sharing: model.safetensors (weights), config.json (sizes and
    vocabulary) and README.md (a model card), with no local path and no validation text."""
    from charrnn import terminal
    from charrnn.export import export as export_model

    terminal.result(terminal.safe(export_model(ckpt, out_dir, seed=seed)))


# --------------------------------------------------------------------------- bench
EXAMPLES_BENCH = examples(
    "charrnn bench",
    "charrnn bench --config 1x512 --batch-size 8 --seq-len 64 --seconds 20",
)


@app.command(epilog=EXAMPLES_BENCH)
def bench(
    config: Annotated[
        list[str] | None,
        typer.Option(help="LAYERSxHIDDEN models to time (repeat). Default: 2x256 and 2x512."),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(min=1, help="Streams per batch. Default: 64 on a CPU, 256 on a GPU."),
    ] = None,
    seq_len: Annotated[int, typer.Option(min=1, help="Steps per window.")] = 128,
    seconds: Annotated[
        float, typer.Option(min=0.1, help="Training seconds per measurement.")
    ] = 10.0,
    bf16: Annotated[bool, typer.Option(help="Also time bf16 autocast.")] = True,
    reference: Annotated[bool, typer.Option(help="Also time the plain PyTorch loop.")] = True,
    threads: ThreadsOpt = None,
    device: Annotated[str, typer.Option(help="cpu, or cuda to time training on a GPU.")] = "cpu",
    as_json: JsonOpt = False,
):
    """Training and sampling throughput, side by side with a plain PyTorch loop."""
    from charrnn import bench as bench_module
    from charrnn import tables, terminal
    from charrnn.runtime import pick_device, set_threads

    kind = pick_device(device).type
    names = config or (["2x256", "2x512"] if kind == "cpu" else ["3x512", "2x1024"])
    batch = batch_size or (64 if kind == "cpu" else 256)
    configs = [bench_module.parse_config(c, batch, seq_len) for c in names]
    set_threads(threads)
    result = bench_module.run(
        configs,
        seconds=seconds,
        reference=reference,
        precisions=("fp32", "bf16") if bf16 else ("fp32",),
        progress=lambda msg: terminal.note(f"bench: {msg}", style="dim"),
        device=kind,
    )
    if as_json:
        terminal.result(json.dumps(result, indent=1))
        return
    for part in tables.bench(result, bf16, reference):
        terminal.out.print(part)


# --------------------------------------------------------------------------- prepare
EXAMPLES_PREPARE = examples(
    "charrnn prepare big.txt",
    "charrnn prepare big.txt --unit byte --cache-dir /data/cache",
)


@app.command(epilog=EXAMPLES_PREPARE)
def prepare(
    file: Annotated[Path, typer.Argument(help="Text file to encode.", show_default=False)],
    unit: UnitOpt = Unit.char,
    max_vocab: MaxVocabOpt = None,
    min_count: MinCountOpt = D.min_count,
    cache_dir: CacheDirOpt = None,
):
    """Encode a text file into a cached token file once (train does this on demand)."""
    from charrnn import terminal
    from charrnn.corpus import default_cache_dir, load_corpus

    options = DataOptions(
        unit=unit.value, max_vocab=max_vocab, min_count=min_count, cache_dir=cache_dir
    )
    with terminal.byte_progress() as progress:
        corpus = load_corpus(file, options, progress, force_cache=True, warn=terminal.note)
    terminal.result(
        terminal.safe(
            f"{len(corpus)} tokens, vocabulary {corpus.vocab.size} ({corpus.vocab.unit}); "
            f"cached in {cache_dir or default_cache_dir()}"
        )
    )


# --------------------------------------------------------------------------- corpus
def _corpora():
    """charrnn.corpora: the top-level corpora/ folder, which installing maps into charrnn."""
    try:
        from charrnn import corpora
    except ImportError:
        raise CharRNNError(
            "charrnn.corpora is not installed (running from a source tree?); install charrnn "
            "with `pip install -e .` from the repository root."
        ) from None
    return corpora


EXAMPLES_CORPUS_LIST = examples(
    "charrnn corpus list",
)


@corpus_app.command("list", epilog=EXAMPLES_CORPUS_LIST)
def corpus_list():
    """Corpora charrnn can download or build."""
    from charrnn import tables, terminal

    corpora = _corpora()

    terminal.out.print(tables.corpora(corpora.recipes(), corpora.BUILDERS))


EXAMPLES_CORPUS_GET = examples(
    "charrnn corpus get tinyshakespeare",
    "charrnn corpus get warpeace -o data",
)


@corpus_app.command("get", epilog=EXAMPLES_CORPUS_GET)
def corpus_get(
    name: Annotated[
        str, typer.Argument(help="Corpus name (see `charrnn corpus list`).", show_default=False)
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", "--dir", help="Directory to save NAME.txt in.")
    ] = Path("data"),
    url: Annotated[str | None, typer.Option(help="Download from this mirror instead.")] = None,
):
    """Download a classic corpus and check its sha256."""
    from charrnn import terminal

    corpora = _corpora()

    rec = corpora.recipe(name)
    with terminal.byte_progress() as progress:
        path = corpora.get(
            rec,
            out,
            url=url,
            progress=(lambda done, total: progress(f"get {name}", done, total))
            if progress
            else None,
        )
    terminal.note(f"{name}: sha256 ok, {path.stat().st_size:,} bytes")
    terminal.result(terminal.safe(path))


EXAMPLES_CORPUS_BUILD = examples(
    "charrnn corpus build pystdlib --out data/pystdlib.txt",
)


@corpus_app.command("build", epilog=EXAMPLES_CORPUS_BUILD)
def corpus_build(
    name: Annotated[str, typer.Argument(help="pystdlib", show_default=False)] = "pystdlib",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path(
        "data/pystdlib.txt"
    ),
    max_bytes: Annotated[int, typer.Option(min=1000, help="Approximate size.")] = 2_000_000,
):
    """Build an offline corpus from files on this machine (Python standard-library sources)."""
    from charrnn import terminal

    corpora = _corpora()

    terminal.result(terminal.safe(corpora.build(name, out, max_bytes)))


EXAMPLES_CORPUS_SYNTH = examples(
    "charrnn corpus synth quotes --hard-wrap --width 24 --out data/quotes.txt",
)


@corpus_app.command("synth", epilog=EXAMPLES_CORPUS_SYNTH)
def corpus_synth(
    kind: Annotated[
        str, typer.Argument(help="quotes, lines or code.", show_default=False)
    ] = "quotes",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path(
        "data/synth.txt"
    ),
    length: Annotated[int, typer.Option(min=1, help="Characters to generate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    width: Annotated[int, typer.Option(min=10, help="Line width prose is wrapped at.")] = 40,
    hard_wrap: Annotated[
        bool, typer.Option(help="Cut every line at exactly --width (words split), not at words.")
    ] = False,
):
    """Generate text with known structure (quoted spans, nested brackets, fixed-width lines)."""
    from charrnn import terminal

    corpora = _corpora()

    path = corpora.synthesize(kind, out, length=length, seed=seed, width=width, hard_wrap=hard_wrap)
    terminal.result(terminal.safe(path))


# --------------------------------------------------------------------------- entry point
# Click's exception for usage errors (unknown option, missing argument, bad value), reached
# through a public Typer name: Typer re-raises it when not in standalone mode.
UsageException = next(c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException")


def main(argv: list[str] | None = None) -> None:
    """Runs the app; turns usage errors and library errors into one line and an exit code:
    0 success (also when the reader of stdout goes away), 2 usage, 1 runtime failure."""
    args = list(sys.argv[1:] if argv is None else argv)
    groups = {"corpus"}
    if not args or args in ([g] for g in groups):  # no command: the help, and success
        args.append("--help")
    try:
        code = app(args=args, standalone_mode=False)
    except UsageException as e:
        known = {c.name or c.callback.__name__ for c in app.registered_commands} | groups
        command = args[0] if args[0] in known else ""
        hint = f" (see `charrnn {command} --help`)" if command else " (see `charrnn --help`)"
        from charrnn import terminal

        terminal.error(f"{e.format_message()}{hint}")
        sys.exit(2)
    except CharRNNError as e:
        from charrnn import terminal

        terminal.error(str(e))
        sys.exit(e.exit_code)
    except BrokenPipeError:  # `charrnn sample ckpt | head`
        _quiet_stdout()
        sys.exit(0)
    except SystemExit as e:  # Typer (like click) exits 1 when stdout's reader went away
        if isinstance(e.__context__, BrokenPipeError):
            _quiet_stdout()
            sys.exit(0)
        raise
    sys.exit(code if isinstance(code, int) else 0)


def _quiet_stdout() -> None:
    """stdout's reader is gone: send what is left to /dev/null so exiting does not fail."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())

"""The `charrnn` command: parses and validates options, calls one library function per command,
and renders the result. The only module (with its helper `ui.py`) that prints or exits.

torch and the heavy modules are imported inside the commands, so `charrnn --help` is instant.
Library errors (`CharRNNError`) and usage errors become one line on stderr and exit code 2.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cells import CELLS
from charrnn.modelconfig import ModelConfig
from charrnn.trainconfig import TrainConfig

app = typer.Typer(
    name="charrnn",
    help="Train character-level RNN language models, sample from them, and look inside them.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
corpus_app = typer.Typer(help="Get, build or generate corpora.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


M, T = ModelConfig, TrainConfig  # their defaults are shown in --help


def _d(cls, name: str) -> str:
    return f"\\[default: {getattr(cls, name)}]"  # escaped: Rich would take [..] as markup


ModelType = Enum("ModelType", {name: name for name in CELLS}, type=str)  # --model choices


class Unit(str, Enum):
    char = "char"
    byte = "byte"


class Precision(str, Enum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


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
SeqLenOpt = Annotated[int, typer.Option(min=1, help="Characters per window when scoring text.")]


def fail(message: str, code: int = 2):
    from charrnn.ui import err

    err.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1.5h', '1h30m' -> seconds."""
    parts = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or not parts or not any(parts.groups()):
        raise ValueError(text)
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s


def parse_units(text: str) -> list[int]:
    """'0-9,17' -> [0, ..., 9, 17]."""
    units = []
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        units.extend(range(int(lo), int(hi or lo) + 1))
    return units


# --------------------------------------------------------------------------- train
@app.command()
def train(
    file: Annotated[
        Path, typer.Argument(help="UTF-8 text file to learn from.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Run directory: latest.ckpt, best.ckpt, metrics.jsonl. Default: runs/<file name>."
        ),
    ] = None,
    resume: Annotated[
        Path | None,
        typer.Option(
            help="Continue a run: its directory (latest.ckpt) or a full checkpoint. Stop options "
            "given now replace the saved ones."
        ),
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace a run already in --out.")] = False,
    # model
    model: Annotated[
        ModelType | None,
        typer.Option(
            help="Recurrent cell: "
            + "; ".join(f"{name}: {c.about}" for name, c in CELLS.items())
            + f". {_d(M, 'model')}"
        ),
    ] = None,
    num_layers: Annotated[
        int | None, typer.Option(help=f"Stacked recurrent layers. {_d(M, 'num_layers')}")
    ] = None,
    hidden_size: Annotated[
        int | None,
        typer.Option(
            help=f"Units per layer. {_d(M, 'hidden_size')}; with --time and no size options, "
            "sized to the budget and the corpus."
        ),
    ] = None,
    embed_size: Annotated[
        int | None, typer.Option(help=f"Character embedding size. {_d(M, 'embed_size')}")
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            help=f"Dropout between layers and before the output layer. {_d(M, 'dropout')}"
        ),
    ] = None,
    # data
    seq_len: Annotated[
        int | None,
        typer.Option(
            help=f"Truncated-BPTT window: steps backpropagated through. {_d(T, 'seq_len')}"
        ),
    ] = None,
    batch_size: Annotated[
        int | None,
        typer.Option(
            help=f"Parallel contiguous streams per batch. {_d(T, 'batch_size')} (tuned for CPUs; "
            "on a GPU use 64 or more)"
        ),
    ] = None,
    val_frac: Annotated[
        float | None,
        typer.Option(
            help=f"Share of the text after the training part used for validation. "
            f"{_d(T, 'val_frac')}"
        ),
    ] = None,
    test_frac: Annotated[
        float | None,
        typer.Option(
            help=f"Share at the very end held out for a final test figure. {_d(T, 'test_frac')}"
        ),
    ] = None,
    unit: Annotated[
        Unit,
        typer.Option(
            help="char: Unicode characters; byte: raw UTF-8 bytes (any file, 256 symbols)."
        ),
    ] = Unit.char,
    max_vocab: Annotated[
        int | None,
        typer.Option(help="Keep at most N characters; the rarest map to one unknown symbol."),
    ] = None,
    min_count: Annotated[
        int, typer.Option(help="Characters seen fewer times map to the unknown symbol.")
    ] = 1,
    cache_dir: Annotated[
        Path | None,
        typer.Option(
            help="Where token files of large corpora are cached. Default: ~/.cache/charrnn."
        ),
    ] = None,
    # optimisation
    lr: Annotated[
        float | None, typer.Option(help=f"Peak AdamW learning rate. {_d(T, 'lr')}")
    ] = None,
    min_lr_frac: Annotated[
        float | None, typer.Option(help=f"The schedule ends at lr x this. {_d(T, 'min_lr_frac')}")
    ] = None,
    decay_frac: Annotated[
        float | None,
        typer.Option(
            help=f"The lr is held, then decays along a cosine over this last fraction of the run. "
            f"{_d(T, 'decay_frac')}"
        ),
    ] = None,
    warmup_steps: Annotated[
        int | None, typer.Option(help=f"Steps of linear warmup. {_d(T, 'warmup_steps')}")
    ] = None,
    weight_decay: Annotated[
        float | None, typer.Option(help=f"AdamW weight decay on matrices. {_d(T, 'weight_decay')}")
    ] = None,
    grad_clip: Annotated[
        float | None,
        typer.Option(help=f"Clip the global gradient norm to this. {_d(T, 'grad_clip')}"),
    ] = None,
    seed: Annotated[
        int | None,
        typer.Option(
            help=f"Random seed (CPU runs with the same seed are identical). {_d(T, 'seed')}"
        ),
    ] = None,
    # stopping and evaluation
    epochs: Annotated[
        float | None, typer.Option(help="Stop after this many passes over the training text.")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many optimizer steps.")
    ] = None,
    time: Annotated[
        str | None,
        typer.Option(
            "--time",
            help="Stop after this much training time, e.g. 90s, 10m, 1h30m (evaluation "
            "and saving not counted). With no stop option: 10 epochs.",
        ),
    ] = None,
    eval_every: Annotated[
        int | None,
        typer.Option(help=f"Steps between validations and checkpoints. {_d(T, 'eval_every')}"),
    ] = None,
    log_every: Annotated[
        int | None, typer.Option(help=f"Steps between progress records. {_d(T, 'log_every')}")
    ] = None,
    # hardware
    device: DeviceOpt = "auto",
    precision: Annotated[
        Precision,
        typer.Option(
            help="auto: bf16 autocast where the hardware runs it fast (CUDA, AVX512-BF16/AMX "
            "CPUs), else fp32. fp16 needs a GPU."
        ),
    ] = Precision.auto,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads for torch. Default: torch's choice.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the final summary.")] = False,
):
    """Train a model on a text file (truncated BPTT over parallel streams), saving checkpoints."""
    from charrnn import commands

    try:
        time_limit = parse_duration(time) if time is not None else None
    except ValueError:
        fail(f"--time {time!r} is not a duration; write e.g. 90s, 10m or 1h30m.")
    options = dict(
        model=model.value if model else None,
        num_layers=num_layers,
        hidden_size=hidden_size,
        embed_size=embed_size,
        dropout=dropout,
        seq_len=seq_len,
        batch_size=batch_size,
        val_frac=val_frac,
        test_frac=test_frac,
        lr=lr,
        min_lr_frac=min_lr_frac,
        decay_frac=decay_frac,
        warmup_steps=warmup_steps,
        weight_decay=weight_decay,
        grad_clip=grad_clip,
        seed=seed,
        epochs=epochs,
        max_steps=max_steps,
        time_limit=time_limit,
        eval_every=eval_every,
        log_every=log_every,
    )
    stop = _StopFlag()
    with stop.installed():
        result = commands.run_training(
            file,
            {k: v for k, v in options.items() if v is not None},
            out=out,
            resume=resume,
            overwrite=overwrite,
            unit=unit.value,
            max_vocab=max_vocab,
            min_count=min_count,
            cache_dir=cache_dir,
            device=device,
            precision=precision.value,
            threads=threads,
            quiet=quiet,
            should_stop=stop,
        )
    if result.stopped_by == "signal":
        from charrnn.ui import err

        err.print(
            f"interrupted at step {result.position.step}: saved "
            f"{result.out_dir / 'latest.ckpt'}; continue with "
            f"`charrnn train {file} --resume {result.out_dir}`"
        )
        raise typer.Exit(stop.exit_code)


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
@app.command()
def sample(
    ckpt: CkptArg,
    length: Annotated[int, typer.Option("--length", "-n", help="Characters to generate.")] = 500,
    temperature: Annotated[
        float,
        typer.Option(
            "--temperature", "-t", help="Below 1: safer, more repetitive; above 1: wilder."
        ),
    ] = 0.8,
    top_k: Annotated[
        int | None, typer.Option(help="Draw only from the k most likely characters.")
    ] = None,
    argmax: Annotated[
        bool, typer.Option("--argmax", help="Always take the most likely character (greedy).")
    ] = False,
    prime: Annotated[str, typer.Option(help="Text to start from; it is printed first.")] = "",
    prime_file: Annotated[
        Path | None, typer.Option(help="Read the prime text from this file.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed, for a reproducible sample.")
    ] = None,
    num_samples: Annotated[
        int, typer.Option(help="Independent samples, generated as one batch.")
    ] = 1,
    device: Annotated[
        str, typer.Option(help="cpu (numpy step, fastest at small batches), cuda, cuda:N or mps.")
    ] = "cpu",
):
    """Generate text from a checkpoint, streamed to stdout as it is made."""
    from charrnn.sample import SampleConfig, sampler

    if prime_file is not None:
        try:
            prime = prime_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            fail(f"--prime-file {prime_file}: cannot read it as UTF-8 text ({e}).")
    cfg = SampleConfig(
        length=length,
        temperature=temperature,
        top_k=top_k,
        argmax=argmax,
        prime=prime,
        seed=seed,
        num_samples=num_samples,
    )
    vocab, generate = sampler(ckpt, device)
    _stream_samples(vocab, generate(cfg), cfg)


def _stream_samples(vocab, steps, cfg) -> None:
    """Sample 1 streams to stdout as it is made; samples 2..N follow it, headed on stderr."""
    decoders = [vocab.decoder() for _ in range(cfg.num_samples)]
    rest = [[] for _ in range(cfg.num_samples)]
    write = sys.stdout.write
    if cfg.num_samples > 1:
        print(f"--- sample 1 of {cfg.num_samples}", file=sys.stderr, flush=True)
    write(cfg.prime)
    for step, ids in enumerate(steps):
        write(decoders[0](ids[0]))
        for b in range(1, cfg.num_samples):
            rest[b].append(decoders[b](ids[b]))
        if step % 32 == 0:
            sys.stdout.flush()
    write("\n")
    for b in range(1, cfg.num_samples):
        sys.stdout.flush()
        print(f"--- sample {b + 1} of {cfg.num_samples}", file=sys.stderr, flush=True)
        write(cfg.prime + "".join(rest[b]) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------- inspect
@app.command()
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
    top: Annotated[int, typer.Option(help="Units listed per feature.")] = 10,
    grad_flow: Annotated[
        bool,
        typer.Option(
            "--grad-flow",
            help="Norm of dL_T/dh_(T-k) (and dL_T/dc_(T-k) for an LSTM) "
            "for k = 0..--horizon, averaged over windows.",
        ),
    ] = False,
    horizon: Annotated[int, typer.Option(help="--grad-flow: steps back (K).")] = 50,
    windows: Annotated[int, typer.Option(help="--grad-flow: windows averaged over.")] = 32,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="--grad-flow: also measure this checkpoint on the same text and show "
            "the two side by side (e.g. a vanilla RNN against an LSTM)."
        ),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(help="Use at most this many characters of the text.")
    ] = 20000,
):
    """Look inside a model: per-character activations (hidden, cell, gates), unit search,
    span matching, gate saturation, and an HTML viewer."""
    from charrnn import inspecting

    source = _text_source(file, text)
    try:
        unit_list = parse_units(units) if units else None
    except ValueError:
        fail(f"--units {units!r}: write unit numbers and ranges, e.g. 0-9,17.")
    inspecting.run(
        ckpt,
        source,
        out_path=out,
        html_path=html,
        find=find,
        match=match,
        threshold=threshold,
        saturation=saturation,
        as_json=as_json,
        layers=layer,
        units=unit_list,
        quantities=quantity,
        max_chars=max_chars,
        top=top,
        grad_flow=grad_flow,
        horizon=horizon,
        windows=windows,
        compare=compare,
    )


def _text_source(file: Path | None, text: str | None):
    if (file is None) == (text is None):
        fail("give the text as a FILE argument or with --text (one of the two).")
    return file if file is not None else text


# --------------------------------------------------------------------------- eval
@app.command(name="eval")
def eval_(
    ckpt: CkptArg,
    file: Annotated[Path, typer.Argument(help="Text file to score.", show_default=False)],
    seq_len: SeqLenOpt = 128,
    batch_size: Annotated[int, typer.Option(min=1, help="Parallel streams when scoring.")] = 16,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write a page coloring each character by the model's loss on "
            "it, with its top-5 guesses on hover (first --max-chars characters)."
        ),
    ] = None,
    max_chars: Annotated[int, typer.Option(help="Characters shown in the --html page.")] = 20000,
    fresh_windows: Annotated[
        bool,
        typer.Option(
            help="Score separate --seq-len windows, each from a zero state (how "
            "block-based models like nanoGPT are scored), instead of carrying "
            "the state through the text."
        ),
    ] = False,
):
    """Loss (nats per character) and bits per character of a checkpoint on a text file."""
    from charrnn import commands

    if html is not None:
        from charrnn import inspecting

        page = inspecting.surprise_html(ckpt, file, html, max_chars)
        from charrnn.ui import err

        err.print(f"page: {page['html']} ({page['chars']} characters, {page['bpc']:.3f} bpc)")

    result = commands.run_eval(
        ckpt,
        file,
        seq_len=seq_len,
        batch_size=batch_size,
        device=device,
        fresh_windows=fresh_windows,
    )
    if as_json:
        print(json.dumps(result))
    else:
        from charrnn.ui import out as console

        console.print(
            f"{result['chars']} characters: loss {result['loss']:.4f} nats/char, "
            f"{result['bpc']:.4f} bits/char"
        )


# --------------------------------------------------------------------------- info
@app.command()
def info(ckpt: CkptArg, as_json: JsonOpt = False):
    """What a checkpoint holds: model, training config, vocabulary, progress."""
    from charrnn import commands

    summary = commands.describe_checkpoint(ckpt)
    if as_json:
        print(json.dumps(summary, indent=2))
    else:
        commands.print_summary(summary)


# --------------------------------------------------------------------------- report
@app.command()
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

    print(report_module.build(run_dir, out, seed=seed))


# --------------------------------------------------------------------------- bench
@app.command()
def bench(
    config: Annotated[
        list[str] | None,
        typer.Option(help="LAYERSxHIDDEN models to time (repeat). Default: 2x256 and 2x512."),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Streams per batch.")] = 64,
    seq_len: Annotated[int, typer.Option(min=1, help="Steps per window.")] = 128,
    seconds: Annotated[float, typer.Option(help="Training seconds per measurement.")] = 10.0,
    bf16: Annotated[bool, typer.Option(help="Also time bf16 autocast.")] = True,
    reference: Annotated[bool, typer.Option(help="Also time the plain PyTorch loop.")] = True,
    threads: Annotated[int | None, typer.Option(help="CPU threads for torch.")] = None,
    device: Annotated[str, typer.Option(help="cpu, or cuda to time training on a GPU.")] = "cpu",
    as_json: JsonOpt = False,
):
    """Training and sampling throughput, side by side with a plain PyTorch loop."""
    from charrnn import commands

    commands.run_bench(
        config or ["2x256", "2x512"],
        batch_size=batch_size,
        seq_len=seq_len,
        seconds=seconds,
        bf16=bf16,
        reference=reference,
        threads=threads,
        as_json=as_json,
        device=device,
    )


# --------------------------------------------------------------------------- prepare
@app.command()
def prepare(
    file: Annotated[Path, typer.Argument(help="Text file to encode.", show_default=False)],
    unit: Annotated[Unit, typer.Option(help="char or byte.")] = Unit.char,
    max_vocab: Annotated[int | None, typer.Option(help="Keep at most N characters.")] = None,
    min_count: Annotated[int, typer.Option(help="Rarer characters map to the unknown symbol.")] = 1,
    cache_dir: Annotated[
        Path | None, typer.Option(help="Cache directory. Default: ~/.cache/charrnn.")
    ] = None,
):
    """Encode a text file into a cached token file once (train does this on demand)."""
    from charrnn import commands

    commands.run_prepare(
        file, unit=unit.value, max_vocab=max_vocab, min_count=min_count, cache_dir=cache_dir
    )


# --------------------------------------------------------------------------- corpus
@corpus_app.command("list")
def corpus_list():
    """Corpora charrnn can download or build."""
    from charrnn import commands

    commands.print_corpora()


@corpus_app.command("get")
def corpus_get(
    name: Annotated[
        str, typer.Argument(help="Corpus name (see `charrnn corpus list`).", show_default=False)
    ],
    dir: Annotated[Path, typer.Option("--dir", help="Directory to save NAME.txt in.")] = Path(
        "data"
    ),
    url: Annotated[str | None, typer.Option(help="Download from this mirror instead.")] = None,
):
    """Download a classic corpus and check its sha256."""
    from charrnn import commands

    print(commands.run_corpus_get(name, dir, url))


@corpus_app.command("build")
def corpus_build(
    name: Annotated[str, typer.Argument(help="pystdlib", show_default=False)] = "pystdlib",
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write.")] = Path(
        "data/pystdlib.txt"
    ),
    max_bytes: Annotated[int, typer.Option(min=1000, help="Approximate size.")] = 2_000_000,
):
    """Build an offline corpus from files on this machine (Python standard-library sources)."""
    from charrnn import corpora

    path = corpora.build(name, out, max_bytes)
    print(path)


@corpus_app.command("synth")
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
    from charrnn import corpora

    print(corpora.synthesize(kind, out, length=length, seed=seed, width=width, hard_wrap=hard_wrap))


# --------------------------------------------------------------------------- entry point
def main(argv: list[str] | None = None) -> None:
    """Runs the app; turns usage errors and library errors into one line and an exit code."""
    from typer._click.exceptions import ClickException

    try:
        code = app(args=argv, standalone_mode=False)
    except ClickException as e:
        first = (argv if argv is not None else sys.argv[1:])[:1]
        known = {c.name or c.callback.__name__ for c in app.registered_commands} | {"corpus"}
        command = first[0] if first and first[0] in known else ""
        hint = f" (see `charrnn {command} --help`)" if command else " (see `charrnn --help`)"
        print(f"error: {e.format_message()}{hint}", file=sys.stderr)
        sys.exit(2)
    except _library_error() as e:
        fail_code = getattr(e, "exit_code", 2)
        from charrnn.ui import err

        err.print(f"[bold red]error:[/] {e}", markup=True, highlight=False)
        sys.exit(fail_code)
    except BrokenPipeError:  # `charrnn sample ckpt | head`
        sys.stderr.close()
        sys.exit(0)
    sys.exit(code if isinstance(code, int) else 0)


def _library_error():
    from charrnn.errors import CharRNNError

    return CharRNNError

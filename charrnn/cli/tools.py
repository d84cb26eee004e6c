"""`bench`, `prepare` and the `corpus` commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cli.app import (
    JsonOpt,
    OverwriteOpt,
    ThreadsOpt,
    app,
    corpus_app,
    declared,
    examples,
    values,
)
from charrnn.data.config import DataConfig
from charrnn.errors import CharRNNError
from charrnn.options import given_values

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
    from charrnn.render import tables, terminal
    from charrnn.runtime import cpu_runs_bf16_lstm, pick_device, set_threads

    kind = pick_device(device).type
    if bf16 and kind == "cpu" and not cpu_runs_bf16_lstm():
        terminal.note("bench: bf16 left out: this CPU's LSTM kernel has no bf16 path.")
        bf16 = False
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
@declared(DataConfig)
def prepare(
    file: Annotated[Path, typer.Argument(help="Text file to encode.", show_default=False)],
    **options,
):
    """Encode a text file into a cached token file once (train does this on demand)."""
    from charrnn.data.corpus import default_cache_dir, load_corpus
    from charrnn.render import terminal

    data = DataConfig(**given_values(DataConfig, values(options)))
    with terminal.byte_progress() as progress:
        corpus = load_corpus(file, data, progress, force_cache=True, warn=terminal.note)
    terminal.result(
        terminal.safe(
            f"{len(corpus)} tokens, vocabulary {corpus.vocab.size} ({corpus.vocab.level}); "
            f"cached in {data.cache_dir or default_cache_dir()}"
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
    from charrnn.render import tables, terminal

    corpora = _corpora()

    terminal.out.print(tables.corpora(corpora.recipes(), corpora.BUILDERS))


CorpusOutOpt = Annotated[
    Path | None,
    typer.Option(
        "--out",
        "-o",
        help="File to write (a name with a suffix, e.g. texts/war.txt), or a directory to "
        "write NAME.txt in. Default: data/NAME.txt.",
        show_default=False,
    ),
]

EXAMPLES_CORPUS_GET = examples(
    "charrnn corpus get tinyshakespeare",
    "charrnn corpus get warpeace -o texts/",
)


@corpus_app.command("get", epilog=EXAMPLES_CORPUS_GET)
def corpus_get(
    name: Annotated[
        str, typer.Argument(help="Corpus name (see `charrnn corpus list`).", show_default=False)
    ],
    out: CorpusOutOpt = None,
    url: Annotated[str | None, typer.Option(help="Download from this mirror instead.")] = None,
    overwrite: OverwriteOpt = False,
):
    """Download a classic corpus and check its sha256."""
    from charrnn.render import terminal

    corpora = _corpora()

    rec = corpora.recipe(name)
    with terminal.byte_progress() as progress:
        path = corpora.get(
            rec,
            out,
            url=url,
            overwrite=overwrite,
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
    out: CorpusOutOpt = None,
    max_bytes: Annotated[int, typer.Option(min=1000, help="Approximate size.")] = 2_000_000,
    overwrite: OverwriteOpt = False,
):
    """Build an offline corpus from files on this machine (Python standard-library sources)."""
    from charrnn.render import terminal

    corpora = _corpora()

    terminal.result(terminal.safe(corpora.build(name, out, max_bytes, overwrite)))


EXAMPLES_CORPUS_SYNTH = examples(
    "charrnn corpus synth quotes --hard-wrap --width 24 --out data/quotes.txt",
)


@corpus_app.command("synth", epilog=EXAMPLES_CORPUS_SYNTH)
def corpus_synth(
    kind: Annotated[
        str, typer.Argument(help="quotes, lines or code.", show_default=False)
    ] = "quotes",
    out: CorpusOutOpt = None,
    length: Annotated[int, typer.Option(min=1, help="Characters to generate.")] = 200_000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    width: Annotated[int, typer.Option(min=10, help="Line width prose is wrapped at.")] = 40,
    hard_wrap: Annotated[
        bool, typer.Option(help="Cut every line at exactly --width (words split), not at words.")
    ] = False,
    overwrite: OverwriteOpt = False,
):
    """Generate text with known structure (quoted spans, nested brackets, fixed-width lines)."""
    from charrnn.render import terminal

    corpora = _corpora()

    path = corpora.synthesize(kind, out, overwrite, length=length, seed=seed, width=width,
                              hard_wrap=hard_wrap)  # fmt: skip
    terminal.result(terminal.safe(path))

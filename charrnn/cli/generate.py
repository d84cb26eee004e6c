"""`charrnn sample` (streamed to stdout) and `charrnn export` (a package for sharing)."""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cli.app import CkptArg, OverwriteOpt, app, declared, examples, values
from charrnn.errors import ConfigError, DataError
from charrnn.inference.sample import SampleConfig
from charrnn.options import given_values

# --------------------------------------------------------------------------- sample
EXAMPLES_SAMPLE = examples(
    'charrnn sample runs/mytext --prime "The " --temperature 0.7 --length 1000',
    "charrnn sample runs/mytext --num-samples 5 --stop $'\\n\\n' --seed 1",
    "printf 'def ' | charrnn sample runs/code --prime-file -   # printf: no newline after",
)


@app.command(epilog=EXAMPLES_SAMPLE)
@declared(SampleConfig)
def sample(
    ckpt: CkptArg,
    prime_file: Annotated[
        Path | None, typer.Option(help="Read the prime text from this file (- for stdin).")
    ] = None,
    device: Annotated[
        str,
        typer.Option(
            help="auto (the numpy step on the CPU, fastest for a few samples; a GPU for 64 or "
            "more samples when there is one), cpu, cuda, cuda:N or mps."
        ),
    ] = "auto",
    adapt: Annotated[
        bool,
        typer.Option(
            help="First adapt a copy of the model to the prime, as `eval --dynamic` adapts "
            "while reading (give a long prime, e.g. --prime-file): text in its style."
        ),
    ] = False,
    **options,
):
    """Generate text from a checkpoint, streamed to stdout as it is made."""
    from charrnn.inference import ngramfile
    from charrnn.inference.ngramfile import is_ngram
    from charrnn.inference.sample import prime_ids, sampler, sampling_device
    from charrnn.render import terminal

    chosen = values(options)
    if prime_file is not None:
        chosen["prime"] = _read_prime(prime_file)
    fresh_seed = chosen["seed"] is None
    if fresh_seed:
        chosen["seed"] = random.SystemRandom().randrange(2**31)
    cfg = SampleConfig(**given_values(SampleConfig, chosen))
    if is_ngram(ckpt):  # an n-gram model samples on the CPU, drawn as the numpy sampler draws
        if adapt:
            raise ConfigError(f"{ckpt} is an n-gram model; --adapt adapts a recurrent one.")
        model = ngramfile.load(ckpt)
        vocab, generate = model.vocab, lambda c: model.generate(prime_ids(model.vocab, c.prime), c)
    elif adapt:
        vocab, generate = _adapted_sampler(ckpt, cfg, device)
    else:
        vocab, generate = sampler(ckpt, sampling_device(device, cfg.num_samples))
    prime_ids(vocab, cfg.prime)  # refuses characters the model never saw, before any output
    if fresh_seed:
        terminal.note(f"seed: {cfg.seed} (give --seed {cfg.seed} to repeat this sample)")
    _stream_samples(vocab, generate(cfg), cfg)


def _adapted_sampler(ckpt, cfg, device: str):
    """(vocab, generate(cfg)) from a copy of the model adapted to the prime (torch, any
    device)."""
    from charrnn.files.checkpoint import load_model
    from charrnn.inference.dynamic import adapted_to
    from charrnn.inference.sample import generate_torch, prime_ids
    from charrnn.runtime import pick_device

    if len(cfg.prime) < 2:
        raise ConfigError("--adapt needs a prime to adapt to (--prime or --prime-file).")
    model, vocab, _ = load_model(ckpt, pick_device(device))
    adapted = adapted_to(model, prime_ids(vocab, cfg.prime))
    return vocab, lambda c: generate_torch(adapted, vocab, c)


def _read_prime(path: Path) -> str:
    """The prime as training reads text: UTF-8, carriage returns kept."""
    from charrnn.data.reading import read_text_file

    if str(path) != "-":
        return read_text_file(path)
    try:
        return sys.stdin.buffer.read().decode("utf-8")
    except UnicodeDecodeError as e:
        raise DataError(f"--prime-file -: standard input is not UTF-8 text ({e.reason}).") from None


def _stream_samples(vocab, steps, cfg) -> None:
    """Sample 1 streams to stdout as it is made; samples 2..N follow it, headed on stderr."""
    from charrnn.inference.sample import text_pieces
    from charrnn.render import terminal

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
    overwrite: OverwriteOpt = False,
):
    """Package a model for sharing: model.safetensors (weights), config.json (sizes and
    vocabulary) and README.md (a model card), with no local path and no validation text."""
    from charrnn.export import export as export_model
    from charrnn.render import terminal

    terminal.result(terminal.safe(export_model(ckpt, out_dir, seed=seed, overwrite=overwrite)))

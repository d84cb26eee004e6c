"""`charrnn ngram` (a Kneser-Ney character n-gram model to measure a run against) and
`charrnn compare` (a run beside the n-gram and the compressors, and where each wins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cli.app import JsonOpt, OverwriteOpt, app, examples
from charrnn.errors import ConfigError

# --------------------------------------------------------------------------- ngram
EXAMPLES_NGRAM = examples(
    "charrnn ngram train.txt --order auto --out train.ngram",
    "charrnn eval train.ngram heldout.txt      # the same figure as for a run",
    "charrnn sample train.ngram --prime 'The ' --seed 1",
)


def parse_order(text: str) -> int | str:
    if text == "auto":
        return "auto"
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--order {text}: give a number from 1 to 20, or auto.") from None


@app.command(epilog=EXAMPLES_NGRAM)
def ngram(
    file: Annotated[Path, typer.Argument(help="Training text.", show_default=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="The model file to write.")],
    order: Annotated[
        str,
        typer.Option(
            help="Characters of context plus one, 1 to 20; auto: the order that scores best on "
            "the training text's last 5% (counted on the rest), trying 1 to 12."
        ),
    ] = "auto",
    as_json: JsonOpt = False,
    overwrite: OverwriteOpt = False,
):
    """Count a character n-gram model (interpolated modified Kneser-Ney) from a text file: a
    baseline that `eval`, `sample` and `compare` read like a trained run."""
    from charrnn.inference import ngramfile
    from charrnn.render import terminal

    built = ngramfile.build(file, parse_order(order), out, overwrite)
    if as_json:
        terminal.result(json.dumps(built))
        return
    if built["auto_bpc"]:
        tried = ", ".join(f"{m}: {b:.3f}" for m, b in built["auto_bpc"].items())
        terminal.note(f"bits/char on the last 5% of {file} by order: {tried}")
    terminal.result(
        terminal.safe(
            f"{out}: order {built['order']} over {built['chars']:,} characters ({built['vocab']} "
            f"symbols) in {built['seconds']:.1f}s"
        )
    )

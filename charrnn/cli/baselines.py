"""`charrnn ngram` (a Kneser-Ney character n-gram model to measure a run against) and
`charrnn compare` (a run beside the n-gram and the compressors, and where each wins)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from charrnn.cli.app import (
    CkptArg,
    DeviceOpt,
    JsonOpt,
    OverwriteOpt,
    PageCharsOpt,
    app,
    declared,
    examples,
    values,
)
from charrnn.errors import ConfigError
from charrnn.inference.cache import CacheConfig
from charrnn.inference.dynamic import DynamicConfig

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


# --------------------------------------------------------------------------- compare
EXAMPLES_COMPARE = examples(
    "charrnn compare runs/demo heldout.txt --train train.txt",
    "charrnn compare runs/demo heldout.txt --train train.txt --dynamic --json",
    "charrnn compare runs/demo heldout.txt --train train.txt --ngram train.ngram --html cmp.html",
)


@app.command(epilog=EXAMPLES_COMPARE)
@declared(DynamicConfig, CacheConfig)
def compare(
    ckpt: CkptArg,
    file: Annotated[Path, typer.Argument(help="Held-out text to score.", show_default=False)],
    train: Annotated[
        Path,
        typer.Option(
            help="The text the run was trained on (its training part): the n-gram is counted "
            "from it and the compressors are given it.",
            show_default=False,
        ),
    ],
    order: Annotated[
        str, typer.Option(help="The n-gram's order, 1 to 20, or auto (as for `charrnn ngram`).")
    ] = "auto",
    ngram: Annotated[
        Path | None,
        typer.Option(help="Use this n-gram file (`charrnn ngram`) instead of counting."),
    ] = None,
    dynamic: Annotated[
        bool, typer.Option(help="Also score the run adapting as it reads (see `eval --dynamic`).")
    ] = False,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write a page: the text colored by the run's loss minus the "
            "n-gram's, both models' guesses on hover, and the breakdowns."
        ),
    ] = None,
    max_chars: PageCharsOpt = 20000,
    overwrite: OverwriteOpt = False,
    **options,
):
    """A run beside an n-gram model of its training text and the compressors given that text:
    the loss of each on FILE, then where the run wins and loses (by character class, by distance
    to the bracket or quote a character closes, by place in the word, on copies) and what its
    errors are (the oracles of Karpathy, Johnson & Fei-Fei 2015)."""
    from charrnn.inference import compare as comparing
    from charrnn.inference.dynamic import configs
    from charrnn.render import tables, terminal

    adapting = configs(values(options)) if dynamic else None
    chosen_order = parse_order(order)
    if html is not None:
        from charrnn.render.pages import check_page_name

        check_page_name(html, overwrite)
    with terminal.progress(not as_json) as progress:
        found = comparing.compare(ckpt, file, train, order=chosen_order, ngram=ngram,
                                  adapting=adapting, device=device,
                                  page_chars=max_chars if html else 0,
                                  progress=progress)  # fmt: skip
    if html is not None:
        from charrnn.render.pages import comparison_page

        page = comparison_page(html, found, max_chars, overwrite)
        terminal.note(f"page: {page['path']} ({page['shown']})")
    figures = found.to_dict()
    if as_json:
        terminal.result(json.dumps(figures))
        return
    for part in tables.comparison(figures):
        terminal.out.print(part)
    alone = ", ".join(f"{k} {v:.3f}" for k, v in figures["compressors_alone"].items())
    terminal.note(f"the compressors on the file alone: {alone}")
    if "dynamic" in figures:
        terminal.note(f"adapting: {figures['dynamic']['how']}")
    terminal.result(terminal.safe(comparing.summary_line(figures)))

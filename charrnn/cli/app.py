"""The Typer app and what its commands share: option declarations defined once (each config
field's help text and bounds come from its declaration in options.py), choices, "Examples"
blocks, and small parsers. The commands live beside this module, one module per group.
"""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from charrnn.data.config import DataOptions
from charrnn.errors import ConfigError
from charrnn.inference.sample import SampleConfig
from charrnn.model.cells import CELLS
from charrnn.model.config import ModelConfig
from charrnn.options import help_of, range_of
from charrnn.training.config import TrainConfig


class Interrupted(BaseException):
    """SIGINT / SIGTERM: unwinds the command so half-written files are removed on the way out,
    and main() says so in one line. Not a KeyboardInterrupt, which Typer would turn into a
    silent exit code."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


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

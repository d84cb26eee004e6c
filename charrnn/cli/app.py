"""The Typer app and what its commands share: `declared`, which turns the declared fields of
the configs (options.py) into a command's options, the few options that are not config fields,
choices, "Examples" blocks and small parsers. The commands live beside this module, one module
per group.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import signal
import threading
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
import typer.core

from charrnn.data.config import UNKNOWN_HELP, UNKNOWN_MODES
from charrnn.errors import ConfigError
from charrnn.options import declaration, declared_fields, flag_of


class Interrupted(BaseException):
    """SIGINT / SIGTERM: unwinds the command so half-written files are removed on the way out,
    and main() says so in one line. Not a KeyboardInterrupt, which Typer would turn into a
    silent exit code."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_handled(handler):
    """SIGINT and SIGTERM go to `handler(signum, frame)` for the duration of the block (only
    the main thread can set them; elsewhere, as in some test runners, they are left alone)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, previous in old.items():
            signal.signal(s, previous)


class Command(typer.core.TyperCommand):
    """A command whose usage line reads as Unix tools' do, `charrnn inspect [OPTIONS] CKPT
    [FILE]`, in every Typer version (0.29 writes `{ckpt} [file]`)."""

    def collect_usage_pieces(self, ctx) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if param.param_type_name == "argument":
                name = (param.metavar or param.name or "").upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces


def _with_usage(group: typer.Typer) -> typer.Typer:
    """`group.command` makes `Command`s unless told otherwise."""
    make = group.command

    def command(*args, cls=None, **kwargs):
        return make(*args, cls=cls or Command, **kwargs)

    group.command = command
    return group


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
_with_usage(app)
_with_usage(corpus_app)
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


def choices(name: str, values) -> type[Enum]:
    """A str Enum for Typer's choices, from the tuple the library declares."""
    return Enum(name, {v: v for v in values}, type=str)


Unknown = choices("Unknown", UNKNOWN_MODES)
UnknownOpt = Annotated[Unknown, typer.Option(help=UNKNOWN_HELP)]


def examples(*lines: str) -> str:
    """An "Examples" block for a command's help, its lines kept as written (click's \\b)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- declared options
def declared(*classes):
    """Adds an option for every declared field of `classes` (options.py) to the command, which
    receives them in `**options`: one declaration gives the option its name, help, bounds,
    choices and type. `values(options)` turns them back into what the configs take."""

    def add_options(command):
        signature = inspect.signature(command, eval_str=True)
        own = [p for p in signature.parameters.values() if p.kind is not p.VAR_KEYWORD]
        derived = [_parameter(cls, f) for cls in classes for f in declared_fields(cls)
                   if declaration(f).cli]  # fmt: skip
        command.__signature__ = signature.replace(parameters=own + derived)
        return command

    return add_options


_ENUMS: dict = {}


def _parameter(cls, f) -> inspect.Parameter:
    d = declaration(f)
    hint = typing.get_type_hints(cls)[f.name]
    if d.argument:
        annotation = Annotated[_without_none(hint), typer.Argument(help=d.help, show_default=False)]
        return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
    default = f.default
    if d.parse is not None:  # the command line gives text; the declaration parses it
        hint, default = str | None, None
    elif d.choices:
        hint = _ENUMS.setdefault(f.name, choices(f.name.title().replace("_", ""), d.choices))
        default = hint(f.default)
    # The range is the declaration's, shown as it is enforced (by the config itself, with open
    # bounds, which Typer's min/max cannot express)
    shown = f"{d.help}  [{d.range.interval()}]" if d.range.bounded else d.help
    decls = [flag_of(f)] + ([d.short] if d.short else [])
    option = typer.Option(*decls, help=shown)
    return inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=Annotated[hint, option])  # fmt: skip


def _without_none(hint):
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if args else hint


def values(options: dict) -> dict:
    """Typer's values as the configs take them (choices as their strings)."""
    return {k: v.value if isinstance(v, Enum) else v for k, v in options.items()}


# Options shared by several commands that are not config fields: defined once.
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
PageCharsOpt = Annotated[
    int, typer.Option("--max-chars", min=1, help="Characters shown in the --html page.")
]
OverwriteOpt = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Replace what is already at the output path, even if charrnn did not write it.",
    ),
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
    for part in text.split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise ConfigError(
                f"--units {text!r}: write unit numbers and ranges, e.g. 0-9,17."
            ) from None
        if last < first:
            raise ConfigError(f"--units {text!r}: the range {part.strip()} runs backwards; "
                              f"write {last}-{first}.")  # fmt: skip
        units.extend(range(first, last + 1))
    return units


def given_options(ctx: typer.Context) -> frozenset:
    """The parameters the user set (on the command line), as opposed to their defaults."""
    return frozenset(
        name
        for name in ctx.params
        if (source := ctx.get_parameter_source(name)) is not None and source.name != "DEFAULT"
    )

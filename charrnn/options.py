"""Options declared once: every field of a config says its default, help text, allowed range
or choices, and how it is spelled on the command line, side by side.

    hidden_size: int = option(512, "Units per layer.", 1)
    time_limit: float | None = option(None, "Stop after ...", 0, low_open=True,
                                      flag="--time", parse=parse_duration, show=show_seconds)

From that one declaration the CLI builds its option (cli/app.py: name, help, Typer bounds, an
Enum for choices, text parsed by `parse`), the Python API accepts the field by its name or its
CLI spelling (`given_values`), `check_ranges` refuses out-of-range values wherever a config is
built (CLI, API, checkpoint), and the model card spells a saved run's command back (`show`).
Adding an option is its declaration and the code that uses it. Torch- and numpy-free.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

from charrnn.errors import ConfigError


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # low itself is not allowed
    high_open: bool = False

    def allows(self, value) -> bool:
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return not (
            self.high is not None and (value >= self.high if self.high_open else value > self.high)
        )

    def interval(self) -> str:
        """For help texts: "x >= 1", "0 <= x < 1", "x > 0"."""
        low = f"{self.low:g} {'<' if self.low_open else '<='} " if self.low is not None else ""
        high = f" {'<' if self.high_open else '<='} {self.high:g}" if self.high is not None else ""
        if low and not high:
            return f"x {'>' if self.low_open else '>='} {self.low:g}"
        return f"{low}x{high}"

    def describe(self) -> str:
        low = f"{'>' if self.low_open else '>='} {self.low:g}" if self.low is not None else ""
        high = f"{'<' if self.high_open else '<='} {self.high:g}" if self.high is not None else ""
        return " and ".join(x for x in (low, high) if x)

    @property
    def bounded(self) -> bool:
        return self.low is not None or self.high is not None


@dataclass(frozen=True)
class Declaration:
    """What a field says about itself (kept in the dataclass field's metadata)."""

    help: str
    range: Range = Range()
    flag: str | None = None  # CLI spelling; None: from the name (hidden_size -> --hidden-size)
    short: str | None = None  # e.g. "-o"
    choices: tuple[str, ...] = ()
    parse: Callable[[str], object] | None = None  # the CLI takes text; this makes the value
    show: Callable[[object], str] | None = None  # value -> the text `parse` reads back
    cli: bool = True  # False: set by the program or the Python API only
    argument: bool = False  # a positional argument on the command line


def option(
    default,
    help: str,
    low=None,
    high=None,
    *,
    low_open=False,
    high_open=False,
    flag=None,
    short=None,
    choices=(),
    parse=None,
    show=None,
    cli=True,
    argument=False,
):
    """A dataclass field with its declaration (see the module docstring)."""
    declared = Declaration(help, Range(low, high, low_open, high_open), flag, short,
                           tuple(choices), parse, show, cli, argument)  # fmt: skip
    return field(default=default, metadata={"option": declared})


def declaration(f) -> Declaration | None:
    return f.metadata.get("option")


def declared_fields(cls) -> list:
    """The fields of `cls` that carry a declaration, in order."""
    return [f for f in fields(cls) if declaration(f) is not None]


def flag_of(f) -> str:
    declared = declaration(f)
    return (declared and declared.flag) or flag(f.name)


def flag(name: str) -> str:
    """The CLI spelling of a name: hidden_size -> --hidden-size."""
    return "--" + name.replace("_", "-")


def check_ranges(config) -> None:
    """ConfigError for the first field outside its declared range or choices (None means
    'not set')."""
    for f in declared_fields(config):
        value, declared = getattr(config, f.name), declaration(f)
        if value is None:
            continue
        if declared.choices and value not in declared.choices:
            raise ConfigError(
                f"{flag_of(f)} must be one of {', '.join(declared.choices)}, not {value!r}."
            )
        if not declared.range.bounded:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{flag_of(f)} must be a number, not {value!r}.")
        shown = declared.show(value) if declared.show else f"{value:g}"
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{flag_of(f)} {shown}: give a finite number.")
        if not declared.range.allows(value):
            raise ConfigError(
                f"{flag_of(f)} {shown} is out of range: it must be {declared.range.describe()}."
            )


def given_values(cls, options: dict) -> dict:
    """The fields of `cls` found in `options` (keyed by field name, or by the CLI spelling
    without dashes: time="2m" for time_limit), with text turned into values by `parse` and
    into paths for path fields (out="runs/x", as the CLI gives them)."""
    values = {}
    for f in declared_fields(cls):
        spelled = flag_of(f).lstrip("-").replace("-", "_")
        for key in dict.fromkeys((f.name, spelled)):
            if key in options:
                value = options[key]
                parse = declaration(f).parse
                if parse and isinstance(value, str):
                    value = parse(value)
                elif isinstance(value, (str, os.PathLike)) and "Path" in str(f.type):
                    value = Path(value)
                values[f.name] = value
    return values


def accepted_names(*classes) -> set[str]:
    """Every keyword `given_values` understands for these classes."""
    names = set()
    for cls in classes:
        for f in declared_fields(cls):
            names |= {f.name, flag_of(f).lstrip("-").replace("-", "_")}
    return names


def keyword_names(*classes) -> list[str]:
    """Each option of these classes once, as the Python API spells it best: the CLI spelling
    without dashes (time, model, unit), which is what the docs show."""
    return sorted({flag_of(f).lstrip("-").replace("-", "_")
                   for cls in classes for f in declared_fields(cls)})  # fmt: skip


_FLAG = re.compile(r"--([a-z][a-z0-9-]*)(?: (-?[\d.]+(?:e[+-]?\d+)?[a-z]*\b|inf|nan|'[^']*'))?")


def python_spelling(message: str, *classes) -> str:
    """A message written for the command line as a Python caller spells the same options:
    "--top-k 0 is out of range" -> "top_k=0 is out of range", "use --argmax" -> "use
    argmax=True"."""
    switches = {flag_of(f) for cls in classes for f in declared_fields(cls) if f.type == "bool"}

    def spelled(m: re.Match) -> str:
        name = m.group(1).replace("-", "_")
        if m.group(2) is not None:
            return f"{name}={m.group(2)}"
        return f"{name}=True" if f"--{m.group(1)}" in switches else name

    return _FLAG.sub(spelled, message)


def help_of(cls, name: str) -> str:
    return declaration(next(f for f in fields(cls) if f.name == name)).help


def range_of(cls, name: str) -> Range:
    return declaration(next(f for f in fields(cls) if f.name == name)).range

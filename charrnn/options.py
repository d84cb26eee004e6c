"""Config fields declared once: default, help text and allowed range side by side.

`ModelConfig` and `TrainConfig` declare each field with `option(...)`. Their `__post_init__`
calls `check_ranges`, so a config built anywhere (the CLI, the Python API, a checkpoint) is
checked the same way; the CLI builds its options from the same declarations (help, `min=` /
`max=` for Typer), so an option's text and bounds are written in one place. Cross-field rules
stay in each config's `__post_init__`. Torch-free.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

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

    def describe(self) -> str:
        low = f"{'>' if self.low_open else '>='} {self.low:g}" if self.low is not None else ""
        high = f"{'<' if self.high_open else '<='} {self.high:g}" if self.high is not None else ""
        return " and ".join(x for x in (low, high) if x)


def option(default, help: str, low=None, high=None, *, low_open=False, high_open=False):
    """A dataclass field with its help text and range (either bound optional)."""
    return field(
        default=default,
        metadata={"help": help, "range": Range(low, high, low_open, high_open)},
    )


def flag(name: str) -> str:
    """The CLI spelling of a field: hidden_size -> --hidden-size."""
    return "--" + name.replace("_", "-")


def check_ranges(config) -> None:
    """ConfigError for the first field outside its declared range (None means 'not set')."""
    for f in fields(config):
        value = getattr(config, f.name)
        limits = f.metadata.get("range")
        if limits is None or value is None or (limits.low is None and limits.high is None):
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{flag(f.name)} must be a number, not {value!r}.")
        if not limits.allows(value):
            raise ConfigError(
                f"{flag(f.name)} {value:g} is out of range: it must be {limits.describe()}."
            )


def help_of(cls, name: str) -> str:
    return next(f for f in fields(cls) if f.name == name).metadata["help"]


def range_of(cls, name: str) -> Range:
    return next(f for f in fields(cls) if f.name == name).metadata["range"]

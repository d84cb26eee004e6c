"""Counts in messages read as English: `plural(1, "character")` is "1 character", not
"1 characters", and thousands are grouped ("8,111 characters")."""

from __future__ import annotations


def plural(n: int, noun: str, many: str | None = None) -> str:
    return f"{n:,} {noun if n == 1 else many or noun + 's'}"

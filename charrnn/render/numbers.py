"""Numbers for people, in one place: counts (`count`: 1.24M parameters, 52.3k chars/s, three
significant digits) and chart tick labels (`tick`: the exact value of a round tick, 2.5M, 1e-5).
Torch- and rich-free, for the terminal, the tables, the SVG charts and the pages alike.
"""

from __future__ import annotations


def count(n: float) -> str:
    """1239140 -> 1.24M, 52300 -> 52.3k, 512 -> 512."""
    for suffix in ("", "k", "M", "G"):
        if abs(n) < 1000:
            return f"{n:.3g}{suffix}"
        n /= 1000
    return f"{n:.3g}T"


def tick(v: float) -> str:
    """A tick label: 1250 -> 1.25k, 2500000 -> 2.5M, 0.00001 -> 1e-5, 0.25 -> 0.25."""
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:g}M"
    if a >= 1e3:
        return f"{v / 1e3:g}k"
    if a < 0.01:
        mantissa, exponent = f"{v:.0e}".split("e")
        return f"{mantissa}e{int(exponent)}"
    return f"{v:.4g}"

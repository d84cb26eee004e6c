"""The pages `inspect --html` and `eval --html` write: the results of inspection's actions laid
out by html.py, written atomically. A page embeds at most HTML_BYTES_BUDGET of activation codes;
what does not fit is left out and said so.
"""

from __future__ import annotations

from pathlib import Path

from charrnn.errors import ConfigError, OutputError
from charrnn.fileio import atomic_write_bytes, check_replaceable
from charrnn.files.format import model_name
from charrnn.inspection.actions import Subject, Surprise, marks
from charrnn.render import html
from charrnn.words import plural

HTML_BYTES_BUDGET = 64 << 20  # activation codes embedded in one page
PAGE_SUFFIXES = (".html", ".htm")


def check_page_name(path: Path, overwrite: bool = False) -> None:
    """A page name that ends in .html, where nothing but a charrnn page would be replaced
    (without --overwrite)."""
    if path.suffix not in PAGE_SUFFIXES:
        raise ConfigError(f"{path}: the name must end in .html.")
    check_replaceable(path, "page", overwrite=overwrite, ours=html.is_page)


def activation_page(subject: Subject, path: Path, ranking: dict, sat: dict, flows: dict) -> dict:
    """The activation viewer; returns what it left out to stay under the size budget."""
    shown, left_out = _fit_budget(subject.selected(), subject.cell_spec)
    cfg = subject.model.config
    body = html.activation_page(
        title=f"charrnn inspect: {model_name(subject.ckpt.path)}",
        text=subject.text,
        vocab=subject.vocab,
        cell=subject.cell_spec,
        arrays=shown,
        probs=subject.probs,
        layers=subject.layers,
        units=subject.units,
        ranking=ranking,
        marks=marks(subject.reading),
        saturation_svg=html.saturation_svg(sat, subject.cell_spec),
        extra=html.grad_flow_section(flows) if flows else "",
        subtitle=f"{cfg.num_layers}x{cfg.hidden_size} {cfg.cell} · "
        f"{shown_part(len(subject.text), subject.source_chars)} of {subject.label}"
        + (" (--max-chars reads more)" if subject.cut else ""),
    )
    write_page(path, body)
    return {"path": str(path), "left_out": left_out}


def shown_part(shown: int, total: int) -> str:
    """'8,111 characters', or 'the first 20,000 of 300,000 characters'."""
    if shown >= total:
        return plural(shown, "character")
    return f"the first {shown:,} of {plural(total, 'character')}"


def _fit_budget(arrays: dict, cell) -> tuple[dict, list]:
    """Keep quantities (the state first, then the gates) while the page stays under budget."""
    order = [q for q in cell.quantity_names if q in arrays]
    kept, used = {}, 0
    for q in order:
        if kept and used + arrays[q].size > HTML_BYTES_BUDGET:
            break
        kept[q] = arrays[q]
        used += arrays[q].size
    return kept, [q for q in order if q not in kept]


def surprise_page(path: Path, surprise: Surprise, score, overwrite: bool = False) -> dict:
    """The first characters of a file colored by the loss on each; the heading gives the
    file's `score` (the figure `charrnn eval` prints)."""
    check_page_name(path, overwrite)
    reading = surprise.reading
    n = len(reading.text)
    shown = shown_part(n, surprise.source_chars) if n < surprise.source_chars else "every character"
    body = html.surprise_page(
        title=f"charrnn eval: {reading.label}",
        text=reading.text,
        vocab=surprise.vocab,
        bits=surprise.bits,
        probs=surprise.probs,
        marks=marks(reading),
        subtitle=f"{surprise.checkpoint_name} · loss on the file: {score.bpc:.4f} bits/char "
        f"({score.loss:.4f} nats/char) over {plural(score.chars, 'character')}, {score.how} · "
        f"colored: "
        f"{shown}, by the loss on each",
    )
    write_page(path, body)
    shown = shown_part(n, surprise.source_chars)
    hint = "; --max-chars shows more" if n < surprise.source_chars else ""
    return {"path": str(path), "chars": n, "shown": f"{shown} shown{hint}"}


def write_page(path: Path, page_html: str) -> None:
    atomic_write_bytes(
        path,
        page_html.encode("utf-8"),
        what="page",
        error=OutputError,
        hint="Free disk space or give another --html file.",
    )

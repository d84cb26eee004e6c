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


def comparison_page(path: Path, found, max_chars: int, overwrite: bool = False) -> dict:
    """`compare --html`: the first `max_chars` characters colored by where the run beats the
    n-gram, the headline figures, the breakdown tables and the long-range curve."""
    from charrnn.inference.compare import summary_line
    from charrnn.render import svg, tables

    check_page_name(path, overwrite)
    f = found.figures
    n = min(len(found.text), max_chars)
    names = {"model": f["model"]["name"], "ngram": f["ngram"]["name"]}
    if "dynamic" in f:
        names["dynamic"] = "adapting"
    parts = []
    curve = f["breakdowns"]["by_closing_distance"]
    if curve:  # x: each distance bin's lower edge ("20-39" -> 20)
        series = {names[k]: [(int(r["group"].split("-")[0].rstrip("+")), r[k + "_bpc"])
                             for r in curve] for k in names}  # fmt: skip
        parts.append(svg.line_chart(series, title="closing brackets and quotes: bits/char",
                                    x_label="characters back to the opening one (bin start)",
                                    y_label="bits per character"))  # fmt: skip
    for key, title in tables.BREAKDOWN_TITLES.items():
        rows = f["breakdowns"][key]
        if rows:
            parts.append(html.breakdown_table(title, rows, names))
    parts.append(_errors_table(f["errors"]))
    body = html.comparison_page(
        title=f"charrnn compare: {Path(f['file']).name}",
        subtitle=summary_line(f) + f" · colored: {shown_part(n, len(found.text))}",
        text=found.text[:n],
        names=(names["model"], names["ngram"]),
        bits=(found.bits["model"][:n], found.bits["ngram"][:n]),
        probs=(found.probs["model"][:n], found.probs["ngram"][:n]),
        symbol_lists=found.symbol_lists,
        tables_html="".join(parts),
    )
    write_page(path, body)
    shown = shown_part(n, len(found.text))
    hint = "; --max-chars shows more" if n < len(found.text) else ""
    return {"path": str(path), "chars": n, "shown": f"{shown} shown{hint}"}


def _errors_table(errors: dict) -> str:
    rows = "".join(f"<tr><td>{html.esc(r['oracle'])}</td><td>{r['errors']:,}</td>"
                   f"<td>{r['share']:.0%}</td></tr>" for r in errors["oracles"])  # fmt: skip
    rows += (
        f"<tr><td>other</td><td>{errors['other']:,}</td><td>{errors['other_share']:.0%}</td></tr>"
    )
    return (f"<h2>the run's errors (probability &lt; 0.5): {errors['errors']:,} of "
            f"{errors['chars']:,} characters ({errors['error_rate']:.0%}), taken away by each "
            f"oracle in turn</h2><table class='ranking'><tr><th>oracle</th><th>errors</th>"
            f"<th>share</th></tr>{rows}</table>")  # fmt: skip

"""Looking at a trained model: `inspect`, `eval`, `info`, `report`."""

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
    Unknown,
    UnknownOpt,
    app,
    declared,
    examples,
    parse_units,
    values,
)
from charrnn.errors import ConfigError
from charrnn.inference.cache import CacheConfig
from charrnn.inference.dynamic import DynamicConfig
from charrnn.inference.dynamic import configs as dynamic_configs
from charrnn.inspection.features import BUILTIN
from charrnn.model.cells import CELLS
from charrnn.words import plural

# --------------------------------------------------------------------------- inspect
EXAMPLES_INSPECT = examples(
    "charrnn inspect runs/mytext mytext.txt --html look.html",
    "charrnn inspect runs/mytext mytext.txt --find quotes --find line_pos",
    "charrnn inspect runs/mytext --text 'f(a, (b))' --out acts.npz",
    "charrnn inspect runs/rnn text.txt --grad-flow --compare runs/lstm",
)


@app.command(epilog=EXAMPLES_INSPECT)
def inspect(
    ckpt: CkptArg,
    file: Annotated[
        Path | None,
        typer.Argument(help="Text file to run through the model.", show_default=False),
    ] = None,
    text: Annotated[
        str | None, typer.Option(help="Text to run through the model (instead of FILE).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write activations: .npz (arrays [layer, time, unit] + text) or .json.",
        ),
    ] = None,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Write a self-contained page: text colored by a chosen unit, "
            "top-5 guesses on hover, unit rankings, gate saturation."
        ),
    ] = None,
    find: Annotated[
        list[str] | None,
        typer.Option(
            help="Rank units by how well they follow a feature: "
            + ", ".join(BUILTIN)
            + ", regex:PATTERN, or all. Repeat for several."
        ),
    ] = None,
    match: Annotated[
        str | None,
        typer.Option(
            help="START:END: units on over this span and off around it, and the "
            "other places where they are on together (as in LSTMVis)."
        ),
    ] = None,
    threshold: Annotated[float, typer.Option(help="--match: a unit is on above this.")] = 0.3,
    saturation: Annotated[
        bool, typer.Option("--saturation", help="Print gate saturation statistics.")
    ] = False,
    as_json: JsonOpt = False,
    layer: Annotated[
        list[int] | None, typer.Option(help="Only this layer (0-based); repeat for several.")
    ] = None,
    units: Annotated[str | None, typer.Option(help="Only these units, e.g. 0-9,17.")] = None,
    quantity: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these quantities: "
            + "; ".join(f"{', '.join(c.quantity_names)} ({name})" for name, c in CELLS.items())
            + "."
        ),
    ] = None,
    top: Annotated[int, typer.Option(min=1, help="Units listed per feature.")] = 10,
    grad_flow: Annotated[
        bool,
        typer.Option(
            "--grad-flow",
            help="Norm of dL_T/dh_(T-k) (and dL_T/dc_(T-k) for an LSTM) "
            "for k = 0..--horizon, averaged over windows.",
        ),
    ] = False,
    horizon: Annotated[int, typer.Option(min=1, help="--grad-flow: steps back (K).")] = 50,
    windows: Annotated[int, typer.Option(min=1, help="--grad-flow: windows averaged over.")] = 32,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="--grad-flow: also measure this checkpoint on the same text and show "
            "the two side by side (e.g. a vanilla RNN against an LSTM)."
        ),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(min=1, help="Use at most this many characters of the text.")
    ] = 20000,
    unknown: UnknownOpt = Unknown.map,
    overwrite: OverwriteOpt = False,
):
    """Look inside a model: per-character activations (hidden, cell, gates), unit search,
    span matching, gate saturation, and an HTML viewer."""
    from charrnn.inspection.actions import InspectRequest

    if (file is None) == (text is None):
        raise ConfigError("give the text as a FILE argument or with --text (one of the two).")
    request = InspectRequest(
        out=out,
        html=html,
        find=tuple(find or ()),
        match=match,
        saturation=saturation,
        grad_flow=grad_flow,
        as_json=as_json,
        overwrite=overwrite,
    )
    _inspect(
        request,
        ckpt,
        file if file is not None else text,
        dict(layers=layer, units=parse_units(units) if units else None, quantities=quantity,
             max_chars=max_chars, unknown=unknown.value),
        top=top, threshold=threshold, horizon=horizon, windows=windows, compare=compare,
    )  # fmt: skip


def _inspect(request, ckpt, source, selection, *, top, threshold, horizon, windows, compare):
    """Load once and run the actions asked for (a progress bar on long texts), then render."""
    from charrnn.inspection import actions
    from charrnn.render import pages, tables, terminal

    if request.html:
        pages.check_page_name(request.html, request.overwrite)
    with terminal.progress(not request.as_json) as progress:
        subject = actions.load(
            ckpt, source, **selection, in_memory=request.in_memory, progress=progress
        )
        dumped = actions.dump(subject, request.out) if request.out else None
        names = actions.feature_names(request.find or (["all"] if request.html else []))
        ranking = actions.rank(subject, names, top) if names else {}
        shown = actions.excerpts(subject, ranking) if request.find and not request.as_json else {}
        sat = actions.saturation(subject) if request.saturation or request.html else {}
        found = actions.match(subject, request.match, threshold) if request.match else None
        flows = actions.grad_flow(subject, horizon, windows, compare) if request.grad_flow else {}
        page = (pages.activation_page(subject, request.html, ranking, sat, flows)
                if request.html else None)  # fmt: skip
    if subject.cut:
        read_part = pages.shown_part(len(subject.text), subject.source_chars)
        terminal.note(f"{subject.label}: read {read_part} (--max-chars reads more).")
    if subject.reading.unseen:
        terminal.note(subject.reading.describe())
    if dumped:
        terminal.note(f"activations: {dumped['path']} ({plural(dumped['chars'], 'character')}, "
                      f"{', '.join(dumped['quantities'])})")  # fmt: skip
    if request.find:
        _show_ranking(ranking, shown, request.as_json)
    if request.saturation:
        terminal.out.print(tables.saturation(sat, subject.layers))
    if found:
        terminal.out.print(tables.span_match(found, subject.text))
    if flows:
        _show_flows(flows, request.as_json)
    if page:
        terminal.note(_page_note(page))


def _show_ranking(ranking: dict, shown: dict, as_json: bool) -> None:
    from charrnn.render import html, tables, terminal

    if as_json:
        terminal.result(json.dumps([s.to_dict() for f in ranking for s in ranking[f]], indent=1))
        return
    for feature, excerpts in shown.items():
        colored = {k: tables.colored_excerpt(*v, html.diverging_rgb) for k, v in excerpts.items()}
        terminal.out.print(tables.ranking(feature, ranking[feature], colored))


def _show_flows(flows: dict, as_json: bool) -> None:
    from charrnn.render import tables, terminal

    if as_json:
        docs = {name: f.to_dict() for name, f in flows.items()}
        terminal.result(json.dumps(next(iter(docs.values())) if len(docs) == 1 else docs))
    else:
        terminal.out.print(tables.grad_flow(flows))


def _page_note(page: dict) -> str:
    from charrnn.render.pages import HTML_BYTES_BUDGET

    note = f"page: {page['path']}"
    if page["left_out"]:
        note += (
            f" (it leaves out {', '.join(page['left_out'])} to stay under "
            f"{HTML_BYTES_BUDGET >> 20} MB; choose with --quantity, --layer, --units or fewer "
            f"--max-chars)"
        )
    return note


# --------------------------------------------------------------------------- eval
EXAMPLES_EVAL = examples(
    "charrnn eval runs/mytext heldout.txt",
    "charrnn eval runs/mytext heldout.txt --json --html surprise.html",
    "charrnn eval runs/mytext last10pct.txt --fresh-windows   # nanoGPT's protocol",
    "charrnn eval runs/code heldout.py --dynamic   # adapting to the text as it reads it",
)


@app.command(name="eval", epilog=EXAMPLES_EVAL)
@declared(DynamicConfig, CacheConfig)
def eval_(
    ckpt: CkptArg,
    file: Annotated[Path, typer.Argument(help="Text file to score.", show_default=False)],
    fresh_windows: Annotated[
        bool,
        typer.Option(
            help="nanoGPT's protocol: separate --window-length windows, each from a zero state, "
            "instead of reading the text once with the state carried."
        ),
    ] = False,
    window_length: Annotated[
        int, typer.Option(min=1, help="--fresh-windows: characters per window (nanoGPT: 256).")
    ] = 256,
    device: DeviceOpt = "auto",
    as_json: JsonOpt = False,
    html: Annotated[
        Path | None,
        typer.Option(
            help="Also write a page coloring each character by the model's loss on "
            "it, with its top-5 guesses on hover (first --max-chars characters)."
        ),
    ] = None,
    max_chars: PageCharsOpt = 20000,
    unknown: UnknownOpt = Unknown.map,
    overwrite: OverwriteOpt = False,
    dynamic: Annotated[
        bool,
        typer.Option(
            help="Also score it with dynamic evaluation: a gradient step after each "
            "--dynamic-segment characters, so the model adapts to what it has read (the model "
            "file is not changed); reported beside the static figure."
        ),
    ] = False,
    **options,
):
    """The model's loss on a text file, in nats and bits per character: every character after
    the first, read once with the state carried (or, by name, nanoGPT's windows)."""
    from charrnn.inference.evaluate import score_file
    from charrnn.inference.ngramfile import is_ngram
    from charrnn.render import terminal

    adapting, cache = dynamic_configs(values(options))
    if dynamic and fresh_windows:
        raise ConfigError("--dynamic reads the text once with the state carried; leave out "
                          "--fresh-windows.")  # fmt: skip
    if is_ngram(ckpt):
        if dynamic:
            raise ConfigError(f"{ckpt} is an n-gram model; --dynamic adapts a recurrent one.")
        return _eval_ngram(ckpt, file, fresh_windows, window_length, as_json, html, max_chars,
                           unknown.value, overwrite)  # fmt: skip
    if html is not None:
        from charrnn.inspection.actions import surprise
        from charrnn.render.pages import check_page_name, surprise_page

        check_page_name(html, overwrite)
    window = window_length if fresh_windows else None
    adapted = None
    with terminal.progress(not as_json) as progress:
        report = (lambda done, total: progress("scoring", done, total)) if progress else None
        if dynamic:
            from charrnn.inference import dynamic as dynamic_eval

            score, adapted, reading = dynamic_eval.score_file(
                ckpt, file, adapting, cache, device=device, unknown=unknown.value, progress=progress
            )
        else:
            score, reading = score_file(
                ckpt, file, window=window, device=device, unknown=unknown.value, progress=report
            )
        if html is not None:
            found = surprise(ckpt, file, max_chars, unknown.value, progress)
            page = surprise_page(html, found, score, overwrite)
    if html is not None:
        terminal.note(f"page: {page['path']} ({page['shown']})")
    if reading.unseen:
        apart = score.to_dict().get("scored_apart")
        terminal.note(
            reading.describe() + (f" ({apart['bpc']:.3f} bits/char on them)" if apart else "")
        )
    if as_json:
        found = {**score.to_dict(), "file": str(file), "unknown": reading.to_dict()}
        if adapted is not None:
            found["dynamic"] = {**adapted.to_dict(), **adapting.to_dict(),
                                "cache": cache.to_dict()}  # fmt: skip
        terminal.result(json.dumps(found))
        return
    for s, label in ((score, "static"), (adapted, "dynamic")):
        if s is not None:
            terminal.result(
                terminal.safe(
                    f"{file}: {s.bpc:.4f} bits/char ({s.loss:.4f} nats/char) over "
                    f"{plural(s.chars, 'character')}, "
                    + (f"{label}: " if adapted is not None else "")
                    + s.how
                )
            )


def _eval_ngram(path, file, fresh_windows, window_length, as_json, html, max_chars, unknown,
                overwrite):  # fmt: skip
    """`eval` of an n-gram model: the same protocol, reading and output as for a run."""
    from charrnn.data.reading import read_file
    from charrnn.errors import DataError
    from charrnn.inference import ngramfile
    from charrnn.render import terminal

    if html is not None:
        from charrnn.inspection.actions import ngram_surprise
        from charrnn.render.pages import check_page_name, surprise_page

        check_page_name(html, overwrite)
    model = ngramfile.load(path)
    reading = read_file(model.vocab, file, unknown)
    try:
        score = model.score(reading, window_length if fresh_windows else None)
    except DataError as e:
        raise DataError(f"{file}: {e}") from None
    if html is not None:
        found = ngram_surprise(model, file, max_chars, unknown)
        page = surprise_page(html, found, score, overwrite)
        terminal.note(f"page: {page['path']} ({page['shown']})")
    if reading.unseen:
        terminal.note(reading.describe())
    if as_json:
        terminal.result(json.dumps({**score.to_dict(), "file": str(file), "model": model.name,
                                    "unknown": reading.to_dict()}))  # fmt: skip
        return
    given = "those since its window began" if fresh_windows else "every one before it"
    terminal.result(
        terminal.safe(
            f"{file}: {score.bpc:.4f} bits/char ({score.loss:.4f} nats/char) over "
            f"{plural(score.chars, 'character')}, {model.name}, each character given {given}"
        )
    )


# --------------------------------------------------------------------------- info
EXAMPLES_INFO = examples(
    "charrnn info runs/mytext",
    "charrnn info runs/mytext/latest.ckpt --json",
)


@app.command(epilog=EXAMPLES_INFO)
def info(ckpt: CkptArg, as_json: JsonOpt = False):
    """What a checkpoint holds: model, training config, vocabulary, progress."""
    from charrnn.inspection.summary import describe
    from charrnn.render import tables, terminal

    summary = describe(ckpt)
    if as_json:
        terminal.result(json.dumps(summary, indent=2))
    else:
        terminal.out.print(tables.checkpoint_summary(summary))


# --------------------------------------------------------------------------- report
EXAMPLES_REPORT = examples(
    "charrnn report runs/mytext",
    "charrnn report runs/mytext -o report.html",
)


@app.command(epilog=EXAMPLES_REPORT)
def report(
    run_dir: Annotated[
        Path, typer.Argument(help="A training run's directory.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Page to write. Default: RUN_DIR/report.html."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the samples.")] = 0,
    overwrite: OverwriteOpt = False,
):
    """One HTML page about a run: curves, config, samples, and the units found."""
    from charrnn.render import report as report_module
    from charrnn.render import terminal

    with terminal.progress() as progress:
        page = report_module.build(run_dir, out, seed=seed, progress=progress,
                                   overwrite=overwrite)  # fmt: skip
    terminal.result(terminal.safe(page))

"""What `charrnn inspect` and `charrnn eval --html` compute: a checkpoint and a text are loaded and
checked once (`load` -> `Subject`), then each action is one function that returns data — the
activation dump, unit rankings with excerpts, span matches, gate saturation, gradient flow, the
per-character loss. Nothing here prints or draws: render/ turns the results into tables
(tables.py) and pages (pages.py), and the CLI writes the notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from charrnn.data.reading import DEFAULT_UNKNOWN, Reading, read, read_source, source_length
from charrnn.errors import ConfigError, DataError
from charrnn.fileio import check_replaceable
from charrnn.files import checkpoint
from charrnn.files.format import model_name
from charrnn.inspection import activations, dumps, features, unitsearch

ALL = "all"


@dataclass(frozen=True, kw_only=True)
class InspectRequest:
    """What to do, checked before anything is loaded."""

    out: Path | None = None
    html: Path | None = None
    find: tuple[str, ...] = ()
    match: str | None = None
    saturation: bool = False
    grad_flow: bool = False
    as_json: bool = False
    overwrite: bool = False  # replace --out / --html files charrnn did not write

    def __post_init__(self):
        if not any([self.out, self.html, self.find, self.match, self.saturation, self.grad_flow]):
            raise ConfigError(
                "say what to do: --out FILE, --html FILE, --find FEATURE, --match START:END, "
                "--saturation or --grad-flow (see charrnn inspect --help)."
            )
        if self.as_json and bool(self.find) == bool(self.grad_flow):
            raise ConfigError("--json goes with one of --find or --grad-flow.")
        for path, suffixes in ((self.out, (".npz", ".json")), (self.html, (".html", ".htm"))):
            if path is not None and path.suffix not in suffixes:
                raise ConfigError(f"{path}: the name must end in {' or '.join(suffixes)}.")
        if self.out is not None:
            check_replaceable(self.out, "activation dump", overwrite=self.overwrite,
                              ours=dumps.is_dump)  # fmt: skip
        feature_names(self.find)  # an unknown feature or a bad pattern fails here

    @property
    def in_memory(self) -> bool:
        """Actions that need every activation at once; the others stream over the text."""
        return bool(self.out or self.html or self.match)


@dataclass
class Subject:
    """A model and a text, checked: everything the actions share."""

    model: object
    vocab: object
    ckpt: checkpoint.Checkpoint
    reading: Reading  # the text as the model reads it, and what it did with unseen characters
    layers: list[int]  # the model's layer numbers selected
    units: list[int]  # the model's unit numbers selected
    quantities: tuple[str, ...]  # selected (all of the cell's by default)
    arrays: dict = field(default_factory=dict)  # {q: (layers, T, units)} when in memory
    probs: np.ndarray | None = None
    progress: object = None  # (phase, done, total) callback, or None
    source_chars: int = 0  # characters in the whole source, of which `text` may be the first

    @property
    def cut(self) -> bool:
        return self.source_chars > len(self.text)

    @property
    def cell_spec(self):
        return self.model.config.cell_spec

    @property
    def text(self) -> str:
        return self.reading.text

    @property
    def ids(self) -> np.ndarray:
        return self.reading.ids

    @property
    def label(self) -> str:
        return self.reading.label

    def chunks(self, phase: str = "reading the text"):
        """A chunk source over the selected layers and units: the arrays in memory, or the
        model re-run chunk by chunk (bounded memory), each pass reported as `phase`."""
        if self.arrays:
            return unitsearch.in_memory(self.arrays, self.probs)
        report = (lambda done, total: self.progress(phase, done, total)) if self.progress else None
        return unitsearch.streamed(self.model, self.ids, self.layers, self.units, progress=report)

    def selected(self) -> dict:
        return {q: a for q, a in self.arrays.items() if q in self.quantities}


def load(
    ckpt,
    source: str | Path,
    *,
    layers=None,
    units=None,
    quantities=None,
    max_chars: int = 20000,
    in_memory: bool = False,
    progress=None,
    unknown: str = DEFAULT_UNKNOWN,
) -> Subject:
    """The model and text, checked; with `in_memory`, every activation computed once.
    `progress(phase, done, total)` hears about every pass over the text."""
    model, vocab, info = checkpoint.load_model(ckpt)
    cfg = model.config
    layer_ids = _check_indices(layers, cfg.num_layers, "--layer")
    unit_ids = _check_indices(units, cfg.hidden_size, "--units")
    known = cfg.cell_spec.quantity_names
    bad = [q for q in quantities or () if q not in known]
    if bad:
        raise ConfigError(f"--quantity {bad[0]}: a {cfg.cell} has {', '.join(known)}.")
    text, label = read_source(source, max_chars, vocab.level)
    subject = Subject(
        model, vocab, info, read(vocab, text, label, unknown),
        layer_ids, unit_ids, tuple(quantities or known), progress=progress,
        source_chars=_source_chars(source, text, max_chars, vocab.level),
    )  # fmt: skip
    if in_memory:
        report = (lambda d, t: progress("activations", d, t)) if progress else None
        subject.arrays, subject.probs = activations.collect(
            model, subject.ids, layer_ids, unit_ids, progress=report
        )
    return subject


def _source_chars(source, text: str, max_chars: int | None, level: str) -> int:
    """The source's length: counted only when `text` filled max_chars (it may have been cut)."""
    if max_chars is None or len(text) < max_chars:
        return len(text)
    return source_length(source, level)


def _check_indices(values, limit: int, option: str) -> list[int]:
    bad = [v for v in values or () if not 0 <= v < limit]
    if bad:
        raise ConfigError(f"{option} {bad[0]} is out of range: valid values are 0 to {limit - 1}.")
    return sorted(set(values)) if values else list(range(limit))


def feature_names(find) -> list[str]:
    names = []
    for f in find:
        names += list(features.BUILTIN) if f == ALL else [f]
    try:
        return list(dict.fromkeys(features.canonical(n) for n in names))
    except features.FeatureError as e:
        raise ConfigError(str(e)) from None


# --------------------------------------------------------------------------- actions
def dump(subject: Subject, path: Path) -> dict:
    keep = subject.selected()
    dumps.write(
        path,
        text=subject.text,
        vocab=subject.vocab,
        ids=subject.ids,
        arrays=keep,
        probs=subject.probs,
        model=subject.model.config.cell,
        layers=subject.layers,
        units=subject.units,
    )
    return {"path": str(path), "chars": len(subject.ids), "quantities": list(keep)}


def rank(subject: Subject, names: list[str], top: int) -> dict:
    """{feature: [UnitScore]} best first, in the model's own layer and unit numbers."""
    ranking = unitsearch.rank_units(
        subject.chunks("ranking units"), subject.text, names, top=top, quantities=subject.quantities
    )
    for scores in ranking.values():
        for s in scores:  # indices into the selection -> the model's numbers
            s.layer, s.unit = subject.layers[s.layer], subject.units[s.unit]
    return ranking


def excerpts(subject: Subject, ranking: dict, width: int = 32) -> dict:
    """{feature: {(layer, unit, quantity): (text, display values)}}: a stretch of text around
    where each feature turns on, with each ranked unit's values on the -1 .. +1 color scale."""
    wanted = {
        (s.quantity, subject.layers.index(s.layer), subject.units.index(s.unit))
        for scores in ranking.values()
        for s in scores
    }
    series = unitsearch.collect_units(subject.chunks("excerpts"), wanted)
    result = {}
    for feature, scores in ranking.items():
        on = unitsearch.binarise(features.compute(feature, subject.text))
        starts = np.flatnonzero(np.diff(on.astype(np.int8)) == 1)
        t = int(starts[min(len(starts) - 1, 1)]) if len(starts) else 0
        lo = max(0, t - width // 3)
        result[feature] = {}
        for s in scores:
            key = (s.quantity, subject.layers.index(s.layer), subject.units.index(s.unit))
            values = activations.display_values(subject.cell_spec.quantity(s.quantity), series[key])
            result[feature][(s.layer, s.unit, s.quantity)] = (
                subject.text[lo : lo + width],
                values[lo : lo + width],
            )
    return result


@dataclass
class Match:
    span: tuple[int, int]
    units: list  # [(layer, unit)] in the model's numbers
    matches: list  # [(start, end, fraction on)]


def match(subject: Subject, span: str, threshold: float) -> Match:
    start, end = parse_span(span, len(subject.text))
    found = unitsearch.match_span(subject.arrays["h"], start, end, threshold=threshold)
    if not found.units:
        raise DataError(
            f"no unit stays above {threshold} over {start}:{end} and below it around the span; "
            f"try another span or --threshold."
        )
    units = [(subject.layers[layer], subject.units[u]) for layer, u in found.units]
    return Match((start, end), units, found.matches)


def parse_span(text: str, length: int) -> tuple[int, int]:
    try:
        a, b = (int(x) for x in text.split(":"))
    except ValueError:
        raise ConfigError(f"--match {text!r}: write START:END, e.g. 120:135.") from None
    if not 0 <= a < b <= length:
        raise ConfigError(f"--match {text}: need 0 <= START < END <= {length} (the text length).")
    return a, b


def saturation(subject: Subject) -> dict:
    return unitsearch.saturation(subject.chunks("gate saturation"), subject.cell_spec)


def grad_flow(subject: Subject, horizon: int, windows: int, compare=None) -> dict:
    """{checkpoint label: GradFlow} for this model and, with `compare`, another on the same text."""
    flows = {_label(subject.ckpt): _flow(subject.model, subject.ids, horizon, windows)}
    if compare is not None:
        other, other_vocab, other_info = checkpoint.load_model(compare)
        name = _label(other_info)
        ids = read(other_vocab, subject.text, subject.label, subject.reading.mode).ids
        flows[name if name not in flows else f"{name} [2]"] = _flow(other, ids, horizon, windows)
    return flows


def _flow(model, ids, horizon, windows):
    from charrnn.inspection.gradflow import gradient_flow

    try:
        return gradient_flow(model, ids, horizon=horizon, windows=windows)
    except ValueError as e:
        raise DataError(f"--grad-flow: {e}; give more text or a smaller --horizon.") from None


def _label(info) -> str:
    """A short name for a checkpoint: its run directory and model, e.g. 'rnn (1x256 rnn)'."""
    c = info.model_config
    return f"{info.path.parent.name} ({c.num_layers}x{c.hidden_size} {c.cell})"


# --------------------------------------------------------------------------- eval --html
@dataclass(frozen=True)
class Surprise:
    """`eval --html`: the loss on each character of the first `max_chars` of a file."""

    reading: Reading
    vocab: object
    checkpoint_name: str
    bits: np.ndarray  # (T,) loss on each character, in bits (0 for the first)
    probs: np.ndarray  # (T, V) the distribution before each next character
    max_chars: int
    source_chars: int  # characters in the whole file, of which the page shows the first


def surprise(ckpt, file: Path, max_chars: int, unknown=DEFAULT_UNKNOWN, progress=None) -> Surprise:
    from charrnn.inference.evaluate import char_losses

    model, vocab, info = checkpoint.load_model(ckpt)
    text, label = read_source(file, max_chars, vocab.level)
    reading = read(vocab, text, label, unknown)
    report = (lambda done, total: progress("page", done, total)) if progress else None
    bits, probs = char_losses(model, reading.ids, progress=report)
    return Surprise(reading, vocab, model_name(info.path), bits, probs, max_chars,
                    _source_chars(file, text, max_chars, vocab.level))  # fmt: skip


def ngram_surprise(model, file: Path, max_chars: int, unknown=DEFAULT_UNKNOWN) -> Surprise:
    """`eval --html` of an n-gram model (inference/ngramfile.py): the same page data."""
    text, label = read_source(file, max_chars, model.vocab.level)
    reading = read(model.vocab, text, label, unknown)
    bits, probs = model.char_bits(reading.ids)
    return Surprise(reading, model.vocab, model.name, bits, probs, max_chars,
                    _source_chars(file, text, max_chars, model.vocab.level))  # fmt: skip


def marks(reading: Reading) -> dict:
    """Where the page should mark characters the model never saw: mapped positions, and the
    positions just after skipped ones (with how many)."""
    skipped = np.flatnonzero(reading.skipped_before)
    return {
        "mapped": np.flatnonzero(reading.mapped).tolist(),
        "skipped": {int(t): int(reading.skipped_before[t]) for t in skipped},
        "skipped_at_end": reading.skipped_at_end,
        "read_as": reading.substitute,
    }

"""`charrnn compare`: a run's loss on a text beside what people know: an n-gram model of the
training text (ngramfile.py) and general-purpose compressors given the training text
(compressors.py); optionally the run adapting as it reads (dynamic.py); and where the run wins
and loses against the n-gram, character by character (breakdown.py, errors.py).

Each model's headline figure is the one `charrnn eval` prints for it (characters it never saw
read as a known symbol and left out). The breakdowns use the positions both models scored."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from charrnn.errors import ConfigError, DataError
from charrnn.words import plural


@dataclass
class Comparison:
    file: str
    train: str
    text: str  # the file's text (what the breakdowns index)
    scored: np.ndarray  # (T,) positions both models scored
    bits: dict  # {"model", "ngram"[, "dynamic"]}: (T,) bits per position
    figures: dict  # the JSON document (see `compare`)
    probs: dict = field(default_factory=dict)  # {"model", "ngram"}: (page_chars, V)
    symbol_lists: tuple = ()  # each model's symbols, for the page

    def to_dict(self) -> dict:
        return self.figures


def compare(run, file, train, *, order="auto", ngram=None, adapting=None, device="auto",
            page_chars=0, progress=None) -> Comparison:  # fmt: skip
    """The figures of `charrnn compare` (`adapting`: (DynamicConfig, CacheConfig) for
    --dynamic; `ngram`: an n-gram file to use instead of counting `train`; `page_chars`: keep
    both models' distributions on that many first characters, for the page; `progress(stage,
    done, total)`)."""
    from charrnn.data.reading import read, read_text_file
    from charrnn.files.checkpoint import load_model
    from charrnn.inference import breakdown, errors, ngramfile
    from charrnn.inference.compressors import bits_per_char
    from charrnn.inference.evaluate import LN2, char_losses, score
    from charrnn.runtime import pick_device

    timings = {}
    model, vocab, info = load_model(run, pick_device(device))
    if vocab.level != "char":
        raise ConfigError(f"{run} reads bytes; compare measures models that read characters.")
    text = read_text_file(file)
    train_text = read_text_file(train)
    reading = read(vocab, text, str(file), "map")
    if len(reading.ids) < 2:
        raise DataError(f"{file}: too short to compare ({plural(len(text), 'character')}).")

    def stage(name):
        return (lambda done, total: progress(name, done, total)) if progress else None

    started = time.perf_counter()
    static = score(model, reading.ids, scored=reading.scored())
    model_bits, model_probs = char_losses(model, reading.ids, progress=stage("scoring"))
    timings["model"] = time.perf_counter() - started

    started = time.perf_counter()
    if ngram is not None:
        counted, auto = ngramfile.load(ngram), {}
    else:
        counted, auto = ngramfile.count(train_text, order, str(train))
    ngram_reading = counted.read(text, str(file), "map")
    ngram_score = counted.score(ngram_reading)
    ngram_bits, ngram_probs = counted.char_bits(ngram_reading.ids)
    timings["ngram"] = time.perf_counter() - started

    started = time.perf_counter()
    given = bits_per_char(text, given=train_text)
    alone = bits_per_char(text)
    timings["compressors"] = time.perf_counter() - started

    scored = reading.scored() & ngram_reading.scored()
    scored[0] = False
    bits = {"model": model_bits, "ngram": ngram_bits}
    figures = {
        "file": str(file),
        "train": str(train),
        "chars": int(static.chars),
        "model": {"name": info.path.parent.name or str(run), **static.to_dict()},
        "ngram": {"order": counted.order, "name": counted.name, **ngram_score.to_dict(),
                  "auto_bpc": auto or None, "from": str(ngram) if ngram else str(train)},
        "compressors": given,
        "compressors_alone": alone,
    }  # fmt: skip
    if adapting is not None:
        from charrnn.inference.dynamic import describe, dynamic_loss_sums

        started = time.perf_counter()
        cfg, cache = adapting
        losses = np.zeros(len(reading.ids))
        (total, count), _ = dynamic_loss_sums(model, reading.ids, reading.scored(), cfg, cache,
                                              stage("adapting"), losses)  # fmt: skip
        timings["dynamic"] = time.perf_counter() - started
        bits["dynamic"] = losses / LN2
        figures["dynamic"] = {"bpc": total / count / LN2, "loss": total / count, "chars": count,
                              "how": describe(cfg, cache),
                              "chars_per_s": len(reading.ids) / timings["dynamic"]}  # fmt: skip
    figures["positions_compared"] = int(scored.sum())
    figures["breakdowns"] = breakdown.breakdowns(text, scored, bits)
    figures["errors"] = errors.breakdown(text, scored, model_bits, train_text)
    figures["seconds"] = timings
    kept = {"model": model_probs[:page_chars], "ngram": ngram_probs[:page_chars]}
    symbol_lists = tuple([v.id_to_symbol(i) for i in range(v.size)] for v in (vocab, counted.vocab))
    return Comparison(str(file), str(train), text, scored, bits, figures, kept, symbol_lists)


def summary_line(figures: dict) -> str:
    """ "runs/demo 1.961, 7-gram 2.300; given the training text gzip 2.51, bz2 1.59, xz 1.61"."""
    parts = [f"{figures['model']['name']} {figures['model']['bpc']:.3f}"]
    if "dynamic" in figures:
        parts.append(f"adapting {figures['dynamic']['bpc']:.3f}")
    parts.append(f"{figures['ngram']['name']} {figures['ngram']['bpc']:.3f}")
    given = ", ".join(f"{k} {v:.3f}" for k, v in figures["compressors"].items())
    return (
        f"bits/char on {figures['file']}: "
        + ", ".join(parts)
        + f"; {given} given the training text"
    )

"""The Python API: the library functions the CLI itself calls, for use in notebooks and scripts.

import charrnn
m = charrnn.load("runs/mytext")     # a run directory, a checkpoint, or an export
m.sample(prime="The ", length=200, temperature=0.8, seed=1)   # -> str (CPU: numpy, no torch)
m.loss("Some text.")                # -> Loss(nats, bpc, chars)
m.activations("Some text.")         # -> what `inspect --out` writes: arrays [layer, time, unit]
charrnn.train("mytext.txt", time="2m")   # -> its figures (.best_val_bpc, .test_bpc, .out_dir)
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass
from pathlib import Path

from charrnn.data.config import DataConfig
from charrnn.errors import ConfigError
from charrnn.files.format import read_config, read_header, resolve
from charrnn.inference.cache import CacheConfig
from charrnn.inference.dynamic import DynamicConfig
from charrnn.inference.sample import SampleConfig
from charrnn.model.config import ModelConfig
from charrnn.options import python_spelling
from charrnn.training.config import TrainConfig, TrainRequest, request_from

SPELLED = (SampleConfig, TrainConfig, ModelConfig, DataConfig, TrainRequest, DynamicConfig,
           CacheConfig)  # fmt: skip


def _python_errors(function):
    """Refusals written for the command line (--top-k 0, use --argmax) reach a Python caller
    spelled as its keywords (top_k=0, use argmax=True)."""

    @functools.wraps(function)
    def wrapped(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except ConfigError as e:
            raise type(e)(python_spelling(str(e), *SPELLED)) from None

    return wrapped


@dataclass(frozen=True)
class Loss:
    nats: float  # mean loss per character, natural log
    bpc: float  # the same in bits per character
    chars: int  # characters scored
    unseen: int = 0  # characters the model never saw (mapped and left out, or skipped)
    unknown: str = "map"  # what was done with them
    how: str = ""  # how it was scored, in words
    dynamic: Loss | None = None  # loss(dynamic=True): the adapting figure, beside this static one


class Model:
    """A trained model, loaded lazily: the numpy weights for sampling on the CPU, the torch model
    for scoring and activations."""

    def __init__(self, path):
        self.path = resolve(path)
        _, meta = read_header(self.path)
        self.config, self.vocab = read_config(self.path, meta)
        self.meta = meta
        self._numpy = self._torch = None

    def __repr__(self) -> str:
        c = self.config
        return f"charrnn.Model({str(self.path)!r}: {c.num_layers}x{c.hidden_size} {c.cell})"

    @_python_errors
    def sample(
        self,
        prime: str = "",
        length: int = 500,
        temperature: float = 0.8,
        top_k: int | None = None,
        argmax: bool = False,
        seed: int | None = None,
        stop: str | None = None,
    ) -> str:
        """The prime followed by `length` generated characters (fewer when `stop` occurs)."""
        from charrnn.inference import fastsample
        from charrnn.inference.sample import prime_ids, text_pieces

        cfg = SampleConfig(length=length, temperature=temperature, top_k=top_k, argmax=argmax,
                           prime=prime, seed=seed, stop=stop)  # fmt: skip
        if self._numpy is None:
            self._numpy = fastsample.load(self.path)[0]
        steps = fastsample.generate(self._numpy, self.vocab, prime_ids(self.vocab, prime), cfg)
        return prime + "".join(p[0] for p in text_pieces(self.vocab, steps, cfg))

    def model(self):
        """The torch model (CharRNN), in eval mode on the CPU."""
        if self._torch is None:
            from charrnn.files.checkpoint import load_model

            self._torch = load_model(self.path)[0]
        return self._torch

    @_python_errors
    def loss(self, text, unknown: str = "map", dynamic: bool = False, **adapting) -> Loss:
        """The model's loss on `text` (a string, or a path: the file read as `charrnn eval`
        reads it, carriage returns kept), read once from start to end with the state carried.
        Characters the model never saw: "map" (read as a known symbol, left out of the figure),
        "skip" (dropped) or "error" (refused). `dynamic=True` also scores it adapting as it
        reads (`eval --dynamic`; options by their CLI names: dynamic_lr=1e-3, cache_size=0),
        in `.dynamic`; the model itself is not changed."""
        from charrnn.data.reading import read, read_source
        from charrnn.inference import dynamic as dynamic_eval
        from charrnn.inference.evaluate import score

        cfg, cache = dynamic_eval.configs(adapting, python=True)
        source = Path(text) if isinstance(text, os.PathLike) else text
        content, label = read_source(source, level=self.vocab.level)
        reading = read(self.vocab, content, "text" if label == "--text" else label, unknown)
        s = score(self.model(), reading.ids, scored=reading.scored())
        adapted = None
        if dynamic:
            d = dynamic_eval.dynamic_score(self.model(), reading, cfg, cache)
            adapted = Loss(d.loss, d.bpc, d.chars, reading.unseen_count, reading.mode, d.how)
        return Loss(s.loss, s.bpc, s.chars, reading.unseen_count, reading.mode, s.how, adapted)

    @_python_errors
    def activations(
        self, text: str, layers=None, units=None, quantities=None, unknown: str = "map"
    ) -> dict:
        """Per-character activations: {"text", "ids", "arrays": {quantity: (layer, time, unit)},
        "probs": (time, vocab) next-character probabilities, "layers", "units"}; characters the
        model never saw handled as in `loss`."""
        from charrnn.inspection import actions

        s = actions.load(self.path, text, layers=layers, units=units, quantities=quantities,
                            max_chars=len(text), in_memory=True, unknown=unknown)  # fmt: skip
        arrays = s.selected()
        return dict(text=s.text, ids=s.ids, arrays=arrays, probs=s.probs, layers=s.layers,
                    units=s.units)  # fmt: skip


def load(path) -> Model:
    return Model(path)


@_python_errors
def train(path, *, progress=True, on_event=None, **options) -> TrainSummary:
    """Trains on the text file `path` with `charrnn train`'s options as keyword arguments, by
    field name or CLI spelling (hidden_size=256, time="2m" or time_limit=120, max_steps=1000,
    out="runs/x", ...); returns the run's figures (a TrainSummary, usable as the run directory's
    path). `progress`: True shows the CLI's training view on stderr (a bar on a terminal, a line
    every few seconds elsewhere), False nothing, or a callable that gets every progress record
    (training/events.py), as does `on_event`."""
    from charrnn.render import terminal
    from charrnn.training import launch

    request = request_from({"file": Path(path), **options})
    listeners = [f for f in (on_event, progress if callable(progress) else None) if f]
    with contextlib.ExitStack() as held:
        if progress is True:
            listeners.append(held.enter_context(terminal.TrainView()))

        def report(record):
            for listener in listeners:
                listener(record)

        result = launch.run(request, on_event=report)
    return TrainSummary.of(result)


@dataclass(frozen=True)
class TrainSummary:
    """What a `train` call ended with; `os.fspath` of it is the run directory, so
    `charrnn.load(summary)` and `Path(summary)` work."""

    out_dir: Path
    steps: int  # the run's total, every session
    train_seconds: float
    best_val_bpc: float | None
    best_step: int | None
    test_bpc: float | None  # of the best weights, on the test split
    chars_per_s: float | None  # this session's training rate
    expected_chars_per_s: float | None  # autosize's prediction of it, when it chose the size
    stopped_by: str  # "limit" (its budget) or "signal" (interrupted; resume to go on)

    @classmethod
    def of(cls, result) -> TrainSummary:
        from charrnn.inference.evaluate import bpc

        pos = result.position
        best = pos.best_val_loss
        best_step = min((h["step"] for h in pos.history if h["val_loss"] == best), default=None)
        return cls(
            out_dir=Path(result.out_dir),
            steps=pos.step,
            train_seconds=round(pos.train_seconds, 3),
            best_val_bpc=None if best is None else bpc(best),
            best_step=best_step,
            test_bpc=None if result.test_loss is None else bpc(result.test_loss),
            chars_per_s=result.chars_per_s,
            expected_chars_per_s=result.expected_chars_per_s,
            stopped_by=result.stopped_by,
        )

    def __fspath__(self) -> str:
        return str(self.out_dir)

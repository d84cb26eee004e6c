"""What a run is asked to do, as plain data: `TrainConfig` (how it trains: batching,
optimiser, schedule, stopping, evaluation) and `TrainRequest` (what to train on, where, from
which weights, on which device). Kept apart from loop.py and launch.py, which need torch and
numpy, so `--help` shows the defaults instantly. Every field is declared once (options.py):
`charrnn train`'s options and `charrnn.train(**options)` are built from these declarations.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from charrnn.data.config import DataConfig
from charrnn.errors import ConfigError
from charrnn.model.config import ModelConfig
from charrnn.options import accepted_names, check_ranges, given_values, keyword_names, option

DEFAULT_EPOCHS = 10.0  # when no stopping rule is given
STOP_FIELDS = ("epochs", "max_steps", "time_limit")
# What a CLI --precision / API precision= may ask for; "auto" is resolved by runtime.py.
PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1.5h', '1h30m' -> seconds."""
    parts = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or not parts or not any(parts.groups()):
        raise ConfigError(f"--time {text!r} is not a duration; write e.g. 90s, 10m or 1h30m.")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = option(64, "Truncated-BPTT window: steps backpropagated through.", 1)
    batch_size: int = option(
        8,
        "Parallel streams per batch (each carries its state). (Tuned for CPUs; on a GPU use 64 "
        "or more.)",
        1,
    )
    chunk_len: int = option(
        1024,
        "Streams jump to a random place in the text every this many characters (a fresh order "
        "each epoch), so batches do not dwell on a few stretches of it; 0 keeps B contiguous "
        "streams (char-rnn's layout).",
        0,
    )
    lr: float = option(3e-3, "Peak AdamW learning rate.", 0, low_open=True)
    min_lr_frac: float = option(0.05, "The schedule ends at lr x this.", 0, 1)
    decay_frac: float = option(
        1.0,
        "The lr is held, then decays along a cosine over this last fraction of the run.",
        0,
        1,
        low_open=True,
    )
    warmup_steps: int = option(50, "Steps of linear warmup.", 0)
    weight_decay: float = option(0.1, "AdamW weight decay on matrices.", 0)
    grad_clip: float = option(5.0, "Clip the global gradient norm to this.", 0, low_open=True)
    epochs: float | None = option(
        None, "Stop after this many passes over the training text.", 0, low_open=True
    )
    max_steps: int | None = option(None, "Stop after this many optimizer steps.", 1)
    time_limit: float | None = option(
        None,
        "Stop after this much training time, e.g. 90s, 10m, 1h30m (evaluation and saving not "
        "counted). With no stop option: 10 epochs.",
        0,
        low_open=True,
        flag="--time",
        parse=parse_duration,
        show=lambda seconds: f"{seconds:g}s",
    )
    eval_every: int = option(500, "Steps between validations and checkpoints.", 1)
    keep_every: int | None = option(
        None, "Also keep the weights every N steps as RUN/step-NNNNNN.ckpt (snapshots).", 1
    )
    eval_batch_size: int = option(16, "Streams when scoring the validation text.", 1)
    val_frac: float = option(
        0.05, "Share of the text after the training part used for validation.", 0, 1, high_open=True
    )
    test_frac: float = option(
        0.05, "Share at the very end held out for a final test figure.", 0, 1, high_open=True
    )
    log_every: int = option(10, "Steps between progress records.", 1)
    ema: float | None = option(
        None,
        "Average the weights along training with this decay (e.g. 0.999); validation, best.ckpt "
        "and sampling use the average.",
        0,
        1,
        high_open=True,
    )
    seed: int = option(1337, "Random seed (CPU runs with the same seed are identical).")

    def __post_init__(self):
        check_ranges(self)
        if self.val_frac + self.test_frac >= 0.9:
            raise ConfigError("--val-frac plus --test-frac must leave at least 10% for training.")
        if all(getattr(self, name) is None for name in STOP_FIELDS):
            object.__setattr__(self, "epochs", DEFAULT_EPOCHS)

    def stops(self) -> dict:
        """The stopping rules that are set."""
        return {k: getattr(self, k) for k in STOP_FIELDS if getattr(self, k) is not None}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        # Runs saved before chunk_len existed read contiguous streams; resumed, they still do.
        d = {"chunk_len": 0, **d}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass(frozen=True, kw_only=True)
class TrainRequest:
    """A training run asked for: the configs (built at the edge, checked) and the run options.
    `given` names the config fields the user set; the others are defaults, which a resumed run
    takes from its checkpoint and `--time` alone lets autosize choose."""

    file: Path = option(None, "UTF-8 text file to learn from.", argument=True)
    model: ModelConfig = ModelConfig()
    train: TrainConfig = TrainConfig()
    data: DataConfig = DataConfig()
    given: frozenset = frozenset()
    out: Path | None = option(
        None,
        "Run directory: latest.ckpt, best.ckpt, metrics.jsonl. Default: runs/<file name>.",
        short="-o",
    )
    resume: Path | None = option(
        None,
        "Continue a run: its directory (latest.ckpt) or a full checkpoint. Stop options given "
        "now mean that much more training.",
    )
    init_from: Path | None = option(
        None,
        "Fine-tune: start a new run from these weights (a run directory, a checkpoint or an "
        "export), keeping the model and its vocabulary; fresh optimizer and schedule.",
    )
    extend_vocab: bool = option(
        False, "With --init-from: add the characters of FILE the model never saw (new rows)."
    )
    overwrite: bool = option(False, "Replace a run already in --out.")
    device: str = option("auto", "auto (CUDA when present, else CPU), cpu, cuda, cuda:N or mps.")
    precision: str = option(
        "auto",
        "auto: bf16 autocast where the hardware runs it fast (CUDA, AVX512-BF16/AMX CPUs), else "
        "fp32. fp16 needs a GPU.",
        choices=PRECISIONS,
    )
    threads: int | None = option(None, "CPU threads for torch. Default: torch's choice.", 1)
    tensorboard: Path | None = option(
        None,
        "Also write the curves as TensorBoard events in this directory (needs the tensorboard "
        "package: pip install 'charrnn[tensorboard]').",
    )

    def __post_init__(self):
        check_ranges(self)
        if self.file is None:
            raise ConfigError("give the text file to train on.")
        if self.resume is not None and self.init_from is not None:
            raise ConfigError("give --resume (go on with a run) or --init-from, not both.")
        if self.extend_vocab and self.init_from is None:
            raise ConfigError("--extend-vocab goes with --init-from.")
        if self.tensorboard is not None:
            from charrnn.training.tensorboard import check_available

            check_available()


REQUEST_PARTS = {"model": ModelConfig, "train": TrainConfig, "data": DataConfig}


def request_from(options: dict, given: frozenset | None = None) -> TrainRequest:
    """A TrainRequest from flat options, as `charrnn train` and `charrnn.train(**options)` take
    them: each config field by its name or its CLI spelling (time="2m" or time_limit=120).
    `given` names the fields the user set (default: all those in `options`)."""
    known = accepted_names(TrainRequest, *REQUEST_PARTS.values()) - {"vocab_size"}
    unknown = sorted(set(options) - known)
    if unknown:
        names = [
            n for n in keyword_names(TrainRequest, *REQUEST_PARTS.values()) if n != "vocab_size"
        ]
        close = difflib.get_close_matches(unknown[0], names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(f"unknown option {unknown[0]!r}{hint}; options: {', '.join(names)}.")
    parts = {name: cls(**given_values(cls, options)) for name, cls in REQUEST_PARTS.items()}
    if given is None:
        given = frozenset().union(*(given_values(cls, options) for cls in REQUEST_PARTS.values()))
    return TrainRequest(**parts, given=frozenset(given), **given_values(TrainRequest, options))

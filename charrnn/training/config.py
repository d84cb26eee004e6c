"""`TrainConfig`: how a run trains (batching, optimiser, schedule, stopping, evaluation), as
plain data. Kept apart from loop.py, which needs torch, so the CLI can show the defaults in
`--help` without importing torch. Each field's help text and range are declared here once
(options.py); the CLI's options are built from them.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields

from charrnn.errors import ConfigError
from charrnn.options import check_ranges, option

DEFAULT_EPOCHS = 10.0  # when no stopping rule is given
STOP_FIELDS = ("epochs", "max_steps", "time_limit")


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = option(64, "Truncated-BPTT window: steps backpropagated through.", 1)
    batch_size: int = option(8, "Parallel streams per batch (each carries its state).", 1)
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
        "counted).",
        0,
        low_open=True,
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


def parse_duration(text: str) -> float:
    """'90', '90s', '10m', '1.5h', '1h30m' -> seconds."""
    parts = re.fullmatch(
        r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text
    )
    if not text.strip() or not parts or not any(parts.groups()):
        raise ConfigError(f"--time {text!r} is not a duration; write e.g. 90s, 10m or 1h30m.")
    h, m, s = (float(g) if g else 0.0 for g in parts.groups())
    return h * 3600 + m * 60 + s

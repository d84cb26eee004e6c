"""`TrainConfig`: how a run trains (batching, optimiser, schedule, stopping, evaluation), as
plain data. Kept apart from train.py, which needs torch, so the CLI can show the defaults in
`--help` without importing torch.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

from charrnn.errors import ConfigError


@dataclass(frozen=True)
class TrainConfig:
    seq_len: int = 64
    batch_size: int = 8
    lr: float = 3e-3
    min_lr_frac: float = 0.05  # the schedule decays to lr * min_lr_frac at the end
    decay_frac: float = 1.0  # the last fraction of the run over which the lr decays
    warmup_steps: int = 50
    weight_decay: float = 0.01
    grad_clip: float = 5.0
    epochs: float | None = None
    max_steps: int | None = None
    time_limit: float | None = None  # seconds of training (evaluation and saving excluded)
    eval_every: int = 500
    eval_batch_size: int = 16
    val_frac: float = 0.05
    test_frac: float = 0.05
    log_every: int = 10
    seed: int = 1337

    def __post_init__(self):
        positive = ("seq_len", "batch_size", "eval_every", "eval_batch_size", "log_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be at least 1.")
        checks = {
            "lr": self.lr > 0 and math.isfinite(self.lr),
            "grad-clip": self.grad_clip > 0,
            "weight-decay": self.weight_decay >= 0,
            "warmup-steps": self.warmup_steps >= 0,
            "min-lr-frac": 0 <= self.min_lr_frac <= 1,
            "decay-frac": 0 < self.decay_frac <= 1,
            "val-frac": 0 <= self.val_frac < 1,
            "test-frac": 0 <= self.test_frac < 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"--{name} is out of range; see charrnn train --help.")
        if self.val_frac + self.test_frac >= 0.9:
            raise ConfigError("--val-frac plus --test-frac must leave at least 10% for training.")
        if self.epochs is not None and not (0 < self.epochs < math.inf):
            raise ConfigError("--epochs must be a positive number.")
        if self.max_steps is not None and self.max_steps < 1:
            raise ConfigError("--max-steps must be at least 1.")
        if self.time_limit is not None and not (0 < self.time_limit < math.inf):
            raise ConfigError("--time must be positive.")
        if self.epochs is None and self.max_steps is None and self.time_limit is None:
            raise ConfigError("give a stopping rule: --epochs, --max-steps or --time.")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

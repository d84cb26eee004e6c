"""What a run keeps across sessions: its `Position` (step, epoch, window, time, best loss) and
the checkpoint contents that let `--resume` continue exactly — optimizer
moments, the carried hidden state of every stream, the RNG state.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import torch

from charrnn.data.corpus import Corpus
from charrnn.errors import CheckpointError
from charrnn.files import checkpoint
from charrnn.files.format import LATEST
from charrnn.runtime import Runtime
from charrnn.training.config import TrainConfig


@dataclass
class Position:
    """Where a run is: everything besides tensors that resume needs."""

    step: int = 0
    epoch: int = 0
    window: int = 0  # next window within the epoch
    tokens: int = 0
    train_seconds: float = 0.0
    best_val_loss: float | None = None
    bad_steps: int = 0  # non-finite steps skipped so far
    history: list = field(default_factory=list)  # val records, for `info` and the report
    lr: float = 0.0  # of the last step
    # Where the current budget began: the start of the run, or the resume that gave new stop
    # options ("that much more"); the schedule runs over it, starting from the lr it had then.
    segment: dict = field(default_factory=lambda: dict(SEGMENT_START))
    # One entry per session (history.py): where it began and the training config it ran with
    sessions: list = field(default_factory=list)

    def begin_segment(self) -> None:
        self.segment = {
            "step": self.step,
            "tokens": self.tokens,
            "train_seconds": self.train_seconds,
            "lr": self.lr,
        }

    def begin_session(self, cfg: TrainConfig, extended: bool, saved_config: dict | None) -> None:
        """Notes a session's start; a run saved before sessions were kept gets its first one
        from the saved config."""
        if not self.sessions and self.step and saved_config:
            self.sessions.append({"step": 0, "train_seconds": 0.0, "train_config": saved_config})
        self.sessions.append({"step": self.step, "train_seconds": self.train_seconds,
                              "train_config": cfg.to_dict(), "extended": extended})  # fmt: skip


SEGMENT_START = {"step": 0, "tokens": 0, "train_seconds": 0.0, "lr": 0.0}


def meta(
    cfg: TrainConfig, corpus: Corpus, pos: Position, val_excerpt: str, origin: dict | None
) -> dict:
    return {
        "train_config": cfg.to_dict(),
        "position": asdict(pos),
        "corpus": {"path": corpus.path, "sha256": corpus.sha256, "chars": len(corpus)},
        "data_config": corpus.options.to_dict(),
        "val_excerpt": val_excerpt,  # so `charrnn report` can look for units without the corpus
        **({"init_from": origin} if origin else {}),
    }


def training_tensors(optimizer, state) -> dict:
    tensors = {"rng.torch": torch.get_rng_state()}
    for index, per_param in optimizer.state_dict()["state"].items():
        for key, value in per_param.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
    for i, s in enumerate(state or ()):
        tensors[f"state.{i}"] = s
    return tensors


def restore(ckpt, model, optimizer, corpus: Corpus, rt: Runtime, rows: slice, batch_size: int):
    """Loads a full checkpoint into a fresh model and optimizer; returns (position, state)."""
    if ckpt.vocab != corpus.vocab:
        raise CheckpointError(
            f"--resume: {ckpt.path} was trained on a different vocabulary "
            f"({ckpt.vocab.size} symbols, this text has {corpus.vocab.size}); resume with the "
            f"same text, or start a new run with another --out."
        )
    if "rng.torch" not in ckpt.tensors:
        raise CheckpointError(
            f"--resume: {ckpt.path} holds weights only; resume from the run's {LATEST}."
        )
    model.load_state_dict(checkpoint.build_model(ckpt).state_dict())
    state_dict = optimizer.state_dict()
    per_param: dict = {}
    for key, value in ckpt.group("optim").items():
        index, name = key.split(".", 1)
        per_param.setdefault(int(index), {})[name] = value.to(rt.device) if value.dim() else value
    state_dict["state"] = per_param
    try:
        optimizer.load_state_dict(state_dict)
    except (ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(f"--resume: optimizer state does not fit the model ({e}).") from None
    torch.set_rng_state(ckpt.tensors["rng.torch"])
    p = ckpt.meta.get("position", {})
    pos = Position(**{k: v for k, v in p.items() if k in Position.__dataclass_fields__})
    carried = ckpt.group("state")  # (L, B, H) for all B streams, whatever the number of ranks
    state = tuple(carried[str(i)][:, rows].to(rt.device) for i in range(len(carried))) or None
    batch = ckpt.meta.get("train_config", {}).get("batch_size")
    if ckpt.meta.get("corpus", {}).get("sha256") != corpus.sha256 or batch != batch_size:
        # new text or another batch layout: continue from the start of the next epoch
        pos = replace(pos, epoch=pos.epoch + (pos.window > 0), window=0)
        state = None
    return pos, state

"""`TrainConfig` and `train()`: the truncated-BPTT training loop, top to bottom.

    for each step:   window of B streams x T chars -> model(x, state) -> cross-entropy
                     -> backward -> clip grad norm -> AdamW step (lr from the schedule)
                     -> state detached and carried to the next window (reset at epoch start)
    every eval_every steps: val loss -> latest.ckpt (full, for resume), best.ckpt (weights)

The loop never prints: it reports records (plain dicts, also appended to `metrics.jsonl`)
through the `on_event` callback. It stops at the first of --epochs / --max-steps / --time, or
when `should_stop()` turns true (Ctrl-C, SIGTERM), in which case it saves latest.ckpt first.
Resume restores weights, optimizer, carried state, data position and RNG, so the loss curve on
CPU continues exactly as if the run had never stopped.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from charrnn.data.batches import layout_for, split, window
from charrnn.data.corpus import Corpus
from charrnn.errors import ConfigError, TrainingError
from charrnn.files import checkpoint
from charrnn.files.format import BEST, LATEST, snapshot_name
from charrnn.inference.evaluate import LN2, loss_sum
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN, detach_state, grow_vocab, init_output_bias
from charrnn.runtime import Runtime
from charrnn.training import runstate
from charrnn.training.config import TrainConfig
from charrnn.training.metrics import METRICS, MetricsFile
from charrnn.training.optimization import WeightAverage, lr_at, make_optimizer, progress_of
from charrnn.training.runstate import Position

OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
UNIGRAM_SAMPLE = 16 << 20  # training characters counted for the output bias's start
MAX_BAD_STEPS = 5  # non-finite losses in a row before the run stops
VAL_EXCERPT_CHARS = 4000  # validation text kept in checkpoints for `charrnn report`


@dataclass
class TrainResult:
    position: Position
    out_dir: Path
    stopped_by: str  # "limit", "signal"
    test_loss: float | None = None
    is_main: bool = True  # rank 0 of a torchrun job (the one that reports)


# --------------------------------------------------------------------------- the loop
def train(
    cfg: TrainConfig,
    model_config: ModelConfig,
    corpus: Corpus,
    out_dir: str | Path,
    *,
    runtime: Runtime | None = None,
    resume_from: checkpoint.Checkpoint | None = None,
    on_event: Callable[[dict], None] = lambda record: None,
    should_stop: Callable[[], bool] = lambda: False,
    extend: bool = False,
    init_from: checkpoint.Checkpoint | None = None,
) -> TrainResult:
    """Trains from scratch, from the weights of `init_from` (fine-tuning: a new run, fresh
    optimizer and schedule), or continues `resume_from`: to the end it was started with, or with
    `extend`, for `cfg`'s stopping rules more (a new budget for the schedule)."""
    run = _Run(cfg, model_config, corpus, Path(out_dir), runtime or Runtime(), on_event)
    if init_from is not None:
        run.start_from(init_from)
    if resume_from is not None:
        run.restore(resume_from)
        if extend:
            run.pos.begin_segment()
    return run.loop(should_stop)


class _Run:
    """One training run's state and its steps; `loop` reads top to bottom."""

    def __init__(self, cfg, model_config, corpus, out_dir, rt: Runtime, on_event):
        self.cfg, self.corpus, self.out_dir, self.rt = cfg, corpus, out_dir, rt
        self.train_ids, self.val_ids, self.test_ids = split(corpus.ids, cfg.val_frac, cfg.test_frac)
        self.layout = layout_for(
            len(self.train_ids), cfg.batch_size, cfg.seq_len, cfg.chunk_len, cfg.seed
        )
        if self.layout.stream_len < 1:
            raise ConfigError(
                f"{corpus.path}: the training split has {len(self.train_ids)} characters, too "
                f"few for {cfg.batch_size} streams; use a smaller --batch-size or a longer text."
            )
        self.rows = rt.rows(cfg.batch_size)
        torch.manual_seed(cfg.seed)
        model = CharRNN(model_config)
        sample = np.asarray(self.train_ids[:UNIGRAM_SAMPLE], dtype=np.int64)
        V = model_config.vocab_size
        init_output_bias(model, np.bincount(sample, minlength=V)[:V])
        self.model = model.to(rt.device)
        self.optimizer = make_optimizer(self.model, cfg)
        self.average = WeightAverage(self.model, cfg.ema) if cfg.ema else None
        self.pos, self.state, self.resumed = Position(), None, False
        self.on_event = on_event
        self.val_excerpt = corpus.vocab.decode(np.asarray(self.val_ids[:VAL_EXCERPT_CHARS]))
        self.stats = _WindowStats()
        self.best_weights = None
        self.origin = None  # the checkpoint a fine-tuned run started from
        # fp16 needs loss scaling (its small range underflows gradients); bf16 does not
        self.scaler = torch.amp.GradScaler(rt.device.type) if rt.precision == "fp16" else None

    def start_from(self, ckpt) -> None:
        """Fine-tuning: the weights of another run (rows added for characters it never saw)."""
        weights = checkpoint.build_model(ckpt).state_dict()
        if ckpt.vocab != self.corpus.vocab:
            weights = grow_vocab(weights, ckpt.vocab, self.corpus.vocab)
        self.model.load_state_dict(weights)
        self.origin = {"step": ckpt.meta.get("position", {}).get("step"), "name": ckpt.path.name}

    def restore(self, ckpt) -> None:
        self.pos, self.state = runstate.restore(
            ckpt, self.model, self.optimizer, self.corpus, self.rt, self.rows, self.cfg.batch_size
        )
        self.origin = ckpt.meta.get("init_from")
        if self.average:
            self.average.load(ckpt.group("ema"))
        self.resumed = True

    def emit(self, record: dict) -> None:
        self.metrics.write(record)
        if self.rt.is_main:
            self.on_event(record)

    def progress(self) -> float:
        return progress_of(self.cfg, self.pos, self.layout.chars_per_epoch)

    def loop(self, should_stop) -> TrainResult:
        cfg, pos = self.cfg, self.pos
        self.metrics = MetricsFile(self.out_dir / METRICS, self.rt.is_main, keep_until=pos.step)
        self.emit(self._start_record())
        self.ddp_model = self.rt.wrap(self.model)
        self.ddp_model.train()
        stop, last_seconds = False, 0.0
        while self.progress() < 1.0 and not stop:
            t0 = time.perf_counter()
            with self._out_of_memory_is_an_error():
                stop = self.step(should_stop(), last_seconds)
            last_seconds = time.perf_counter() - t0
            if pos.step % cfg.log_every == 0:
                self.emit(self._train_record())
            if pos.step % cfg.eval_every == 0 and not stop:
                with self._out_of_memory_is_an_error():
                    self.eval_and_save()
            if cfg.keep_every and pos.step % cfg.keep_every == 0:
                self.save(snapshot_name(pos.step), full=False)
        pos.train_seconds += last_seconds  # the last step's time (no later sync to share it)
        if self.stats.steps:
            self.emit(self._train_record())
        if stop:
            self.save(LATEST, full=True)
            self.emit(
                {
                    "kind": "checkpoint",
                    "step": pos.step,
                    "reason": "interrupted",
                    "path": str(self.out_dir / LATEST),
                }
            )
            return TrainResult(pos, self.out_dir, "signal", is_main=self.rt.is_main)
        if not pos.history or pos.history[-1]["step"] != pos.step:
            self.eval_and_save()
        test_loss = self.test()
        self.emit(
            {
                "kind": "done",
                "step": pos.step,
                "best_val_loss": pos.best_val_loss,
                "train_seconds": round(pos.train_seconds, 3),
                **(
                    {"ranks_agree": self.rt.weights_agree(self.model)}
                    if self.rt.world_size > 1
                    else {}
                ),
            }
        )
        return TrainResult(pos, self.out_dir, "limit", test_loss, self.rt.is_main)

    def step(self, stop_requested: bool, last_seconds: float) -> bool:
        """One optimizer step on the next window; returns whether every rank should stop."""
        cfg, pos, rt = self.cfg, self.pos, self.rt
        if pos.window == 0:
            self.state = None  # each epoch starts the streams again from a zero state
        x, y = window(self.train_ids, self.layout, pos.window, self.rows, pos.epoch)
        x, y = torch.from_numpy(x).to(rt.device), torch.from_numpy(y).to(rt.device)
        seg = pos.segment
        lr = lr_at(cfg, pos.step - seg["step"], self.progress(), seg["lr"])
        pos.lr = lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        with rt.autocast():
            logits, new_state = self.ddp_model(x, self.state)  # (B, T, V)
            loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        self.optimizer.zero_grad(set_to_none=True)
        scaler = self.scaler
        (scaler.scale(loss) if scaler else loss).backward()
        if scaler:
            scaler.unscale_(self.optimizer)  # clip and report the true gradient norm
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), cfg.grad_clip, foreach=True
        )
        # One sync per step: the loss (mean over ranks), the norm, a stop request from any
        # rank, and the previous step's time (so every rank follows the same time schedule).
        loss_value, norm_value, stop, seconds = rt.agree(
            loss.detach(), grad_norm, stop_requested, last_seconds
        )
        pos.train_seconds += seconds  # the previous step's, averaged over ranks
        if scaler and math.isfinite(loss_value):
            scaler.step(self.optimizer)  # skips the update itself when fp16 gradients overflowed
            scaler.update()
            self.state = detach_state(new_state)
        elif math.isfinite(loss_value) and math.isfinite(norm_value):
            self.optimizer.step()
            if self.average:
                self.average.update(self.model, pos.step)
            self.state = detach_state(new_state)
            pos.bad_steps = 0
        else:  # skip the update; keep the previous weights and state
            self._nonfinite(loss_value, norm_value)
        pos.step += 1
        pos.tokens += x.numel() * rt.world_size
        pos.window += 1
        if pos.window >= self.layout.num_windows:
            pos.epoch, pos.window = pos.epoch + 1, 0
        self.stats.add(
            loss_value, norm_value, norm_value > cfg.grad_clip, x.numel(), last_seconds, lr
        )
        return stop

    @contextlib.contextmanager
    def _out_of_memory_is_an_error(self):
        """The device ran out of memory: one line saying so and what to lower; the last
        checkpoint written stays as it was."""
        try:
            yield
        except OUT_OF_MEMORY:
            last = self.pos.history[-1]["step"] if self.pos.history else None
            kept = (f"{self.out_dir / LATEST} (step {last}) is intact"
                    if last is not None else "no checkpoint was written yet")  # fmt: skip
            raise TrainingError(
                f"out of memory on {self.rt.device} at step {self.pos.step} (batch "
                f"{self.cfg.batch_size} x seq {self.cfg.seq_len}, "
                f"{self.model.config.num_params():,} parameters); {kept}. Lower --batch-size, "
                f"--seq-len or --hidden-size."
            ) from None

    def _nonfinite(self, loss_value: float, norm_value: float) -> None:
        pos = self.pos
        pos.bad_steps += 1
        self.emit(
            {
                "kind": "nonfinite",
                "step": pos.step,
                "loss": loss_value,
                "grad_norm": norm_value,
                "in_a_row": pos.bad_steps,
            }
        )
        if pos.bad_steps >= MAX_BAD_STEPS:
            raise TrainingError(
                f"training diverged: {pos.bad_steps} non-finite losses in a row at step "
                f"{pos.step}; lower --lr or --grad-clip. {self.out_dir / LATEST} "
                f"holds the last good state."
            )

    # ------------------------------------------------------------------- evaluation, saving
    def loss_on(self, ids, model=None) -> float:
        """Mean loss in nats, in fp32 even when training under autocast (the figure runs are
        compared by); each rank scores its share of the streams and the sums are reduced."""
        total, count = loss_sum(
            model or self.model,
            ids,
            seq_len=self.cfg.seq_len,
            batch_size=self.cfg.eval_batch_size,
            device=self.rt.device,
            share=self.rt.share,
        )
        total, count = self.rt.sum_over_ranks(total, count)
        return total / count if count else float("nan")

    def eval_and_save(self) -> None:
        """Validation (on the averaged weights with --ema); best.ckpt when it improved (those
        weights), latest.ckpt always (everything, for resume)."""
        pos = self.pos
        with self._evaluated_weights():
            val_loss = self.loss_on(self.val_ids)
            improved = math.isfinite(val_loss) and (
                pos.best_val_loss is None or val_loss < pos.best_val_loss
            )
            if improved:
                pos.best_val_loss = val_loss
                self.best_weights = {
                    k: v.detach().clone() for k, v in self.model.state_dict().items()
                }
                self.save(BEST, full=False)
        record = {
            "kind": "val",
            "step": pos.step,
            "epoch": pos.epoch,
            "val_loss": val_loss,
            "val_bpc": val_loss / LN2,
            "best": improved,
            "train_seconds": round(pos.train_seconds, 3),
        }
        pos.history.append({k: record[k] for k in ("step", "val_loss", "train_seconds")})
        self.save(LATEST, full=True)
        self.emit(record)

    def save(self, name: str, full: bool) -> None:
        """best.ckpt: weights (what sampling needs); latest.ckpt: everything resume needs.
        Only rank 0 writes; the carried state is first gathered from every rank's streams."""
        state = self.rt.gather_rows(self.state) if full else None
        if self.rt.is_main:
            extra = runstate.training_tensors(self.optimizer, state) if full else {}
            if full and self.average:
                extra.update(self.average.tensors())
            meta = runstate.meta(self.cfg, self.corpus, self.pos, self.val_excerpt, self.origin)
            checkpoint.save(self.out_dir / name, self.model, self.corpus.vocab, meta, extra)

    def _evaluated_weights(self):
        """The weights evaluation and best.ckpt use: the average with --ema, else the model's."""
        return self.average.swapped_in(self.model) if self.average else contextlib.nullcontext()

    def test(self) -> float | None:
        """The test split, scored with the best weights (kept in memory on every rank)."""
        if len(self.test_ids) < 2:
            return None
        best = self.model
        if self.best_weights is not None:
            best = CharRNN(self.model.config).to(self.rt.device)
            best.load_state_dict(self.best_weights)
        test_loss = self.loss_on(self.test_ids, best)
        self.emit(
            {
                "kind": "test",
                "step": self.pos.step,
                "test_loss": test_loss,
                "test_bpc": test_loss / LN2,
            }
        )
        return test_loss

    # ------------------------------------------------------------------- records
    def _start_record(self) -> dict:
        return {
            "kind": "start",
            "step": self.pos.step,
            "epoch": self.pos.epoch,
            "steps_per_epoch": self.layout.num_windows,
            "chars_per_epoch": self.layout.chars_per_epoch,
            "params": self.model.config.num_params(),
            "train_chars": len(self.train_ids),
            "val_chars": len(self.val_ids),
            "test_chars": len(self.test_ids),
            "config": self.cfg.to_dict(),
            "model_config": self.model.config.to_dict(),
            "world_size": self.rt.world_size,
            "precision": self.rt.precision,
            "device": str(self.rt.device),
            "resumed": self.resumed,
        }

    def _train_record(self) -> dict:
        pos = self.pos
        return {
            "kind": "train",
            "step": pos.step,
            "epoch": pos.epoch,
            "epoch_frac": round(pos.epoch + pos.window / self.layout.num_windows, 4),
            **self.stats.flush(self.rt.world_size),
            "train_seconds": round(pos.train_seconds, 3),
            "progress": min(1.0, self.progress()),
        }


class _WindowStats:
    """Sums over the steps since the last train record."""

    def __init__(self):
        self.steps = 0
        self.loss = self.norm = self.clipped = self.chars = self.seconds = self.lr = 0.0

    def add(self, loss, norm, clipped, chars, seconds, lr):
        self.lr = lr
        if math.isfinite(loss):
            self.steps += 1
            self.loss += loss
            self.norm += norm
            self.clipped += clipped
        self.chars += chars
        self.seconds += seconds

    def flush(self, world_size: int) -> dict:
        n = max(self.steps, 1)
        out = {
            "loss": self.loss / n,
            "lr": self.lr,
            "grad_norm": self.norm / n,
            "clip_frac": self.clipped / n,
            "chars_per_s": self.chars * world_size / max(self.seconds, 1e-9),
        }
        self.__init__()
        return out

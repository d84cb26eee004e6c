"""`train()`: the truncated-BPTT training loop, top to bottom.

    for each step:   window of B streams x T chars -> model(x, state) -> cross-entropy
                     -> backward -> clip grad norm -> AdamW step (lr from the schedule)
                     -> state detached and carried to the next window (reset at epoch start)
    every eval_every steps: val loss -> latest.ckpt (full, for resume), best.ckpt (weights)

The loop never prints: it reports events (events.py, the records of `metrics.jsonl`) through
the `on_event` callback. It stops at the first of --epochs / --max-steps / --time, or when
`should_stop()` turns true (Ctrl-C, SIGTERM), in which case it saves latest.ckpt first. Resume
restores weights, optimizer, carried state, data position and RNG, so the loss curve on CPU
continues exactly as if the run had never stopped. `Hooks` are where a caller steps in (tests
inject faults there, research scripts change the initialisation) without patching the loop.
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
from charrnn.files.format import BEST, LATEST, model_name, snapshot_name
from charrnn.inference.evaluate import LN2, loss_sum
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN, detach_state, grow_vocab, init_output_bias
from charrnn.runtime import Runtime
from charrnn.training import events, runstate
from charrnn.training.config import TrainConfig
from charrnn.training.events import METRICS, MetricsFile
from charrnn.training.optimization import WeightAverage, lr_at, make_optimizer, progress_of
from charrnn.training.runstate import Position
from charrnn.words import plural

OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)
UNIGRAM_SAMPLE = 16 << 20  # training characters counted for the output bias's start
MAX_BAD_STEPS = 5  # non-finite losses in a row before the run stops
VAL_EXCERPT_CHARS = 4000  # validation text kept in checkpoints for `charrnn report`


@dataclass
class Hooks:
    """Where a caller steps into the loop. The defaults are what `charrnn train` does."""

    # (model, character counts of the training text) -> None: the output bias's start
    init_model: Callable[[CharRNN, np.ndarray], None] = init_output_bias
    # called with the position before each step (e.g. to raise an injected fault)
    before_step: Callable[[Position], None] = lambda position: None
    # the training loss of a step, before backward (e.g. to poison it)
    loss: Callable[[torch.Tensor], torch.Tensor] = lambda loss: loss


@dataclass
class TrainResult:
    position: Position
    out_dir: Path
    stopped_by: str  # "limit", "signal"
    test_loss: float | None = None
    is_main: bool = True  # rank 0 of a torchrun job (the one that reports)
    chars_per_s: float | None = None  # this session's training rate
    expected_chars_per_s: float | None = None  # autosize's prediction of it, if it sized the run


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
    hooks: Hooks | None = None,
    expected_rate: float | None = None,
) -> TrainResult:
    """Trains from scratch, from the weights of `init_from` (fine-tuning: a new run, fresh
    optimizer and schedule), or continues `resume_from`: to the end it was started with, or with
    `extend`, for `cfg`'s stopping rules more (a new budget for the schedule). `expected_rate`
    (chars/s autosize predicted) is recorded beside the rate measured."""
    run = _Run(cfg, model_config, corpus, Path(out_dir), runtime or Runtime(), on_event,
               hooks or Hooks(), resume_from, init_from, extend)  # fmt: skip
    run.expected_rate = expected_rate
    return run.loop(should_stop)


class _Run:
    """One training run's state and its steps; `loop` reads top to bottom."""

    def __init__(self, cfg, model_config, corpus, out_dir, rt: Runtime, on_event, hooks,
                 resume_from, init_from, extend):  # fmt: skip
        self.cfg, self.corpus, self.out_dir, self.rt = cfg, corpus, out_dir, rt
        self.on_event, self.hooks = on_event, hooks
        # the text: train / val / test, and how the training part is walked
        self.train_ids, self.val_ids, self.test_ids = split(corpus.ids, cfg.val_frac, cfg.test_frac)
        self.layout = _layout(cfg, len(self.train_ids), corpus.path)
        self.rows = rt.rows(cfg.batch_size)  # the streams this process trains on
        self.val_excerpt = corpus.vocab.decode(np.asarray(self.val_ids[:VAL_EXCERPT_CHARS]))
        # the weights and what moves them
        self.model = self._new_model(model_config)
        self.optimizer = make_optimizer(self.model, cfg)
        self.average = WeightAverage(self.model, cfg.ema) if cfg.ema else None
        # fp16 needs loss scaling (its small range underflows gradients); for fp32 and bf16
        # the disabled scaler passes everything through, so every precision takes one path
        self.scaler = torch.amp.GradScaler(rt.device.type, enabled=rt.precision == "fp16")
        # where the run is: a new run, fine-tuning, or a resume
        self.pos, self.state, self.origin, self.resumed = Position(), None, None, False
        if init_from is not None:
            self._start_from(init_from)
        if resume_from is not None:
            self._restore(resume_from, extend)
        saved = resume_from.meta.get("train_config") if resume_from is not None else None
        self.pos.begin_session(cfg, extended=resume_from is not None and extend,
                               saved_config=saved)  # fmt: skip
        self.best_weights = None  # the best validation's weights, for the final test
        self.metrics = MetricsFile(out_dir / METRICS, rt.is_main, keep_until=self.pos.step)
        self.ddp_model = rt.wrap(self.model)
        self.stats = events.TrainAverages()
        self.rates: list[float] = []  # each train record's chars/s, this session
        self.expected_rate = None

    def _new_model(self, model_config: ModelConfig) -> CharRNN:
        torch.manual_seed(self.cfg.seed)
        model = CharRNN(model_config)
        V = model_config.vocab_size
        sample = np.asarray(self.train_ids[:UNIGRAM_SAMPLE], dtype=np.int64)
        self.hooks.init_model(model, np.bincount(sample, minlength=V)[:V])
        return model.to(self.rt.device)

    def _start_from(self, ckpt) -> None:
        """Fine-tuning: the weights of another run (rows added for characters it never saw)."""
        weights = checkpoint.build_model(ckpt).state_dict()
        if ckpt.vocab != self.corpus.vocab:
            weights = grow_vocab(weights, ckpt.vocab, self.corpus.vocab)
        self.model.load_state_dict(weights)
        self.origin = {
            "step": ckpt.meta.get("position", {}).get("step"),
            "name": model_name(ckpt.path),
            **({"extend_vocab": True} if ckpt.vocab != self.corpus.vocab else {}),
        }

    def _restore(self, ckpt, extend: bool) -> None:
        self.pos, self.state = runstate.restore(
            ckpt, self.model, self.optimizer, self.corpus, self.rt, self.rows, self.cfg.batch_size
        )
        self.origin, self.resumed = ckpt.meta.get("init_from"), True
        if self.average:
            self.average.load(ckpt.group("ema"))
        if extend:
            self.pos.begin_segment()

    def emit(self, event) -> None:
        record = events.record(event)
        self.metrics.write(record)
        if self.rt.is_main:
            self.on_event(record)

    def progress(self) -> float:
        return progress_of(self.cfg, self.pos, self.layout.chars_per_epoch)

    # ------------------------------------------------------------------- the loop
    def loop(self, should_stop) -> TrainResult:
        cfg, pos = self.cfg, self.pos
        self.emit(self._start_event())
        self.ddp_model.train()
        stop, last_seconds = False, 0.0
        while self.progress() < 1.0 and not stop:
            t0 = time.perf_counter()
            with self._out_of_memory_is_an_error():
                self.hooks.before_step(pos)
                stop = self.step(should_stop(), last_seconds)
            last_seconds = time.perf_counter() - t0
            if pos.step % cfg.log_every == 0:
                self.emit(self._train_event())
            if pos.step % cfg.eval_every == 0 and not stop:
                with self._out_of_memory_is_an_error():
                    self.eval_and_save()
            if cfg.keep_every and pos.step % cfg.keep_every == 0:
                self.save(snapshot_name(pos.step), full=False)
        pos.train_seconds += last_seconds  # the last step's time (no later sync to share it)
        if self.stats.steps:
            self.emit(self._train_event())
        if stop:
            self.save(LATEST, full=True)
            self.emit(events.Checkpoint(pos.step, "interrupted", str(self.out_dir / LATEST)))
            return TrainResult(pos, self.out_dir, "signal", is_main=self.rt.is_main)
        if not pos.history or pos.history[-1]["step"] != pos.step:
            self.eval_and_save()
        test_loss = self.test()
        agree = self.rt.weights_agree(self.model) if self.rt.world_size > 1 else None
        rate = events.session_rate(self.rates)
        self.emit(events.Done(pos.step, pos.best_val_loss, round(pos.train_seconds, 3), agree,
                              rate, self.expected_rate))  # fmt: skip
        return TrainResult(pos, self.out_dir, "limit", test_loss, self.rt.is_main, rate,
                           self.expected_rate)  # fmt: skip

    def step(self, stop_requested: bool, last_seconds: float) -> bool:
        """One optimizer step on the next window; returns whether every rank should stop."""
        cfg, pos, rt = self.cfg, self.pos, self.rt
        if pos.window == 0:
            self.state = None  # each epoch starts the streams again from a zero state
        x, y = window(self.train_ids, self.layout, pos.window, self.rows, pos.epoch)
        x, y = torch.from_numpy(x).to(rt.device), torch.from_numpy(y).to(rt.device)
        seg = pos.segment
        pos.lr = lr_at(cfg, pos.step - seg["step"], self.progress(), seg["lr"])
        for group in self.optimizer.param_groups:
            group["lr"] = pos.lr
        with rt.autocast():
            logits, new_state = self.ddp_model(x, self.state)  # (B, T, V)
            loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        loss = self.hooks.loss(loss)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(self.optimizer)  # clip and report the true gradient norm
        grad_norm = torch.nn.utils.clip_grad_norm_(
            self.model.parameters(), cfg.grad_clip, foreach=True
        )
        # One sync per step: the loss (mean over ranks), the norm, a stop request from any
        # rank, and the previous step's time (so every rank follows the same time schedule).
        loss_value, norm_value, stop, seconds = rt.agree(
            loss.detach(), grad_norm, stop_requested, last_seconds
        )
        pos.train_seconds += seconds  # the previous step's, averaged over ranks
        # fp16 gradients that overflowed are the scaler's business: it skips that update and
        # lowers its scale. Anything else non-finite is a bad step.
        overflow = self.scaler.is_enabled() and not math.isfinite(norm_value)
        if math.isfinite(loss_value) and (math.isfinite(norm_value) or overflow):
            self.scaler.step(self.optimizer)
            if not overflow:
                if self.average:
                    self.average.update(self.model, pos.step)
                pos.bad_steps = 0
            self.state = detach_state(new_state)
        else:  # skip the update; keep the previous weights and state
            self._nonfinite(loss_value, norm_value)
        self.scaler.update()  # after every step, taken or not (fp16: the next scale)
        pos.step += 1
        pos.tokens += x.numel() * rt.world_size
        pos.window += 1
        if pos.window >= self.layout.num_windows:
            pos.epoch, pos.window = pos.epoch + 1, 0
        self.stats.add(
            loss_value, norm_value, norm_value > cfg.grad_clip, x.numel(), last_seconds, pos.lr
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
        self.emit(events.NonFinite(pos.step, loss_value, norm_value, pos.bad_steps))
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
        event = events.Val(pos.step, pos.epoch, val_loss, val_loss / LN2, improved,
                           round(pos.train_seconds, 3))  # fmt: skip
        pos.history.append(
            {"step": pos.step, "val_loss": val_loss, "train_seconds": event.train_seconds}
        )
        self.save(LATEST, full=True)
        self.emit(event)

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
        """The test split, scored with the run's best weights: this session's, kept in memory on
        every rank, else (a resumed run that has not improved since) best.ckpt as an earlier
        session left it; the current weights only when no validation has finished."""
        if len(self.test_ids) < 2:
            return None
        best = self.model
        if self.best_weights is None and (self.out_dir / BEST).is_file():
            best = checkpoint.build_model(checkpoint.read(self.out_dir / BEST), self.rt.device)
        elif self.best_weights is not None:
            best = CharRNN(self.model.config).to(self.rt.device)
            best.load_state_dict(self.best_weights)
        test_loss = self.loss_on(self.test_ids, best)
        self.emit(events.Test(self.pos.step, test_loss, test_loss / LN2))
        return test_loss

    # ------------------------------------------------------------------- events
    def _start_event(self) -> events.Start:
        return events.Start(
            step=self.pos.step,
            epoch=self.pos.epoch,
            steps_per_epoch=self.layout.num_windows,
            chars_per_epoch=self.layout.chars_per_epoch,
            params=self.model.config.num_params(),
            train_chars=len(self.train_ids),
            val_chars=len(self.val_ids),
            test_chars=len(self.test_ids),
            config=self.cfg.to_dict(),
            model_config=self.model.config.to_dict(),
            world_size=self.rt.world_size,
            precision=self.rt.precision,
            device=str(self.rt.device),
            resumed=self.resumed,
        )

    def _train_event(self) -> events.Train:
        pos, averages = self.pos, self.stats.flush(self.rt.world_size)
        self.rates.append(averages["chars_per_s"])
        return events.Train(
            step=pos.step,
            epoch=pos.epoch,
            epoch_frac=round(pos.epoch + pos.window / self.layout.num_windows, 4),
            **averages,
            train_seconds=round(pos.train_seconds, 3),
            progress=min(1.0, self.progress()),
        )


def _layout(cfg: TrainConfig, n: int, path: str):
    layout = layout_for(n, cfg.batch_size, cfg.seq_len, cfg.chunk_len, cfg.seed)
    if layout.stream_len < 1:
        raise ConfigError(
            f"{path}: the training split has {plural(n, 'character')}, too few for "
            f"{cfg.batch_size} streams; use a smaller --batch-size or a longer text."
        )
    return layout

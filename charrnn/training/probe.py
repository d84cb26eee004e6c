"""Measuring a device for autosize.py: how fast it trains a model at a batch size and precision
(a short run of real training steps on random ids), and how much memory it has free.

Timings synchronise the device, skip the first steps (allocation, kernel selection) and keep
the best of three stretches, the one least disturbed by anything else the machine does.
"""

from __future__ import annotations

import os
import time

import torch
import torch.nn.functional as F

from charrnn.model.config import ModelConfig
from charrnn.runtime import Runtime
from charrnn.training import autosize

GPU_BATCHES = (32, 64, 128, 256, 512)


def free_memory(device: torch.device) -> int:
    """Bytes free for training: a GPU's free memory, or the machine's physical memory."""
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        return int(0.8 * os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def device_for(rt: Runtime, seconds: float | None = None) -> autosize.Device:
    """The device `rt` trains on, measured lazily (each rate once)."""
    kind = rt.device.type
    if kind == "cuda":
        precisions = ("fp32", "bf16") if torch.cuda.is_bf16_supported() else ("fp32",)
        batches, seconds = GPU_BATCHES, seconds or 0.4
    else:
        precisions, batches, seconds = (rt.precision,), (autosize.CPU_BATCH,), seconds or 1.5
    cache = {}

    def rate(cfg: ModelConfig, batch: int, seq: int, precision: str) -> float:
        key = (cfg, batch, seq, precision)
        if key not in cache:
            cache[key] = probe_rate(cfg, batch, seq, Runtime(rt.device, precision), seconds)
        return cache[key]

    def in_loop(cfg: ModelConfig, batch: int, seq: int, precision: str) -> float:
        return loop_rate(cfg, batch, seq, Runtime(rt.device, precision), seconds)

    return autosize.Device(kind, free_memory(rt.device), rate, batches, precisions, in_loop)


def loop_rate(cfg: ModelConfig, batch: int, seq: int, rt: Runtime, seconds: float) -> float:
    """chars/s of the training loop itself (training.train: clipping, the carried state, the
    per-step bookkeeping; evaluation and saving aside) training `cfg` on random ids: what a run
    of this size will see, which the bare steps of `probe_rate` overstate for small models."""
    import tempfile

    from charrnn.training import events
    from charrnn.training.config import TrainConfig
    from charrnn.training.loop import train

    train_cfg = TrainConfig(seq_len=seq, batch_size=batch, time_limit=seconds, eval_every=10**9,
                            log_every=5, val_frac=0.001, test_frac=0.0)  # fmt: skip
    records = []
    with tempfile.TemporaryDirectory() as out:
        train(train_cfg, cfg, random_corpus(cfg.vocab_size, 4_000_000), out, runtime=rt,
              on_event=records.append)  # fmt: skip
    done = next(r for r in records if r["kind"] == events.Done.KIND)
    # the rate a run records (events.session_rate), so prediction and record compare like for like
    return done["chars_per_s"] or done["step"] * batch * seq / max(done["train_seconds"], 1e-9)


def random_corpus(vocab_size: int, n: int, seed: int = 0):
    """n random ids over a vocabulary of `vocab_size` symbols: a corpus for timing."""
    import numpy as np

    from charrnn.data.corpus import Corpus
    from charrnn.data.vocab import Vocab

    ids = np.random.default_rng(seed).integers(0, vocab_size, n)
    ids = ids.astype(np.uint8 if vocab_size <= 256 else np.uint32)
    vocab = Vocab("".join(chr(0x100 + i) for i in range(vocab_size)))
    return Corpus("<random>", "0" * 64, vocab, ids, {})


def probe_rate(cfg: ModelConfig, batch: int, seq: int, rt: Runtime, seconds: float) -> float:
    """chars/s of forward + backward + AdamW steps of `cfg` on random ids."""
    rate = _measure(cfg, batch, seq, rt, seconds)
    if rt.device.type == "cuda":
        torch.cuda.empty_cache()  # the probe's model and optimizer are gone: give it back
    return rate


def _measure(cfg: ModelConfig, batch: int, seq: int, rt: Runtime, seconds: float) -> float:
    from charrnn.model.network import CharRNN

    sync = torch.cuda.synchronize if rt.device.type == "cuda" else (lambda: None)
    model = CharRNN(cfg).to(rt.device)
    opt = torch.optim.AdamW(model.parameters(), foreach=True)
    x = torch.randint(0, cfg.vocab_size, (batch, seq + 1), device=rt.device)

    def step():
        with rt.autocast():
            logits, _ = model(x[:, :-1])
            loss = F.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(2):  # allocation, kernel selection
        step()
    best = 0.0
    for _ in range(3):
        sync()
        t0, steps = time.perf_counter(), 0
        while time.perf_counter() - t0 < seconds / 3 or steps < 2:
            step()
            steps += 1
        sync()
        best = max(best, batch * seq * steps / (time.perf_counter() - t0))
    return best

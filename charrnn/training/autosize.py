"""Budget-aware defaults for `charrnn train FILE --time T`: the model size, batch, window, learning
rate, dropout and precision that the device and the corpus call for, with the reason.

The rule, for a device described by its measured training rate (`Device`; probe.py measures a
real one, the tests pass fakes):

1. Batch: fill the device. The smallest batch that reaches FILL of the fastest rate measured
   for the probe model (a CPU is full at batch 8, the best measured on 2 cores; a GPU needs
   hundreds of streams). Smaller batches give more updates per character, so no larger.
2. Size: the largest model on the ladder that the corpus and the budget both support: at most
   PARAMS_PER_CHAR parameters per training character, at least CHARS_PER_PARAM characters seen
   per parameter in the budget, and fitting in the device's memory. On tinyshakespeare in 3
   minutes of CPU the best model processed 3-4.6 characters per parameter (benchmarks/README.md).
3. Dropout from the epochs the budget allows (DROPOUT_BY_EPOCHS): none while the model sees
   its text a few times, more as passes repeat (fitted on held-out text, benchmarks/README.md).
4. Learning rate: 3e-3 at the CPU's batch 8, scaled by sqrt(batch / 8) up to LR_MAX.
5. Precision: on a GPU the faster of fp32 (TF32) and bf16 as measured; on a CPU, bf16 where the
   hardware has fast bf16.

Options the user gives are kept; only the others are chosen. Torch-free: probe.py measures.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

from charrnn.model.config import ModelConfig

LADDER = [
    (1, 128),
    (1, 256),
    (1, 384),
    (1, 512),
    (1, 640),
    (1, 768),
    (2, 640),
    (2, 768),
    (2, 1024),
    (3, 1024),
    (3, 1536),
]
PROBE = (1, 512)
CHARS_PER_PARAM = 2.0
PARAMS_PER_CHAR = 2.0
FILL = 0.7
MAX_REMEASURES = 3  # sizes measured in the loop at most after the first
CPU_BATCH, CPU_SEQ, GPU_SEQ = 8, 64, 128
BASE_LR, LR_MAX = 3e-3, 6e-3
DROPOUT_BY_EPOCHS = [(0.0, 0.0), (3.0, 0.1), (6.0, 0.2), (12.0, 0.3)]  # (epochs from, dropout)


@dataclass(frozen=True)
class Device:
    """What the rule needs to know about a device."""

    kind: str  # "cpu", "cuda" or "mps"
    free_memory: int  # bytes available for training
    rate: Callable[[ModelConfig, int, int, str], float]  # (cfg, batch, seq, precision) -> chars/s
    batches: tuple[int, ...]  # batch sizes worth trying
    precisions: tuple[str, ...]  # candidates, the default first
    # chars/s of a size in the training loop itself, for the size chosen; None: `rate`
    loop_rate: Callable[[ModelConfig, int, int, str], float] | None = None


@dataclass(frozen=True)
class Plan:
    num_layers: int
    hidden_size: int
    batch_size: int
    seq_len: int
    lr: float
    dropout: float
    precision: str
    params: int
    chars_per_s: float
    budget_chars: float
    epochs: float
    reason: str


def training_memory(cfg: ModelConfig, batch: int, seq: int) -> int:
    """Bytes to train `cfg` at batch x seq: fp32 weights, gradients and two AdamW moments, the
    activations kept for the backward pass (gates and states of every layer and step) and the
    logits with their gradient; x2 for the framework's workspace."""
    states = batch * seq * cfg.num_layers * cfg.hidden_size * (cfg.blocks + 2) * 4
    logits = batch * seq * cfg.vocab_size * 4 * 3
    return cfg.num_params() * 16 + 2 * (states + logits)


def dropout_for(epochs: float) -> float:
    return max(d for e, d in DROPOUT_BY_EPOCHS if epochs >= e)


def lr_for(batch: int) -> float:
    return min(LR_MAX, BASE_LR * math.sqrt(batch / CPU_BATCH))


def plan(
    base: ModelConfig,
    given: dict,
    train_chars: int,
    time_limit: float,
    device: Device,
) -> Plan:
    """The settings for this budget; `given` holds the ones the user set (kept as they are):
    any of num_layers, hidden_size, batch_size, seq_len, lr, dropout, precision."""
    seq = given.get("seq_len", CPU_SEQ if device.kind == "cpu" else GPU_SEQ)
    precision = given.get("precision") or device.precisions[0]
    probe = replace(base, num_layers=PROBE[0], hidden_size=PROBE[1])
    if "batch_size" in given:
        batch = given["batch_size"]
    else:
        rates = {b: device.rate(probe, b, seq, precision) for b in device.batches}
        batch = min(b for b, r in rates.items() if r >= FILL * max(rates.values()))
    if "precision" not in given and len(device.precisions) > 1:
        measured = {p: device.rate(probe, batch, seq, p) for p in device.precisions}
        precision = max(measured, key=measured.get)
    probe_rate = device.rate(probe, batch, seq, precision)
    sizes = list(dict.fromkeys(
        replace(base, num_layers=given.get("num_layers", layers),
                hidden_size=given.get("hidden_size", hidden))
        for layers, hidden in LADDER))  # fmt: skip

    def fits(cfg: ModelConfig, rate: float) -> bool:
        params = cfg.num_params()
        return (rate * time_limit >= CHARS_PER_PARAM * params
                and params <= PARAMS_PER_CHAR * train_chars
                and training_memory(cfg, batch, seq) <= device.free_memory)  # fmt: skip

    # The largest size that fits at the rate scaled from the probe by FLOPs ...
    estimated = {c: probe_rate * probe.forward_flops_per_char() / c.forward_flops_per_char()
                 for c in sizes}  # fmt: skip
    pick = max((i for i, c in enumerate(sizes) if fits(c, estimated[c])), default=0)

    # ... then measured in the training loop itself (small models run far below their FLOPs
    # rate), with the dropout it would get (dropout costs time too), stepping down while the
    # measured rate says it does not fit
    def as_trained(cfg: ModelConfig, rate: float) -> ModelConfig:
        epochs = rate * time_limit / max(train_chars, 1)
        return replace(cfg, dropout=given.get("dropout", dropout_for(epochs)))

    measure = device.loop_rate or device.rate
    rate = measure(as_trained(sizes[pick], estimated[sizes[pick]]), batch, seq, precision)
    for _ in range(MAX_REMEASURES):
        if pick == 0 or fits(sizes[pick], rate):
            break
        pick -= 1
        rate = measure(as_trained(sizes[pick], estimated[sizes[pick]]), batch, seq, precision)
    cfg = sizes[pick]
    budget, params = rate * time_limit, cfg.num_params()
    epochs = budget / max(train_chars, 1)
    dropout = given.get("dropout", dropout_for(epochs))
    lr = given.get("lr", lr_for(batch))
    reason = _reason(time_limit, rate, device.kind, batch, precision, params, train_chars,
                     dropout, lr, smallest=pick == 0)  # fmt: skip
    return Plan(cfg.num_layers, cfg.hidden_size, batch, seq, lr, dropout, precision, params,
                rate, budget, epochs, reason)  # fmt: skip


def _reason(time_limit, rate, kind, batch, precision, params, train_chars, dropout, lr,
            smallest) -> str:  # fmt: skip
    """Why, in figures that are so: each aim is said to be met or missed."""
    budget = rate * time_limit
    seen, per_char = budget / params, params / max(train_chars, 1)
    seen_note = (f"aiming at >= {CHARS_PER_PARAM:g}" if seen >= CHARS_PER_PARAM
                 else f"short of the {CHARS_PER_PARAM:g} aimed at, even at this size")  # fmt: skip
    size_note = (f"aiming at <= {PARAMS_PER_CHAR:g}" if per_char <= PARAMS_PER_CHAR
                 else f"over the {PARAMS_PER_CHAR:g} aimed at"
                 + (" even at the smallest size" if smallest else "")
                 + ": it will learn the text by heart; a longer text suits it better")  # fmt: skip
    return (
        f"{time_limit:.0f}s at ~{rate / 1000:.1f}k chars/s (measured at this size in the "
        f"training loop; {kind}, batch {batch}, {precision}) is ~{count_text(budget)} "
        f"characters: {seen:.1f} per parameter ({seen_note}), {budget / max(train_chars, 1):.1f} "
        f"passes over {train_chars:,} training characters; {per_char:.2g} parameters per "
        f"training character ({size_note}); hence dropout {dropout:g}, lr {lr:.2g}"
    )


def count_text(n: float) -> str:
    return f"{n / 1e6:.1f}M" if n >= 1e5 else f"{n / 1e3:.0f}k"

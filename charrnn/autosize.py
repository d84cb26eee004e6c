"""Budget-aware model sizing for `charrnn train FILE --time T` without size options.

The char-rnn rule of thumb is a parameter count of the order of the corpus characters; with a
short budget, fewer, because a model must also see enough text to use its parameters. On
tinyshakespeare in 3 minutes of CPU training (benchmarks/README.md) the best model, 1x512
(1.2M parameters), processed 3.2-4.6 characters per parameter; 1x640 with 1.6, 1x768 with 1.0
and 1x384 with 12 all did worse. So: among a ladder of sizes, take
the largest whose budget covers CHARS_PER_PARAM characters per parameter and whose parameter count
stays within PARAMS_PER_CHAR of the training text. Throughput is measured, not guessed: a short
probe times real training steps of one size, and FLOP counts scale it to the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from charrnn.modelconfig import ModelConfig

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
CHARS_PER_PARAM = 2.0  # below the best's 3.2: the 1.5 s probe underestimates by 10-25%
PARAMS_PER_CHAR = 2.0
PROBE = (1, 512)


@dataclass(frozen=True)
class Choice:
    num_layers: int
    hidden_size: int
    params: int
    chars_per_s: float
    budget_chars: float
    reason: str


def probe_rate(
    cfg: ModelConfig, batch_size: int, seq_len: int, autocast, seconds: float = 1.5, device="cpu"
) -> float:
    """chars/s of forward + backward + AdamW steps of `cfg` on random ids."""
    from charrnn.model import CharRNN

    model = CharRNN(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), foreach=True)
    x = torch.randint(0, cfg.vocab_size, (batch_size, seq_len + 1), device=device)
    steps, spent = 0, 0.0
    while spent < seconds or steps < 3:
        t0 = time.perf_counter()
        with autocast():
            logits, _ = model(x[:, :-1])
            loss = F.cross_entropy(logits.float().flatten(0, 1), x[:, 1:].flatten())
        opt.zero_grad()
        loss.backward()
        opt.step()
        float(loss.detach())
        if steps:  # the first step warms caches up
            spent += time.perf_counter() - t0
        steps += 1
    return batch_size * seq_len * (steps - 1) / spent


def choose(
    base: ModelConfig,
    train_chars: int,
    time_limit: float,
    probe_chars_per_s: float,
    probe: ModelConfig,
) -> Choice:
    """The largest ladder size that fits both the time budget and the corpus (see above)."""
    best = None
    for layers, hidden in LADDER:
        cfg = ModelConfig(**{**base.to_dict(), "num_layers": layers, "hidden_size": hidden})
        rate = probe_chars_per_s * probe.forward_flops_per_char() / cfg.forward_flops_per_char()
        budget = rate * time_limit
        params = cfg.num_params()
        fits = budget >= CHARS_PER_PARAM * params and params <= PARAMS_PER_CHAR * train_chars
        if best is None or fits:
            best = (layers, hidden, params, rate, budget)
    layers, hidden, params, rate, budget = best
    why = (
        f"{time_limit:.0f}s at ~{rate / 1000:.1f}k chars/s is ~{budget / 1e6:.1f}M characters "
        f"({budget / params:.1f} per parameter; aiming at >= {CHARS_PER_PARAM:g}) on "
        f"{train_chars / 1e6:.2f}M training characters (parameters <= "
        f"{PARAMS_PER_CHAR:g}x that)"
    )
    return Choice(layers, hidden, params, rate, budget, why)

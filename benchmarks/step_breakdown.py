"""Where a training step's time goes, for one configuration (default: the reference's 2x256
LSTM, batch 32, seq 128): the raw nn.LSTM forward + backward, then each piece a full step adds
(embedding, output layer and loss; gradient clipping; the optimizer, foreach vs fused; the loss
read back to Python). Median of repeated timings, fp32 or bf16.

    python benchmarks/step_breakdown.py [--hidden 256 --layers 2 --batch 32 --seq 128 --bf16]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, E = 65, 64


def timed(fn, repeats: int) -> float:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--repeats", type=int, default=20)
    a = p.parse_args()
    torch.manual_seed(0)
    emb, lstm, head = (
        nn.Embedding(V, E),
        nn.LSTM(E, a.hidden, a.layers, batch_first=True),
        nn.Linear(a.hidden, V),
    )
    params = [*emb.parameters(), *lstm.parameters(), *head.parameters()]
    x = torch.randint(0, V, (a.batch, a.seq))
    y = torch.randint(0, V, (a.batch, a.seq))
    xe = torch.randn(a.batch, a.seq, E)
    ctx = (
        (lambda: torch.autocast("cpu", dtype=torch.bfloat16))
        if a.bf16
        else (lambda: torch.autocast("cpu", enabled=False))
    )

    def lstm_only():
        with ctx():
            out, _ = lstm(xe)
        out.float().sum().backward()

    def forward_backward():
        with ctx():
            out, _ = lstm(emb(x))
            loss = F.cross_entropy(head(out).float().flatten(0, 1), y.flatten())
        loss.backward()
        return loss

    def with_clip():
        forward_backward()
        torch.nn.utils.clip_grad_norm_(params, 5.0, foreach=True)

    opts = {
        "foreach": torch.optim.AdamW(params, foreach=True),
        "fused": torch.optim.AdamW(params, fused=True),
    }

    def full(kind):
        def step():
            opts[kind].zero_grad(set_to_none=True)
            loss = forward_backward()
            norm = torch.nn.utils.clip_grad_norm_(params, 5.0, foreach=True)
            opts[kind].step()
            float(loss.detach()), float(norm)

        return step

    chars = a.batch * a.seq
    rows = [
        ("nn.LSTM forward + backward only", timed(lstm_only, a.repeats)),
        ("+ embedding, output layer, loss", timed(forward_backward, a.repeats)),
        ("+ gradient clipping", timed(with_clip, a.repeats)),
        ("+ AdamW foreach + loss/norm to Python", timed(full("foreach"), a.repeats)),
        ("+ AdamW fused + loss/norm to Python", timed(full("fused"), a.repeats)),
    ]
    print(
        f"{a.layers}x{a.hidden} LSTM, batch {a.batch}, seq {a.seq}, "
        f"{'bf16' if a.bf16 else 'fp32'}, {torch.get_num_threads()} threads"
    )
    for name, ms in rows:
        print(f"{name:40s} {ms:8.1f} ms/step {chars / ms * 1000:10.0f} chars/s")


if __name__ == "__main__":
    main()

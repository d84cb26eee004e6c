"""The plain PyTorch character LSTM that charrnn is measured against.

What a competent user writes in an afternoon: Embedding -> nn.LSTM -> Linear, AdamW with
gradient-norm clipping, truncated BPTT over B contiguous streams with the hidden state carried
(and detached) from window to window, PyTorch's default initialisation, no schedule. It trains for
a budget of training seconds (evaluation excluded), then prints one line `RESULT {json}` with
chars/s and the validation / test loss in nats and bits per character, and, with --eval-file,
the loss on a held-out file (characters the training text never had are dropped from it).

    python benchmarks/ref_lstm.py --data data/tinyshakespeare.txt --budget 180
    python benchmarks/ref_lstm.py --data first90.txt --split 0.95,0.05,0 --eval-file last10.txt
    python benchmarks/ref_lstm.py --data text.txt --device cuda --bf16 --layers 3 --hidden 512

Needs only torch. `charrnn bench` times the same loop on synthetic ids (charrnn/bench.py).
"""

from __future__ import annotations

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="UTF-8 text file")
    p.add_argument("--split", default="0.9,0.05,0.05", help="train,val,test fractions, in order")
    p.add_argument("--eval-file", default="", help="also score this file after training")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--wd", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=5.0)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--budget", type=float, default=180.0, help="training seconds")
    p.add_argument("--max-steps", type=int, default=0, help="0: the budget alone")
    p.add_argument("--eval-every", type=float, default=30.0, help="training seconds between evals")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--device", default="cpu")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast for forward and loss")
    return p.parse_args()


class CharLSTM(nn.Module):
    def __init__(self, vocab: int, a: argparse.Namespace):
        super().__init__()
        self.embed = nn.Embedding(vocab, a.embed)
        dropout = a.dropout if a.layers > 1 else 0.0
        self.lstm = nn.LSTM(a.embed, a.hidden, a.layers, batch_first=True, dropout=dropout)
        self.head = nn.Linear(a.hidden, vocab)

    def forward(self, x, state=None):
        h, state = self.lstm(self.embed(x), state)
        return self.head(h), state


def as_streams(ids: torch.Tensor, batch: int) -> torch.Tensor:
    """(batch, L): row b is the b-th contiguous stretch of the text."""
    length = len(ids) // batch
    return ids[: length * batch].view(batch, length)


def main() -> None:
    a = options()
    device = torch.device(a.device)
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.bf16)

    with open(a.data, encoding="utf-8") as f:
        text = f.read()
    alphabet = sorted(set(text))
    index = {c: i for i, c in enumerate(alphabet)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long, device=device)
    fractions = [float(x) for x in a.split.split(",")]
    n_train, n_val = int(fractions[0] * len(ids)), int(fractions[1] * len(ids))
    train_ids, val_ids = ids[:n_train], ids[n_train : n_train + n_val]
    test_ids = ids[n_train + n_val :]

    model = CharLSTM(len(alphabet), a).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.wd)

    @torch.inference_mode()
    def loss_on(part: torch.Tensor, batch: int = 16) -> float:
        """Mean loss in nats per character, `batch` streams, state carried."""
        if len(part) < 2 * batch:
            return float("nan")
        model.eval()
        rows, state, total, count = as_streams(part, batch), None, 0.0, 0
        for t in range(0, rows.size(1) - 1, a.seq):
            x = rows[:, t : min(t + a.seq, rows.size(1) - 1)]
            y = rows[:, t + 1 : t + 1 + x.size(1)]
            with autocast:
                logits, state = model(x, state)
            total += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum")
            count += y.numel()
        model.train()
        return float(total) / count

    rows = as_streams(train_ids, a.batch)
    t, state, step, seen, spent, ema = 0, None, 0, 0, 0.0, None
    next_eval, started = a.eval_every, time.perf_counter()
    while spent < a.budget and (not a.max_steps or step < a.max_steps):
        t0 = time.perf_counter()
        if t + a.seq + 1 > rows.size(1):  # a new epoch: the streams start again from zero
            t, state = 0, None
        x, y = rows[:, t : t + a.seq], rows[:, t + 1 : t + 1 + a.seq]
        t += a.seq
        state = None if state is None else tuple(s.detach() for s in state)
        with autocast:
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        value = loss.item()
        step, seen = step + 1, seen + x.numel()
        spent += time.perf_counter() - t0
        ema = value if ema is None else 0.98 * ema + 0.02 * value
        if spent >= next_eval:
            val = loss_on(val_ids)
            record = {"step": step, "train_s": round(spent, 1), "train_loss": round(ema, 4)}
            print(json.dumps({**record, "val": round(val, 4)}), flush=True)
            next_eval += a.eval_every

    val, test = loss_on(val_ids), loss_on(test_ids)
    result = {
        "config": vars(a),
        "vocab": len(alphabet),
        "params": sum(p.numel() for p in model.parameters()),
        "steps": step,
        "train_s": round(spent, 2),
        "train_chars_per_s": round(seen / max(spent, 1e-9)),
        "epochs": round(seen / max(len(train_ids), 1), 3),
        "val": round(val, 4),
        "val_bpc": round(val / math.log(2), 4),
        "test": round(test, 4),
        "test_bpc": round(test / math.log(2), 4),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if a.eval_file:
        with open(a.eval_file, encoding="utf-8") as f:
            held_out = f.read()
        dropped = sorted(set(held_out) - set(index))
        kept = [index[c] for c in held_out if c in index]
        score = loss_on(torch.tensor(kept, dtype=torch.long, device=device))
        result |= {"eval_file": round(score, 4), "eval_file_bpc": round(score / math.log(2), 4),
                   "eval_file_dropped": "".join(dropped)}  # fmt: skip
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

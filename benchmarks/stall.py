"""One char-LSTM training run with switchable init / optimiser / architecture fixes.

Step-budgeted (deterministic given seed), single thread. Prints one JSON line (and appends it to
--out): steps to leave the plateau, val loss at fixed steps, grad-norm / clip stats, ms/step.

Baseline = the plain loop of benchmarks/ref_lstm.py: Embedding(V,64) -> nn.LSTM ->
Linear, AdamW(lr 2e-3, betas 0.9/0.999, wd 0.01 on every parameter), clip 5, TBPTT over B streams.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)

p = argparse.ArgumentParser()
p.add_argument("--data", required=True, help="e.g. data/warpeace.txt (charrnn corpus get warpeace)")
p.add_argument("--n-train", type=int, default=1_000_000)
p.add_argument("--n-val", type=int, default=50_000)
p.add_argument("--layers", type=int, default=3)
p.add_argument("--hidden", type=int, default=128)
p.add_argument("--embed", type=int, default=64)
p.add_argument("--batch", type=int, default=64)
p.add_argument("--seq", type=int, default=128)
p.add_argument("--steps", type=int, default=1000)
p.add_argument("--eval-at", default="300,600,1000")
p.add_argument("--lr", type=float, default=2e-3)
p.add_argument("--lr-rule", default="const", choices=["const", "sqrt"])  # sqrt: lr*sqrt(B/32)
p.add_argument("--warmup", type=int, default=0)
p.add_argument("--beta2", type=float, default=0.999)
p.add_argument("--eps", type=float, default=1e-8)
p.add_argument("--wd", type=float, default=0.01)
p.add_argument("--clip", type=float, default=5.0)
p.add_argument("--fbias", type=float, default=None, help="forget-gate bias value")
p.add_argument(
    "--fbias-mode",
    default="each",
    choices=["each", "total"],
    help="each: bias_ih_f = bias_hh_f = v (sum 2v); total: ih_f = v, hh_f = 0",
)
p.add_argument("--zero-bias", action="store_true", help="zero all LSTM biases (before fbias)")
p.add_argument("--orth", action="store_true", help="orthogonal weight_hh per gate block")
p.add_argument("--xavier", action="store_true", help="xavier-uniform weight_ih per gate block")
p.add_argument("--resid", action="store_true", help="per-layer LSTMs, h_{l+1}=lstm(h_l)+h_l, l>=1")
p.add_argument("--ln", action="store_true", help="per-layer LSTMs, LayerNorm on each layer input")
p.add_argument("--split", action="store_true", help="per-layer LSTMs, no resid/ln (cost check)")
p.add_argument(
    "--head-init",
    default="default",
    choices=["default", "zero", "zerow", "logb"],
    help="zero: W=0, b=log unigram; zerow: W=0, default b; logb: default W, b=log unigram",
)
p.add_argument("--emb-scale", type=float, default=1.0)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--thresh", type=float, default=2.5)
p.add_argument("--tag", default="")
p.add_argument("--out", default="benchmarks/results/stall_cpu.jsonl")
p.add_argument("--curve", action="store_true", help="store loss curve every 25 steps")
args = p.parse_args()
torch.manual_seed(args.seed)

with open(args.data, encoding="utf-8") as f:
    text = f.read()
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
V = len(chars)
seg = text[: args.n_train + args.n_val]
data = torch.tensor([stoi[c] for c in seg], dtype=torch.long)
train, val = data[: args.n_train], data[args.n_train : args.n_train + args.n_val]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        H, L = args.hidden, args.layers
        self.emb = nn.Embedding(V, args.embed)
        self.per_layer = args.resid or args.ln or args.split
        if self.per_layer:
            self.rnns = nn.ModuleList(
                nn.LSTM(args.embed if i == 0 else H, H, 1, batch_first=True) for i in range(L)
            )
            self.lns = (
                nn.ModuleList(nn.LayerNorm(args.embed if i == 0 else H) for i in range(L))
                if args.ln
                else None
            )
        else:
            self.lstm = nn.LSTM(args.embed, H, L, batch_first=True)
        self.head = nn.Linear(H, V)

    def lstm_params(self):
        """(weight_ih, weight_hh, bias_ih, bias_hh) per layer."""
        if self.per_layer:
            return [(r.weight_ih_l0, r.weight_hh_l0, r.bias_ih_l0, r.bias_hh_l0) for r in self.rnns]
        m = self.lstm
        return [
            (
                getattr(m, f"weight_ih_l{i}"),
                getattr(m, f"weight_hh_l{i}"),
                getattr(m, f"bias_ih_l{i}"),
                getattr(m, f"bias_hh_l{i}"),
            )
            for i in range(args.layers)
        ]

    def forward(self, x, state=None, collect=False):
        h = self.emb(x)
        outs = []
        if not self.per_layer:
            h, state = self.lstm(h, state)
            return self.head(h), state, outs
        new_h, new_c = [], []
        for i, r in enumerate(self.rnns):
            inp = self.lns[i](h) if self.lns is not None else h
            s = None if state is None else (state[0][i : i + 1], state[1][i : i + 1])
            o, (hh, cc) = r(inp, s)
            h = o + h if (args.resid and i >= 1) else o
            new_h.append(hh)
            new_c.append(cc)
            if collect:
                outs.append(h)
        return self.head(h), (torch.cat(new_h), torch.cat(new_c)), outs


model = Net()
H = args.hidden
with torch.no_grad():
    model.emb.weight.mul_(args.emb_scale)
    for w_ih, w_hh, b_ih, b_hh in model.lstm_params():
        if args.orth:
            for k in range(4):
                nn.init.orthogonal_(w_hh[k * H : (k + 1) * H])
        if args.xavier:
            for k in range(4):
                nn.init.xavier_uniform_(w_ih[k * H : (k + 1) * H])
        if args.zero_bias:
            b_ih.zero_()
            b_hh.zero_()
        if args.fbias is not None:
            b_ih[H : 2 * H] = args.fbias
            b_hh[H : 2 * H] = args.fbias if args.fbias_mode == "each" else 0.0
    if args.head_init in ("zero", "zerow"):
        model.head.weight.zero_()
    if args.head_init in ("zero", "logb"):
        counts = torch.bincount(train, minlength=V).float() + 1.0
        model.head.bias.copy_((counts / counts.sum()).log())

lr = args.lr * (math.sqrt(args.batch / 32) if args.lr_rule == "sqrt" else 1.0)
opt = torch.optim.AdamW(
    model.parameters(), lr=lr, betas=(0.9, args.beta2), eps=args.eps, weight_decay=args.wd
)


def streams(d, B):
    L = len(d) // B
    return d[: L * B].view(B, L)


@torch.inference_mode()
def evaluate(d, B=16):
    model.eval()
    s = streams(d, B)
    L, state, total, count = s.size(1), None, 0.0, 0
    for i in range(0, L - 1, args.seq):
        x = s[:, i : min(i + args.seq, L - 1)]
        y = s[:, i + 1 : i + 1 + x.size(1)]
        logits, state, _ = model(x, state)
        total += F.cross_entropy(logits.reshape(-1, V), y.reshape(-1), reduction="sum").item()
        count += y.numel()
    model.train()
    return total / count


@torch.inference_mode()
def layer_stats():
    """Per layer at the current weights: std over (batch,time) of each unit's output, averaged
    over units (input-dependent signal), and mean |per-unit mean| (constant offset)."""
    x = train[:4096].view(8, 512)
    if model.per_layer:
        _, _, outs = model(x, collect=True)
    else:
        outs = []
        h = model.emb(x)
        for w_ih, w_hh, b_ih, b_hh in model.lstm_params():
            one = nn.LSTM(h.size(-1), H, 1, batch_first=True)
            one.load_state_dict(
                {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh, "bias_ih_l0": b_ih, "bias_hh_l0": b_hh}
            )
            h, _ = one(h)
            outs.append(h)
    res = []
    for o in outs:
        o = o[:, 64:].reshape(-1, o.size(-1))  # skip the start transient
        res.append((round(o.std(0).mean().item(), 5), round(o.mean(0).abs().mean().item(), 5)))
    return res


init_stats = layer_stats()
evals = sorted(int(s) for s in args.eval_at.split(","))
tr = streams(train, args.batch)
pos, state = 0, None
losses, norms, clipped = [], [], []
val_at, curve, first_below, glayers, adam_diag = {}, [], None, {}, {}
t_fwdbwd = 0.0
stats100 = None
for step in range(1, args.steps + 1):
    if pos + args.seq + 1 > tr.size(1):
        pos, state = 0, None
    x, y = tr[:, pos : pos + args.seq], tr[:, pos + 1 : pos + 1 + args.seq]
    pos += args.seq
    if state is not None:
        state = tuple(s.detach() for s in state)
    if args.warmup:
        for g in opt.param_groups:
            g["lr"] = lr * min(1.0, step / args.warmup)
    t0 = time.perf_counter()
    logits, state, _ = model(x, state)
    loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip).item()
    if step in (1, 100, 300):
        glayers[step] = [
            round(w_ih.grad.norm().item(), 5) for w_ih, _, _, _ in model.lstm_params()
        ] + [round(model.head.weight.grad.norm().item(), 5)]
    opt.step()
    if step in (1, 25, 50, 100, 150, 200, 300, 500):
        row = []
        for w_ih, _, _, _ in model.lstm_params():
            st = opt.state[w_ih]
            bc1 = 1 - 0.9**step
            bc2 = 1 - args.beta2**step
            m, v = st["exp_avg"] / bc1, st["exp_avg_sq"] / bc2
            upd = (m / (v.sqrt() + args.eps)).abs().mean().item()  # |Adam step| / lr
            g_over_v = (w_ih.grad.pow(2).mean().sqrt() / v.mean().sqrt()).item()  # now vs memory
            row.append([round(upd, 4), round(g_over_v, 3)])
        adam_diag[step] = row
    t_fwdbwd += time.perf_counter() - t0
    lv = loss.item()
    losses.append(lv)
    norms.append(gn)
    clipped.append(gn > args.clip)
    if not math.isfinite(lv):
        break
    m20 = sum(losses[-20:]) / len(losses[-20:])
    if first_below is None and step >= 20 and m20 < args.thresh:
        first_below = step
    if args.curve and step % 25 == 0:
        curve.append((step, round(m20, 3)))
    if step == 100:
        stats100 = layer_stats()
    if step in evals:
        val_at[step] = round(evaluate(val), 4)


def seg_stats(a, b):
    n = norms[a:b]
    if not n:
        return None
    return dict(gn_med=round(sorted(n)[len(n) // 2], 3), clip=round(sum(clipped[a:b]) / len(n), 3))


res = dict(
    tag=args.tag,
    cfg={k: v for k, v in vars(args).items() if k not in ("out", "data")},
    lr_eff=lr,
    steps_below=first_below,
    val=val_at,
    train_last50=round(sum(losses[-50:]) / 50, 4),
    gn_0_100=seg_stats(0, 100),
    gn_100_500=seg_stats(100, 500),
    gn_500_end=seg_stats(500, len(norms)),
    ms_step=round(1000 * t_fwdbwd / len(losses), 1),
    grad_ih_by_layer=glayers,
    adam_diag=adam_diag,
    init_layers=init_stats,
    layers_at100=stats100,
    final_layers=layer_stats(),
    params=sum(q.numel() for q in model.parameters()),
)
if args.curve:
    res["curve"] = curve
line = json.dumps(res)
print(line, flush=True)
with open(args.out, "a") as f:
    f.write(line + "\n")

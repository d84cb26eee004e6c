"""`charrnn bench`: throughput figures measured side by side in one run on this machine.

- fp32 matrix-multiply peak (GFLOP/s), the ceiling the training figures are compared with;
- training chars/s of charrnn's own loop (training.train, the code `charrnn train` runs) and of a
  plain PyTorch loop written the way a competent user would (Embedding -> nn.LSTM -> Linear,
  AdamW, clip, carried state: the loop of benchmarks/ref_lstm.py), same config;
- model FLOP/s = chars/s x 3 x forward FLOPs per char, and its fraction of the peak;
- sampling chars/s at batch 1 and 32: charrnn's numpy step vs a plain nn.LSTM-per-character loop;
- peak resident memory of the process.
"""

from __future__ import annotations

import resource
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from charrnn.data.corpus import Corpus
from charrnn.data.vocab import Vocab
from charrnn.errors import ConfigError
from charrnn.inference.sample import SampleConfig
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN
from charrnn.runtime import Runtime
from charrnn.training.probe import loop_rate

VOCAB = 65  # tinyshakespeare's alphabet size


@dataclass(frozen=True)
class BenchConfig:
    num_layers: int
    hidden_size: int
    batch_size: int = 64
    seq_len: int = 128
    embed_size: int = 64
    cell: str = "lstm"

    @property
    def name(self) -> str:
        return (
            f"{self.num_layers}x{self.hidden_size} {self.cell} B{self.batch_size} T{self.seq_len}"
        )

    def model_config(self) -> ModelConfig:
        return ModelConfig(
            vocab_size=VOCAB,
            cell=self.cell,
            embed_size=self.embed_size,
            hidden_size=self.hidden_size,
            num_layers=self.num_layers,
        )


def matmul_peak(
    seconds: float = 2.0, n: int = 1024, device: str = "cpu", precision: str = "fp32"
) -> float:
    """GFLOP/s of a square matrix multiply in the math the model's training runs in (fp32,
    which on a GPU means TF32 tensor cores as Runtime enables them, or bf16), the best of
    repeated synchronised timings."""
    n = n if device == "cpu" else 8192
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        sync()
        t0 = time.perf_counter()
        for _ in range(4):
            torch.mm(a, b)
        sync()
        best = max(best, 4 * 2 * n**3 / (time.perf_counter() - t0))
    return best / 1e9


def parse_config(text: str, batch_size: int, seq_len: int) -> BenchConfig:
    """'2x512' -> BenchConfig(2, 512, ...)."""
    try:
        layers, hidden = (int(x) for x in text.lower().split("x"))
        return BenchConfig(layers, hidden, batch_size, seq_len)
    except ValueError:
        raise ConfigError(f"--config {text!r}: write LAYERSxHIDDEN, e.g. 2x512.") from None


def synthetic_corpus(n: int, seed: int = 0) -> Corpus:
    ids = np.random.default_rng(seed).integers(0, VOCAB, n).astype(np.uint8)
    vocab = Vocab("".join(chr(33 + i) for i in range(VOCAB)))
    return Corpus("<synthetic>", "0" * 64, vocab, ids, {})


def charrnn_train_rate(
    bc: BenchConfig, seconds: float, precision: str = "fp32", device: str = "cpu"
) -> float:
    """chars/s of training.train itself (warm-up steps excluded)."""
    return loop_rate(bc.model_config(), bc.batch_size, bc.seq_len,
                     Runtime(torch.device(device), precision), seconds)  # fmt: skip


class PlainLSTM(nn.Module):
    def __init__(self, bc: BenchConfig):
        super().__init__()
        self.emb = nn.Embedding(VOCAB, bc.embed_size)
        self.lstm = nn.LSTM(bc.embed_size, bc.hidden_size, bc.num_layers, batch_first=True)
        self.head = nn.Linear(bc.hidden_size, VOCAB)

    def forward(self, x, state=None):
        out, state = self.lstm(self.emb(x), state)
        return self.head(out), state


def reference_train_rate(bc: BenchConfig, seconds: float, device: str = "cpu") -> float:
    """chars/s of the plain loop (as in benchmarks/ref_lstm.py), warm-up excluded."""
    torch.manual_seed(0)
    model = PlainLSTM(bc).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.01)
    ids = torch.randint(0, VOCAB, (bc.batch_size, 200 * bc.seq_len + 1), device=device)
    pos, state, seen, spent, step = 0, None, 0, 0.0, 0
    while spent < seconds:
        t0 = time.perf_counter()
        if pos + bc.seq_len + 1 > ids.size(1):
            pos, state = 0, None
        x, y = ids[:, pos : pos + bc.seq_len], ids[:, pos + 1 : pos + 1 + bc.seq_len]
        pos += bc.seq_len
        if state is not None:
            state = tuple(s.detach() for s in state)
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        loss.item()  # the plain loop logs its loss every step
        step += 1
        if step > 3:  # warm-up excluded, as for charrnn
            spent += time.perf_counter() - t0
            seen += x.numel()
    return seen / spent


@torch.inference_mode()
def plain_sample_rate(model: CharRNN, batch: int, length: int) -> float:
    """One nn.LSTM call per character, multinomial draw, carried state."""
    x = torch.zeros(batch, 1, dtype=torch.long)
    state = None
    t0 = time.perf_counter()
    for _ in range(length):
        logits, state = model(x, state)
        x = torch.multinomial(torch.softmax(logits[:, -1] / 0.8, -1), 1)
    return batch * length / (time.perf_counter() - t0)


def charrnn_sample_rate(model: CharRNN, batch: int, length: int) -> float:
    """charrnn's CPU sampler (numpy step), weights taken from the same model."""
    from charrnn.inference.sample import generate

    cfg = SampleConfig(length=length, num_samples=batch, seed=0)
    vocab = synthetic_corpus(10).vocab
    t0 = time.perf_counter()
    for _ in generate(model, vocab, cfg):
        pass
    return batch * length / (time.perf_counter() - t0)


def gpu_sample_rate(model: CharRNN, batch: int, length: int) -> dict:
    """chars/s of charrnn's torch sampling loop on the model's device, `batch` samples at once."""
    from charrnn.inference.sample import generate_torch

    cfg = SampleConfig(length=length, num_samples=batch, seed=0)
    vocab = synthetic_corpus(10).vocab
    for _ in generate_torch(model, vocab, SampleConfig(length=20, num_samples=batch, seed=0)):
        pass  # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in generate_torch(model, vocab, cfg):
        pass
    seconds = time.perf_counter() - t0
    return {"batch": batch, "length": length, "chars_per_s": round(batch * length / seconds)}


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(
    configs: list[BenchConfig],
    seconds: float = 10.0,
    reference: bool = True,
    precisions=("fp32",),
    sample_model: BenchConfig | None = None,
    sample_length: int = 2000,
    progress=lambda msg: None,
    device: str = "cpu",
) -> dict:
    Runtime(torch.device(device), "fp32")  # the math settings training uses (TF32 on a GPU)
    peaks = {}
    for precision in precisions:
        progress(f"{precision} matmul peak")
        peaks[precision] = matmul_peak(device=device, precision=precision)
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": device,
        "device_name": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "peak_label": "fp32 (TF32) matmul peak" if device == "cuda" else "fp32 matmul peak",
        "matmul_peak_gflops": round(peaks["fp32"], 1),
        **{f"matmul_peak_{p}_gflops": round(v, 1) for p, v in peaks.items()},
        "train": [],
        "sample": [],
    }
    for bc in configs:
        flops = 3 * bc.model_config().forward_flops_per_char()
        row = {"config": bc.name, "train_flops_per_char": flops}
        for precision in precisions:
            progress(f"{bc.name}: charrnn train loop, {precision}")
            rate = charrnn_train_rate(bc, seconds, precision, device)
            row[f"charrnn_{precision}_chars_per_s"] = round(rate)
            row[f"charrnn_{precision}_gflops"] = round(rate * flops / 1e9, 1)
            row[f"charrnn_{precision}_peak_fraction"] = round(
                rate * flops / 1e9 / peaks[precision], 3
            )
        if reference:
            progress(f"{bc.name}: plain PyTorch loop")
            ref = reference_train_rate(bc, seconds, device)
            row["reference_chars_per_s"] = round(ref)
            row["ratio_vs_reference"] = round(row["charrnn_fp32_chars_per_s"] / ref, 3)
        result["train"].append(row)
    sm = sample_model or BenchConfig(2, 256)
    torch.manual_seed(0)
    model = CharRNN(sm.model_config()).eval()
    if device == "cuda":
        result["sample_gpu"] = gpu_sample_rate(model.to(device), 1024, 1000)
        model = model.cpu()
    for batch in (1, 32):
        progress(f"sampling {sm.num_layers}x{sm.hidden_size} at batch {batch}")
        length = sample_length if batch == 1 else sample_length // 4
        plain = plain_sample_rate(model, batch, max(200, length // 4))
        ours = charrnn_sample_rate(model, batch, length)
        result["sample"].append(
            {
                "model": f"{sm.num_layers}x{sm.hidden_size} {sm.cell}",
                "batch": batch,
                "charrnn_chars_per_s": round(ours),
                "plain_chars_per_s": round(plain),
                "ratio": round(ours / plain, 2),
            }
        )
    result["peak_rss_mb"] = round(peak_rss_mb())
    return result

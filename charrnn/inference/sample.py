"""`generate()`: text from a trained model, one character at a time.

The prime text is run through the model once (one batched forward), then each step feeds the last
character back with the carried state and draws the next one from softmax(logits / temperature),
optionally restricted to the top k, or takes the argmax. `num_samples` streams are generated
together as one batch. The unknown symbol (if the vocabulary has one) is never emitted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from charrnn.errors import ConfigError
from charrnn.options import check_ranges, option

if TYPE_CHECKING:
    from charrnn.data.vocab import Vocab


@dataclass(frozen=True, kw_only=True)
class SampleConfig:
    length: int = option(500, "Characters to generate.", 0, short="-n")
    temperature: float = option(
        0.8, "Below 1: safer, more repetitive; above 1: wilder.", 0, low_open=True, short="-t"
    )
    top_k: int | None = option(None, "Draw only from the k most likely characters.", 1)
    argmax: bool = option(False, "Always take the most likely character (greedy).")
    prime: str = option("", "Text to start from; it is printed first.")
    seed: int | None = option(
        None, "Random seed, for a reproducible sample. Default: a fresh one, shown."
    )
    num_samples: int = option(1, "Independent samples, generated as one batch.", 1)
    stop: str | None = option(
        None, "End each sample at the first occurrence of this text (not printed)."
    )

    def __post_init__(self):
        if self.temperature <= 0:  # the range says so too; this adds what to use instead
            raise ConfigError("--temperature must be positive (use --argmax for greedy output).")
        check_ranges(self)
        if self.stop == "":
            raise ConfigError("--stop needs some text to stop at.")


def prime_ids(vocab: Vocab, prime: str) -> list[int]:
    """The prime as ids; a default start ("\\n" or the first symbol) when it is empty."""
    if not prime:
        start = "\n" if vocab.level == "byte" or "\n" in vocab.symbols else vocab.symbols[0]
        return vocab.encode(start).tolist()
    unknown = vocab.unknown_chars(prime)
    if unknown:
        shown = ", ".join(repr(c) for c in unknown[:10])
        raise ConfigError(
            f"--prime has {len(unknown)} character(s) the model never saw: {shown}; "
            f"remove them or pick another prime."
        )
    return vocab.encode(prime).tolist()


def next_ids(logits, cfg: SampleConfig, generator, banned: int | None):
    """(B, V) logits -> (B,) ids (torch path)."""
    import torch

    if banned is not None:
        logits[:, banned] = float("-inf")
    if cfg.argmax:
        return logits.argmax(dim=-1)
    logits = logits / cfg.temperature
    if cfg.top_k is not None and cfg.top_k < logits.size(-1):
        kth = torch.topk(logits, cfg.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = torch.softmax(logits.float(), dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def generate(model, vocab: Vocab, cfg: SampleConfig) -> Iterator[list[int]]:
    """Yields, for each new position, the list of `num_samples` ids drawn there. On the CPU the
    step runs in numpy (fastsample.py, ~10x faster at batch 1); elsewhere in torch."""
    prime = prime_ids(vocab, cfg.prime)
    if next(model.parameters()).device.type == "cpu":
        from charrnn.inference import fastsample

        return fastsample.generate(fastsample.NumpyRNN.from_torch(model), vocab, prime, cfg)
    return generate_torch(model, vocab, cfg)


GPU_SAMPLES = 64  # from this many samples at once, a GPU (when there is one) beats numpy


def sampling_device(device: str, num_samples: int) -> str:
    """ "auto": the numpy step on the CPU for a few samples (fastest at small batches, no torch
    import), a GPU when there is one for many samples generated as one batch."""
    if device != "auto":
        return device
    if num_samples < GPU_SAMPLES:
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def sampler(ckpt, device: str = "cpu"):
    """(vocab, generate(cfg)) for a checkpoint. On the CPU the weights are read as numpy arrays
    and torch is never imported; on a GPU the torch model runs."""
    if device == "cpu":
        from charrnn.inference import fastsample

        rnn, vocab, _ = fastsample.load(ckpt)
        return vocab, lambda cfg: fastsample.generate(rnn, vocab, prime_ids(vocab, cfg.prime), cfg)
    from charrnn.files.checkpoint import load_model
    from charrnn.runtime import pick_device

    model, vocab, _ = load_model(ckpt, pick_device(device))
    return vocab, lambda cfg: generate_torch(model, vocab, cfg)


def generate_torch(model, vocab: Vocab, cfg: SampleConfig) -> Iterator[list[int]]:
    """The plain loop: one model call per character, state carried (any device)."""
    import torch

    device = next(model.parameters()).device
    generator = torch.Generator(device=device)
    generator.manual_seed(cfg.seed if cfg.seed is not None else torch.seed())
    with torch.inference_mode():
        ids = torch.tensor(prime_ids(vocab, cfg.prime), device=device)
        x = ids.unsqueeze(0).expand(cfg.num_samples, -1)  # (B, P)
        logits, state = model(x)
    last = logits[:, -1]  # (B, V)
    for _ in range(cfg.length):
        with torch.inference_mode():
            nxt = next_ids(last.clone(), cfg, generator, vocab.unk_id)  # (B,)
        yield nxt.tolist()
        with torch.inference_mode():
            logits, state = model(nxt.unsqueeze(1), state)
        last = logits[:, -1]


class StopAt:
    """Cuts a stream of text at the first occurrence of `stop`, holding back just enough
    (len(stop) - 1 characters) to see an occurrence that spans pieces."""

    def __init__(self, stop: str | None):
        self.stop, self.pending, self.done = stop, "", False

    def feed(self, piece: str) -> str:
        if self.done or not self.stop:
            return "" if self.done else piece
        self.pending += piece
        found = self.pending.find(self.stop)
        if found >= 0:
            self.done, out, self.pending = True, self.pending[:found], ""
            return out
        cut = max(0, len(self.pending) - (len(self.stop) - 1))
        out, self.pending = self.pending[:cut], self.pending[cut:]
        return out

    def flush(self) -> str:
        out, self.pending = self.pending, ""
        return out


def text_pieces(vocab: Vocab, steps, cfg: SampleConfig) -> Iterator[list[str]]:
    """The new text of every sample at each step (ids decoded, cut at `cfg.stop`); the last item
    holds what was held back. Ends early once every sample has stopped."""
    decoders = [vocab.decoder() for _ in range(cfg.num_samples)]
    stops = [StopAt(cfg.stop) for _ in range(cfg.num_samples)]
    for ids in steps:
        yield [s.feed(d(i)) for s, d, i in zip(stops, decoders, ids, strict=True)]
        if cfg.stop and all(s.done for s in stops):
            return
    yield [s.flush() for s in stops]

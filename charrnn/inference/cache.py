"""A neural cache (Grave, Joulin & Usunier 2016, "Improving Neural Language Models with a
Continuous Cache"): the top layer's output at each of the last `size` positions is kept with the
character that followed it; the next character is then also predicted by attention over that
memory, p_cache(c) = sum_i softmax_i(theta * h . h_i) [x_{i+1} = c], and mixed with the model's
own prediction, (1 - weight) * p_model + weight * p_cache. It copies what was read recently,
which a small model cannot hold in its state: identifiers, names, whole lines of code.

The memory holds only characters already scored, so the figure stays a fair prediction loss.
"""

from __future__ import annotations

from dataclasses import dataclass

from charrnn.options import check_ranges, option


@dataclass(frozen=True)
class CacheConfig:
    size: int = option(10000, "--dynamic: characters the neural cache remembers (0: no cache).",
                       0, flag="--cache-size")  # fmt: skip
    theta: float = option(0.5, "--dynamic: sharpness of the cache's attention.", 0,
                          low_open=True, flag="--cache-theta")  # fmt: skip
    weight: float = option(0.3, "--dynamic: the cache's starting weight in the mix (then "
                           "learned from the text read so far).", 0, 1,
                           high_open=True, flag="--cache-weight")  # fmt: skip

    learn: bool = True  # the mixing weight learned as the text is read (mixed_nll)

    def __post_init__(self):
        check_ranges(self)

    def describe(self) -> str:
        if not self.size:
            return ""
        return (f"a neural cache of the last {self.size:,} characters (theta {self.theta:g}, "
                f"weight {self.weight:g})")  # fmt: skip

    def to_dict(self) -> dict:
        return {"size": self.size, "theta": self.theta, "weight": self.weight}


BUCKETS = 10  # levels of the cache's confidence, each with its own mixing weight (binning by
# the model's confidence as well measured no better)
FORGET = 0.9998  # per character: the weights follow the last ~5,000 characters
PRIOR_CHARS = 50.0  # the starting weight counts as this many characters


class NeuralCache:
    """The memory of (top-layer output, next character) pairs, oldest dropped first."""

    def __init__(self, cfg: CacheConfig, hidden: int, vocab_size: int, device):
        import torch

        self.cfg = cfg
        capacity = 2 * max(cfg.size, 1)  # rows are shifted down once the buffer fills
        self.keys = torch.zeros(capacity, hidden, device=device)
        self.next_ids = torch.zeros(capacity, dtype=torch.long, device=device)
        self.filled = 0
        self.vocab_size = vocab_size
        self.lam = torch.full((BUCKETS,), cfg.weight, dtype=torch.float64, device=device)
        self.resp_sum = torch.zeros(BUCKETS, dtype=torch.float64, device=device)
        self.count = torch.zeros(BUCKETS, dtype=torch.float64, device=device)

    def distributions(self, h, y):
        """p_cache over the vocabulary (W, V) for each row t of the segment h (W, H) with
        targets y (W,): attention over the memory's last `size` rows and over the segment's own
        positions before t (whose next characters are known by then)."""
        import torch

        first = max(0, self.filled - self.cfg.size)
        keys = torch.cat([self.keys[first : self.filled], h])  # (M + W, H)
        next_ids = torch.cat([self.next_ids[first : self.filled], y])
        m, w = self.filled - first, len(y)
        scores = self.cfg.theta * (h @ keys.T)  # (W, M + W)
        column = torch.arange(m + w, device=h.device)[None, :]
        seen = column < (m + torch.arange(w, device=h.device))[:, None]
        scores = scores.masked_fill(~seen, float("-inf"))
        weights = torch.softmax(scores, dim=1).nan_to_num(0.0)  # nothing seen yet: all 0
        dist = torch.zeros(w, self.vocab_size, device=h.device)
        return dist.scatter_add_(1, next_ids[None, :].expand(w, -1), weights)

    def mixed_nll(self, h, y, model_nll):
        """-log((1 - lambda) p_model(y) + lambda p_cache(y)) per row, in float64. lambda is
        learned from the text already scored, per level of the cache's confidence (its largest
        probability, in BUCKETS bins), by online EM from the starting `weight`: code, which
        repeats itself, ends up trusting a confident cache more than prose does."""
        import torch

        dist = self.distributions(h, y)
        cache_p = dist.gather(1, y[:, None])[:, 0].double()
        bucket = (dist.max(1).values * BUCKETS).long().clamp_(0, BUCKETS - 1)
        lam = self.lam[bucket] if self.cfg.learn else torch.full_like(cache_p, self.cfg.weight)
        model_p_part = torch.log1p(-lam) - model_nll
        cache_p_part = lam.log() + cache_p.log()
        mixed = torch.logaddexp(model_p_part, cache_p_part)
        if self.cfg.learn:  # responsibilities of the cache, averaged per bucket with forgetting
            resp = (cache_p_part - mixed).exp()
            self.resp_sum.mul_(FORGET ** len(y)).index_add_(0, bucket, resp)
            self.count.mul_(FORGET ** len(y)).index_add_(0, bucket, torch.ones_like(resp))
            prior = PRIOR_CHARS
            self.lam = ((self.resp_sum + prior * self.cfg.weight) / (self.count + prior)).clamp(
                1e-4, 1 - 1e-4
            )
        return -mixed

    def add(self, h, y) -> None:
        """Remember the segment's rows (after scoring it)."""
        import torch

        w = len(y)
        if self.filled + w <= len(self.keys):
            self.keys[self.filled : self.filled + w] = h
            self.next_ids[self.filled : self.filled + w] = y
            self.filled += w
            return
        keys = torch.cat([self.keys[: self.filled], h])[-self.cfg.size :]
        next_ids = torch.cat([self.next_ids[: self.filled], y])[-self.cfg.size :]
        self.filled = len(next_ids)
        self.keys[: self.filled] = keys
        self.next_ids[: self.filled] = next_ids

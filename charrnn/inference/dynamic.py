"""Dynamic evaluation (Krause et al. 2018, "Dynamic Evaluation of Neural Sequence Models"): the
text is read once with the state carried, as `eval` reads it, and after each segment has been
scored the model takes a gradient step on that segment, so what it has just read (identifiers,
names, whole lines) becomes more likely next. Every character is scored before any step that
has seen it: the figure is a fair prediction loss, reported beside the static one, never mixed.

Two update rules:
- "rms" (the default): the gradient divided by its running root mean square (kept online,
  per parameter, since a checkpoint has no training-set gradient statistics), and every weight
  decayed toward its trained value by `decay` per step: Krause et al.'s RMS rule with a global
  prior, their statistics taken from the text read so far instead of the training set;
- "sgd": plain gradient steps, decayed the same way (their simple variant).
The model is copied: the weights of the caller (and the checkpoint) never change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from charrnn.inference.cache import CacheConfig
from charrnn.options import check_ranges, option

# torch and numpy are imported where used: the CLI reads DynamicConfig without them

RULES = ("rms", "sgd", "none")
DEFAULT_LR = {"rms": 3e-4, "sgd": 0.3, "none": 0.0}  # measured: docs/baselines.md


@dataclass(frozen=True)
class DynamicConfig:
    """The update, declared once for `eval`, `compare` and `Model.loss` (options.py)."""

    rule: str = option("rms", "--dynamic: the update rule (rms: Krause et al.'s; sgd: plain "
                       "steps; none: the cache alone).", choices=RULES,
                       flag="--dynamic-rule")  # fmt: skip
    lr: float | None = option(None, "--dynamic: the step size (default: rms 3e-4, sgd 0.3).", 0,
                              low_open=True, flag="--dynamic-lr")  # fmt: skip
    segment: int = option(32, "--dynamic: characters scored between two steps.", 1,
                          flag="--dynamic-segment")  # fmt: skip
    decay: float = option(0.0, "--dynamic: fraction of the way back to the trained weights "
                          "taken each step.", 0, 1, flag="--dynamic-decay")  # fmt: skip
    rms_beta: float = 0.99  # running mean of squared gradients (rms); not an option

    def __post_init__(self):
        check_ranges(self)
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[self.rule])

    def describe(self) -> str:
        if self.rule == "none":
            return "no gradient step"
        step = "an RMS-normalised gradient step" if self.rule == "rms" else "a gradient step"
        return (f"{step} (lr {self.lr:g}, decay {self.decay:g}) after each "
                f"{self.segment}-character segment")  # fmt: skip

    def to_dict(self) -> dict:
        return {"rule": self.rule, "lr": self.lr, "segment": self.segment, "decay": self.decay}


def dynamic_loss_sums(model, ids, scored=None, cfg: DynamicConfig | None = None,
                      cache: CacheConfig | None = None, progress=None,
                      losses_out=None):  # fmt: skip
    """As evaluate.carried_loss_sums (((sum, count) scored, (sum, count) apart), in nats), with
    the model adapting after each segment and its prediction mixed with the neural cache's.
    `losses_out` (a numpy array of len(ids)), if given, receives each position's loss."""
    return _read_adapting(model, ids, scored, cfg, cache, progress, losses_out)[0]


def adapted_to(model, ids, cfg: DynamicConfig | None = None, progress=None):
    """A copy of `model` adapted to `ids` as dynamic evaluation adapts it while reading them
    (`sample --adapt`: text in the style of a long prime)."""
    return _read_adapting(model, ids, None, cfg or DynamicConfig(), CacheConfig(size=0),
                          progress, None)[1]  # fmt: skip


def _read_adapting(model, ids, scored, cfg, cache, progress, losses_out):
    """(dynamic_loss_sums' figures, the adapted model)."""
    import numpy as np
    import torch

    from charrnn.inference.cache import NeuralCache
    from charrnn.model.network import detach_state

    cfg, cache = cfg or DynamicConfig(), cache or CacheConfig()
    adapting = cfg.rule != "none"
    adapted = copy.deepcopy(model) if adapting else model
    was_training = adapted.training
    adapted.eval()  # no dropout while adapting
    params = [p for p in adapted.parameters() if p.requires_grad]
    trained = [p.detach().clone() for p in params] if adapting else []
    mean_sq = [torch.zeros_like(p) for p in trained]
    device = params[0].device
    memory = (
        NeuralCache(cache, adapted.config.hidden_size, adapted.config.vocab_size, device)
        if cache.size
        else None
    )
    tops = []  # the head's input: the top layer's output, for the cache
    hook = adapted.head.register_forward_hook(lambda m, i, o: tops.append(i[0])) if memory else None
    x_all = torch.as_tensor(np.asarray(ids, dtype=np.int64), device=device)
    mask = torch.ones(len(ids), dtype=torch.bool) if scored is None else torch.as_tensor(scored)
    mask = mask.to(device)
    sums = torch.zeros(2, dtype=torch.float64, device=device)
    state, n, steps = None, len(ids) - 1, 0
    try:
        for start in range(0, n, cfg.segment):
            x = x_all[start : min(start + cfg.segment, n)].unsqueeze(0)
            y = x_all[start + 1 : start + 1 + x.size(1)]
            m = mask[start + 1 : start + 1 + x.size(1)]
            with torch.set_grad_enabled(adapting):
                logits, state = adapted(x, state)
                logp = torch.log_softmax(logits[0].float(), -1)
                model_nll = -logp.gather(1, y[:, None])[:, 0]
            losses = model_nll.detach().double()
            if memory is not None:
                top = tops.pop()[0].detach().float()
                losses = memory.mixed_nll(top, y, losses)
                memory.add(top, y)
            sums += torch.stack([losses[m].sum(), losses[~m].sum()])
            if losses_out is not None:
                losses_out[start + 1 : start + 1 + x.size(1)] = losses.cpu().numpy()
            if adapting and m.any():
                grads = torch.autograd.grad(model_nll[m].mean(), params)
                steps += 1
                _step(params, grads, trained, mean_sq, cfg, steps)
            state = detach_state(state)
            if progress:
                progress(start + x.size(1), n)
    finally:
        if hook is not None:
            hook.remove()
        adapted.train(was_training)
    scored_count = int(mask[1:].sum()) if n > 0 else 0
    total, apart = sums.tolist()
    return ((total, scored_count), (apart, max(n, 0) - scored_count)), adapted


def _step(params, grads, trained, mean_sq, cfg: DynamicConfig, steps: int) -> None:
    import torch

    with torch.no_grad():
        _update(params, grads, trained, mean_sq, cfg, steps)


def _update(params, grads, trained, mean_sq, cfg, steps) -> None:
    for p, g, p0, ms in zip(params, grads, trained, mean_sq, strict=True):
        if cfg.rule == "rms":
            ms.mul_(cfg.rms_beta).addcmul_(g, g, value=1 - cfg.rms_beta)
            rms = (ms / (1 - cfg.rms_beta**steps)).sqrt_().add_(1e-8)  # bias-corrected
            p.addcdiv_(g, rms, value=-cfg.lr)
        else:
            p.add_(g, alpha=-cfg.lr)
        if cfg.decay:
            p.add_(p0 - p, alpha=cfg.decay)


def configs(options: dict, python: bool = False) -> tuple[DynamicConfig, CacheConfig]:
    """The two configs from options keyed by their CLI names (dynamic_lr, cache_size; the
    field names too); `python`: refuse any other key, as a Python caller spelled it."""
    import difflib

    from charrnn.errors import ConfigError
    from charrnn.options import accepted_names, given_values, keyword_names

    if python:
        unknown = sorted(set(options) - accepted_names(DynamicConfig, CacheConfig))
        if unknown:
            names = keyword_names(DynamicConfig, CacheConfig)
            close = difflib.get_close_matches(unknown[0], names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown option {unknown[0]!r}{hint}; options: {', '.join(names)}.")
    return (DynamicConfig(**given_values(DynamicConfig, options)),
            CacheConfig(**given_values(CacheConfig, options)))  # fmt: skip


def describe(cfg: DynamicConfig, cache: CacheConfig) -> str:
    return ", and ".join(x for x in (cfg.describe(), cache.describe()) if x)


def dynamic_score(model, reading, cfg: DynamicConfig | None = None,
                  cache: CacheConfig | None = None, progress=None):  # fmt: skip
    """`eval --dynamic`'s figure: evaluate.Score with protocol "dynamic"."""
    from charrnn.inference.evaluate import Score

    cfg, cache = cfg or DynamicConfig(), cache or CacheConfig()
    (total, count), (apart, n_apart) = dynamic_loss_sums(model, reading.ids, reading.scored(),
                                                         cfg, cache, progress)  # fmt: skip
    return Score(total / max(count, 1), count, "dynamic", None,
                 apart / n_apart if n_apart else None, n_apart, describe(cfg, cache))  # fmt: skip


def score_file(ckpt, file, cfg: DynamicConfig, cache: CacheConfig, *, device="auto",
               unknown="map", progress=None):  # fmt: skip
    """`charrnn eval --dynamic`: (static Score, dynamic Score, Reading) of a checkpoint on a
    text file; `progress(stage, done, total)` hears "scoring", then "adapting"."""
    from charrnn.data.reading import read_file
    from charrnn.errors import DataError
    from charrnn.files.checkpoint import load_model
    from charrnn.inference.evaluate import score
    from charrnn.runtime import pick_device

    model, vocab, _ = load_model(ckpt, pick_device(device))
    reading = read_file(vocab, file, unknown)

    def stage(name):
        return (lambda done, total: progress(name, done, total)) if progress else None

    try:
        static = score(model, reading.ids, None, stage("scoring"), reading.scored())
    except DataError as e:
        raise DataError(f"{file}: {e}") from None
    return static, dynamic_score(model, reading, cfg, cache, stage("adapting")), reading

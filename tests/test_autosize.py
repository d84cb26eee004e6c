"""The autosize rule on described devices: a 2-core CPU like the one the defaults were measured
on, and GPUs whose rate grows with the batch until they are full (fakes: no GPU needed)."""

import math

import pytest

from charrnn.model.config import ModelConfig
from charrnn.training import autosize

BASE = ModelConfig(vocab_size=65)
PROBE = ModelConfig(vocab_size=65, num_layers=1, hidden_size=512)


def cpu(rate_at_probe=24_000, memory=20 << 30):
    """A CPU: the probe model trains at `rate_at_probe` chars/s at batch 8, others by FLOPs."""

    def rate(cfg, batch, seq, precision):
        return rate_at_probe * PROBE.forward_flops_per_char() / cfg.forward_flops_per_char()

    return autosize.Device("cpu", memory, rate, (8,), ("bf16",))


def gpu(peak=60e12, full_batch=256, memory=120 << 30, bf16_speedup=0.85):
    """A GPU at `peak` FLOP/s once `full_batch` streams fill it; below that, proportionally less."""

    def rate(cfg, batch, seq, precision):
        fill = min(1.0, batch / full_batch)
        speed = bf16_speedup if precision == "bf16" else 1.0
        return peak * fill * speed / (3 * cfg.forward_flops_per_char())

    return autosize.Device("cuda", memory, rate, (32, 64, 128, 256, 512), ("fp32", "bf16"))


def test_three_minutes_of_cpu_on_a_megabyte_keeps_the_measured_defaults():
    p = autosize.plan(BASE, {}, 1_000_000, 180, cpu())
    assert (p.num_layers, p.hidden_size) == (1, 512)  # benchmarks: 1x512 won at 3 minutes
    assert (p.batch_size, p.seq_len, p.lr, p.precision) == (8, 64, 3e-3, "bf16")
    assert p.budget_chars >= autosize.CHARS_PER_PARAM * p.params and "per parameter" in p.reason


def test_the_size_does_not_flip_with_probe_noise():
    sizes = {
        (p.num_layers, p.hidden_size)
        for r in (20_000, 24_000, 28_000)  # +-15% around the measured rate
        for p in [autosize.plan(BASE, {}, 1_000_000, 180, cpu(r))]
    }
    assert len(sizes) == 1


def test_more_time_or_text_gives_bigger_models_and_less_gives_smaller():
    small = autosize.plan(BASE, {}, 1_000_000, 30, cpu())
    mid = autosize.plan(BASE, {}, 1_000_000, 600, cpu())
    big = autosize.plan(BASE, {}, 100_000_000, 3600, cpu())
    assert small.params < mid.params < big.params
    assert mid.params <= autosize.PARAMS_PER_CHAR * 1_000_000  # the corpus caps the size
    tiny = autosize.plan(BASE, {}, 1_000, 5, cpu())
    assert (tiny.num_layers, tiny.hidden_size) == autosize.LADDER[0]


def test_a_gpu_gets_the_batch_that_fills_it_a_bigger_model_and_the_faster_precision():
    p = autosize.plan(BASE, {}, 2_900_000, 120, gpu(full_batch=256))
    assert p.batch_size == 256  # the smallest batch that fills it (128 reaches only half)
    assert p.seq_len == autosize.GPU_SEQ and p.precision == "fp32"  # bf16 measured slower
    cpu_plan = autosize.plan(BASE, {}, 2_900_000, 120, cpu())
    assert p.params > cpu_plan.params and p.chars_per_s > 10 * cpu_plan.chars_per_s
    assert p.lr == pytest.approx(min(autosize.LR_MAX, 3e-3 * math.sqrt(p.batch_size / 8)))
    faster_bf16 = autosize.plan(BASE, {}, 2_900_000, 120, gpu(bf16_speedup=1.3))
    assert faster_bf16.precision == "bf16"


def test_many_passes_over_the_text_bring_dropout():
    few = autosize.plan(BASE, {}, 50_000_000, 180, cpu())
    many = autosize.plan(BASE, {}, 2_900_000, 120, gpu())
    assert few.epochs < 2 and few.dropout == 0
    assert many.epochs > 10 and many.dropout >= 0.2


def test_memory_and_given_options_bound_the_choice():
    small = autosize.plan(BASE, {}, 100_000_000, 3600, gpu(memory=2 << 30))
    assert autosize.training_memory(
        ModelConfig(vocab_size=65, num_layers=small.num_layers, hidden_size=small.hidden_size),
        small.batch_size, small.seq_len) <= 2 << 30  # fmt: skip
    kept = autosize.plan(BASE, {"batch_size": 64, "lr": 1e-3, "dropout": 0.0}, 2_900_000, 120,
                         gpu())  # fmt: skip
    assert (kept.batch_size, kept.lr, kept.dropout) == (64, 1e-3, 0.0)


def _parse_reason(reason: str) -> tuple[float, float]:
    """(characters per parameter, parameters per training character) as the reason states them."""
    import re

    seen = float(re.search(r"characters: ([\d.]+) per parameter", reason).group(1))
    per_char = float(re.search(r"; ([\d.e+-]+) parameters per training character", reason).group(1))
    return seen, per_char


def test_a_loop_slower_than_its_flops_steps_the_size_down_and_the_reason_uses_its_rate():
    flops = cpu()
    measured = []

    def loop_rate(cfg, batch, seq, precision):  # small models: far below their FLOPs rate
        measured.append(cfg.hidden_size)
        return flops.rate(cfg, batch, seq, precision) / 4

    slow = autosize.Device("cpu", 20 << 30, flops.rate, (8,), ("bf16",), loop_rate)
    by_flops = autosize.plan(BASE, {}, 1_000_000, 180, flops)
    p = autosize.plan(BASE, {}, 1_000_000, 180, slow)
    assert p.params < by_flops.params and len(measured) >= 2  # stepped down, measuring each
    assert p.chars_per_s == pytest.approx(loop_rate(p_cfg(p), 8, 64, "bf16"))  # the loop's rate
    seen, _ = _parse_reason(p.reason)
    assert seen == pytest.approx(p.budget_chars / p.params, rel=0.05)


def p_cfg(p):
    return ModelConfig(vocab_size=65, num_layers=p.num_layers, hidden_size=p.hidden_size)


@pytest.mark.parametrize("train_chars", [7_400, 1_000_000])
def test_the_reason_is_true_of_the_plan(train_chars):
    p = autosize.plan(BASE, {}, train_chars, 15, cpu())
    seen, per_char = _parse_reason(p.reason)
    assert per_char == pytest.approx(p.params / train_chars, rel=0.05)
    assert seen == pytest.approx(p.budget_chars / p.params, rel=0.05)
    claims_size_aim_met = f"aiming at <= {autosize.PARAMS_PER_CHAR:g}" in p.reason
    assert claims_size_aim_met == (per_char <= autosize.PARAMS_PER_CHAR)  # said missed if missed
    claims_seen_aim_met = f"aiming at >= {autosize.CHARS_PER_PARAM:g}" in p.reason
    assert claims_seen_aim_met == (seen >= autosize.CHARS_PER_PARAM)
    assert f"{train_chars:,} training characters" in p.reason

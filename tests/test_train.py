import json

import numpy as np
import pytest
import torch

from charrnn.data.corpus import prepare
from charrnn.errors import CheckpointError, ConfigError
from charrnn.files import checkpoint
from charrnn.model.config import ModelConfig
from charrnn.training.config import TrainConfig
from charrnn.training.loop import train
from charrnn.training.optimization import lr_at

TINY = dict(seq_len=16, batch_size=4, eval_every=20, log_every=1, warmup_steps=5)


def _model(corpus, kind="lstm"):
    return ModelConfig(vocab_size=corpus.vocab.size, cell=kind, embed_size=8, hidden_size=24)


def _losses(records):
    return [r["loss"] for r in records if r["kind"] == "train"]


@pytest.fixture
def corpus(text_file):
    return prepare(text_file)


def test_loss_falls_and_checkpoints_are_written(corpus, tmp_path):
    records = []
    cfg = TrainConfig(max_steps=60, lr=1e-2, **TINY)
    result = train(cfg, _model(corpus), corpus, tmp_path, on_event=records.append)
    losses = _losses(records)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])
    assert (tmp_path / "latest.ckpt").exists() and (tmp_path / "best.ckpt").exists()
    vals = [r for r in records if r["kind"] == "val"]
    assert [v["step"] for v in vals] == [20, 40, 60]
    assert result.position.best_val_loss == min(v["val_loss"] for v in vals)
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(x)["kind"] for x in lines].count("val") == 3
    assert any(r["kind"] == "test" for r in records)


def test_same_seed_same_run_on_cpu(corpus, tmp_path):
    cfg = TrainConfig(max_steps=15, **TINY)
    a, b = [], []
    train(cfg, _model(corpus), corpus, tmp_path / "a", on_event=a.append)
    train(cfg, _model(corpus), corpus, tmp_path / "b", on_event=b.append)
    assert _losses(a) == _losses(b)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_resume_continues_the_identical_loss_curve(corpus, tmp_path, kind):
    """Stop at step 20 (mid-epoch, state carried, dropout on), resume to 40: same losses."""
    model_cfg = ModelConfig(
        vocab_size=corpus.vocab.size,
        cell=kind,
        embed_size=8,
        hidden_size=24,
        num_layers=2,
        dropout=0.1,
    )
    whole = []
    train(
        TrainConfig(max_steps=40, **TINY),
        model_cfg,
        corpus,
        tmp_path / "whole",
        on_event=whole.append,
    )
    part = []

    def stop():
        return any(r["kind"] == "train" and r["step"] >= 20 for r in part)

    first = train(
        TrainConfig(max_steps=40, **TINY),
        model_cfg,
        corpus,
        tmp_path / "part",
        on_event=part.append,
        should_stop=stop,
    )
    assert first.stopped_by == "signal" and first.position.step == 21  # finishes its step
    ckpt = checkpoint.read(
        tmp_path / "part" / "latest.ckpt", groups=("model", "optim", "state", "rng")
    )
    train(
        TrainConfig(max_steps=40, **TINY),
        model_cfg,
        corpus,
        tmp_path / "part",
        resume_from=ckpt,
        on_event=part.append,
    )
    assert _losses(part) == _losses(whole)
    steps = [
        json.loads(x)["step"]
        for x in (tmp_path / "part" / "metrics.jsonl").read_text().splitlines()
        if json.loads(x)["kind"] == "train"
    ]
    assert steps == sorted(set(steps))  # no duplicated records after resume


def test_resume_refuses_other_vocabulary(corpus, tmp_path):
    train(TrainConfig(max_steps=5, **TINY), _model(corpus), corpus, tmp_path)
    other = tmp_path / "other.txt"
    other.write_text("completely different characters: QZXJ\n" * 50)
    other_corpus = prepare(other)
    ckpt = checkpoint.read(tmp_path / "latest.ckpt", groups=("model", "optim", "state", "rng"))
    with pytest.raises(CheckpointError, match="different vocabulary"):
        train(
            TrainConfig(max_steps=10, **TINY),
            _model(corpus),
            other_corpus,
            tmp_path / "o",
            resume_from=ckpt,
        )


def test_weights_only_checkpoint_cannot_be_resumed(corpus, tmp_path):
    train(TrainConfig(max_steps=5, **TINY), _model(corpus), corpus, tmp_path)
    ckpt = checkpoint.read(tmp_path / "best.ckpt", groups=("model", "optim", "state", "rng"))
    with pytest.raises(CheckpointError, match="weights only"):
        train(TrainConfig(max_steps=10, **TINY), _model(corpus), corpus, tmp_path, resume_from=ckpt)


def test_schedule_warms_up_then_decays_to_floor():
    cfg = TrainConfig(max_steps=100, lr=1.0, warmup_steps=10, min_lr_frac=0.1)
    assert lr_at(cfg, 0, 0.0) == pytest.approx(0.1)
    assert lr_at(cfg, 9, 0.09) == pytest.approx(1.0, abs=0.03)
    assert lr_at(cfg, 50, 0.5) == pytest.approx(0.55)
    assert lr_at(cfg, 100, 1.0) == pytest.approx(0.1)


def test_config_stops_after_10_epochs_by_default_and_refuses_bad_values():
    assert TrainConfig().epochs == 10 and TrainConfig(max_steps=5).epochs is None
    with pytest.raises(ConfigError, match="--lr"):
        TrainConfig(max_steps=1, lr=-1)
    with pytest.raises(ConfigError, match="--lr nan: give a finite number"):
        TrainConfig(max_steps=1, lr=float("nan"))
    with pytest.raises(ConfigError, match="--batch-size"):
        TrainConfig(max_steps=1, batch_size=0)


def test_nonfinite_loss_skips_steps_then_stops(corpus, tmp_path):
    from charrnn.errors import TrainingError
    from charrnn.training.loop import Hooks

    records = []

    with pytest.raises(TrainingError, match="non-finite"):
        train(
            TrainConfig(max_steps=50, **TINY),
            _model(corpus),
            corpus,
            tmp_path,
            on_event=records.append,
            hooks=Hooks(loss=lambda loss: loss * float("nan")),
        )
    assert [r["in_a_row"] for r in records if r["kind"] == "nonfinite"] == [1, 2, 3, 4, 5]


def test_recorded_grad_norm_is_the_norm_before_clipping(corpus, tmp_path):
    from charrnn.data.batches import layout_for, split, window
    from charrnn.model.network import CharRNN, init_output_bias

    records = []
    cfg = TrainConfig(max_steps=1, grad_clip=0.01, **TINY)
    train(cfg, _model(corpus), corpus, tmp_path, on_event=records.append)
    recorded = next(r for r in records if r["kind"] == "train")
    torch.manual_seed(cfg.seed)  # the same initial weights and first window as the run
    model = CharRNN(_model(corpus))
    train_ids = split(corpus.ids, cfg.val_frac, cfg.test_frac)[0]
    vocab = corpus.vocab.size
    init_output_bias(model, np.bincount(np.asarray(train_ids), minlength=vocab)[:vocab])
    layout = layout_for(len(train_ids), cfg.batch_size, cfg.seq_len, cfg.chunk_len, cfg.seed)
    x, y = window(train_ids, layout, 0)
    logits, _ = model(torch.from_numpy(x))
    torch.nn.functional.cross_entropy(
        logits.flatten(0, 1), torch.from_numpy(y).flatten()
    ).backward()
    expected = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
    assert recorded["grad_norm"] == pytest.approx(float(expected), rel=1e-5)
    assert recorded["clip_frac"] == 1.0


@pytest.mark.parametrize("clip,expected", [(1e9, 0.0), (1e-6, 1.0)])
def test_clip_fraction(corpus, tmp_path, clip, expected):
    records = []
    cfg = TrainConfig(max_steps=10, grad_clip=clip, **{**TINY, "log_every": 10})
    train(cfg, _model(corpus), corpus, tmp_path, on_event=records.append)
    assert next(r for r in records if r["kind"] == "train")["clip_frac"] == expected


def test_decay_frac_holds_the_lr_then_decays():
    cfg = TrainConfig(max_steps=100, lr=1.0, warmup_steps=0, min_lr_frac=0.0, decay_frac=0.25)
    assert lr_at(cfg, 10, 0.5) == 1.0 and lr_at(cfg, 74, 0.74) == 1.0
    assert lr_at(cfg, 87, 0.875) == pytest.approx(0.5)
    assert lr_at(cfg, 100, 1.0) == pytest.approx(0.0)


def test_extending_a_finished_run_keeps_the_learning_rate_continuous(cli, text_file, tmp_path):
    """`--resume` with a stop option trains that much more; the lr warms up from where it ended
    (never jumps), then decays over the new budget."""
    from tests.conftest import TINY_TRAIN

    run = tmp_path / "run"
    flags = [*TINY_TRAIN, "--warmup-steps", "5", "--log-every", "1"]
    assert cli("train", text_file, "--out", run, "--max-steps", "30", *flags)[0] == 0
    code, _, err = cli("train", text_file, "--resume", run, "--max-steps", "20", *flags)
    assert code == 0, err
    records = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
    lrs = {r["step"]: r["lr"] for r in records if r["kind"] == "train"}
    peak = 3e-3
    assert lrs[30] < 0.06 * peak  # the first run decayed to about its floor (0.05 x peak)
    assert lrs[31] - lrs[30] == pytest.approx((peak - lrs[30]) / 5, rel=1e-6)  # a warmup step
    assert max(lrs.values()) <= peak * (1 + 1e-9) and lrs[50] < 0.06 * peak
    assert max(lrs) == 50  # 20 more steps, not 20 in all


def test_resume_without_stop_options_keeps_the_runs_own_end(cli, text_file, tmp_path):
    from tests.conftest import TINY_TRAIN

    run = tmp_path / "run"
    assert cli("train", text_file, "--out", run, "--max-steps", "30", *TINY_TRAIN)[0] == 0
    code, out, _ = cli("train", text_file, "--resume", run, *TINY_TRAIN)
    assert code == 0 and "done: 30 steps" in out  # nothing left to do


def test_weight_average_is_what_validation_and_best_ckpt_use(corpus, tmp_path):
    """With --ema the validation figure and best.ckpt are the averaged weights' (and resume
    restores the average), not the last step's."""
    from charrnn.data.batches import split
    from charrnn.files.checkpoint import load_model
    from charrnn.inference.evaluate import loss_sum

    cfg = TrainConfig(max_steps=20, ema=0.9, **{**TINY, "eval_every": 20})
    records = []
    train(cfg, _model(corpus), corpus, tmp_path / "run", on_event=records.append)
    best = checkpoint.read(tmp_path / "run" / "best.ckpt")
    latest = checkpoint.read(tmp_path / "run" / "latest.ckpt", groups=("model", "ema"))
    assert len(latest.group("ema")) == len(list(load_model(best.path)[0].parameters()))
    trained = latest.group("model")
    assert any(not torch.equal(trained[k], v) for k, v in best.group("model").items())
    val = next(r for r in records if r["kind"] == "val")["val_loss"]
    val_ids = split(corpus.ids, cfg.val_frac, cfg.test_frac)[1]
    total, count = loss_sum(load_model(best.path)[0], val_ids, cfg.seq_len, cfg.eval_batch_size)
    assert total / count == pytest.approx(val, rel=1e-5)


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_every_precision_takes_the_one_update_path(corpus, tmp_path, precision):
    """--ema's average moves and scattered non-finite steps never add up to "5 in a row", in
    fp16 (loss scaling) as in fp32 and bf16. The CPU's LSTM has no fp16 kernel, so the fp16
    case runs the update path as fp16 does (the gradient scaler on) with the math in fp32."""
    import contextlib

    from charrnn.runtime import Runtime
    from charrnn.training.loop import Hooks

    class CpuRuntime(Runtime):
        def autocast(self):
            return contextlib.nullcontext() if self.precision == "fp16" else super().autocast()

    from charrnn.runtime import cpu_runs_bf16_lstm

    if precision == "bf16" and not cpu_runs_bf16_lstm():
        pytest.skip("this CPU's LSTM kernel has no bf16 path")
    rt = CpuRuntime()
    rt.precision = precision  # past the refusal of fp16 on a CPU
    poisoned_steps = {3, 7, 11, 15, 19, 23, 27}  # seven, never two in a row

    class Poison:
        step = 0

        def before(self, position):
            self.step = position.step

        def loss(self, loss):
            return loss * float("nan") if self.step in poisoned_steps else loss

    poison = Poison()
    records = []
    cfg = TrainConfig(max_steps=40, lr=1e-2, ema=0.9, **{**TINY, "eval_every": 10})
    train(cfg, _model(corpus), corpus, tmp_path, runtime=rt, on_event=records.append,
          hooks=Hooks(before_step=poison.before, loss=poison.loss))  # fmt: skip
    bad = [r for r in records if r["kind"] == "nonfinite"]
    assert [r["step"] for r in bad] == sorted(poisoned_steps)
    assert [r["in_a_row"] for r in bad] == [1] * len(poisoned_steps)
    vals = [r["val_loss"] for r in records if r["kind"] == "val"]
    assert len(vals) == 4 and vals[-1] < vals[0] - 0.1  # the average moved with training


def test_the_test_figure_after_resume_is_the_best_checkpoints(corpus, tmp_path):
    """A resumed session that never beats the best validation still tests best.ckpt's weights
    (an earlier session's), not the last step's."""
    from charrnn.data.batches import split
    from charrnn.files.checkpoint import load_model
    from charrnn.inference.evaluate import loss_sum
    from charrnn.training.loop import Hooks

    cfg = TrainConfig(max_steps=20, lr=1e-2, **{**TINY, "eval_every": 10})
    train(cfg, _model(corpus), corpus, tmp_path)
    best_before = (tmp_path / "best.ckpt").read_bytes()
    latest = checkpoint.read(tmp_path / "latest.ckpt", groups=("model", "optim", "state", "rng"))
    records = []
    ascent = Hooks(loss=lambda loss: -loss)  # every step of this session makes the model worse
    # One validation, at step 40: long enough for the ascent to outrun Adam's momentum
    more = TrainConfig(max_steps=40, lr=1e-2, **{**TINY, "eval_every": 20})
    train(more, _model(corpus), corpus, tmp_path, resume_from=latest,
          on_event=records.append, hooks=ascent)  # fmt: skip
    assert not any(r["best"] for r in records if r["kind"] == "val")
    assert (tmp_path / "best.ckpt").read_bytes() == best_before
    test_ids = split(corpus.ids, cfg.val_frac, cfg.test_frac)[2]
    figures = {}
    for name in ("best.ckpt", "latest.ckpt"):
        model = load_model(tmp_path / name)[0]
        total, count = loss_sum(model, test_ids, cfg.seq_len, cfg.eval_batch_size)
        figures[name] = total / count
    test = next(r for r in records if r["kind"] == "test")["test_loss"]
    assert test == pytest.approx(figures["best.ckpt"], rel=1e-5)
    assert figures["latest.ckpt"] > figures["best.ckpt"] + 1e-3  # so the two are told apart


def test_the_run_records_its_rate_beside_the_one_autosize_predicted(corpus, tmp_path):
    records = []
    cfg = TrainConfig(max_steps=12, **TINY)
    result = train(cfg, _model(corpus), corpus, tmp_path, on_event=records.append,
                   expected_rate=1234.5)  # fmt: skip
    rates = [r["chars_per_s"] for r in records if r["kind"] == "train"]
    saved = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    done = next(r for r in saved if r["kind"] == "done")
    assert done["expected_chars_per_s"] == 1234.5 == result.expected_chars_per_s
    assert done["chars_per_s"] == float(np.median(rates[1:])) == result.chars_per_s

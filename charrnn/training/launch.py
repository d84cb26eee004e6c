"""Starting or resuming a training run: from a typed `TrainRequest` to `training.train`.

    request (configs built at the CLI edge, checked) -> run directory (refuse to clobber a run)
    -> corpus (encoded once; large files through the token cache) -> the run's configs: a resumed
    run's own with the options given now applied (`dataclasses.replace`), or the request's with
    a budget-aware model size for `--time` -> memory check -> training.train

Nothing here prints: progress and notes go to the `on_event` callback (events.py's records, like
the training loop's), errors are raised.
"""

from __future__ import annotations

import contextlib
from dataclasses import fields, replace
from pathlib import Path

from charrnn.data.corpus import load_corpus
from charrnn.errors import CheckpointError, ConfigError
from charrnn.fileio import RunLock
from charrnn.files.format import BEST, LATEST, resolve
from charrnn.model.config import ModelConfig
from charrnn.options import flag_of
from charrnn.training.config import STOP_FIELDS, TrainConfig, TrainRequest
from charrnn.training.events import Autosize, Note, record

MODEL_FIELDS = frozenset(f.name for f in fields(ModelConfig)) - {"vocab_size"}
TRAIN_FIELDS = frozenset(f.name for f in fields(TrainConfig))
SIZE_FIELDS = frozenset({"hidden_size", "num_layers"})


def run(
    request: TrainRequest,
    on_event=lambda r: None,
    should_stop=lambda: False,
    progress=None,
    hooks=None,
):
    """Trains; returns train.TrainResult. Only rank 0 of a torchrun job reports and writes, and
    it holds the run directory's lock (one writer per run) until the run ends."""
    from charrnn.files import checkpoint
    from charrnn.runtime import from_environment, set_threads

    set_threads(request.threads)
    rt = from_environment(request.device, request.precision)
    resumed = origin = None
    if request.resume is not None:
        groups = ("model", "optim", "state", "rng", "ema")
        resumed = checkpoint.read(resume_path(request.resume), groups=groups)
        _check_same_model(resumed, request, "--resume")
    if request.init_from is not None:
        origin = checkpoint.read(request.init_from)
        _check_same_model(origin, request, "--init-from")
    default_out = resumed.path.parent if resumed else Path("runs") / Path(request.file).stem
    out = request.out or default_out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory for the run.")
    with contextlib.ExitStack() as held:
        if rt.is_main:
            held.enter_context(RunLock(out))
        if request.tensorboard is not None and rt.is_main:
            from charrnn.training.tensorboard import TensorBoardLog

            on_event = _tee(on_event, held.enter_context(TensorBoardLog(request.tensorboard)))
        try:
            return _train(request, rt, resumed, origin, out, on_event, should_stop, progress,
                          hooks)  # fmt: skip
        except BaseException:
            rt.close(clean=False)
            raise


def _train(request, rt, resumed, origin, out, on_event, should_stop, progress, hooks):
    from charrnn.training.loop import train

    report = on_event if rt.is_main else (lambda r: None)
    if "seed" in request.given and "time_limit" in request.given:
        report(record(Note("--seed with --time: the stop comes from the clock"
                + (" and the size from a throughput probe" if _autosized(request) else "")
                + ", so this run will not repeat bit for bit; --max-steps or --epochs (and "
                "explicit sizes) do.")))  # fmt: skip
    data, base = request.data, resumed or origin
    if base is not None:
        data = replace(data, level=base.vocab.level)
    if resumed is None:
        if rt.is_main:
            check_out_dir(out, request.overwrite)
        rt.barrier()
        if not _autosized(request):  # the size is known: refuse what cannot fit before reading
            model = origin.model_config if origin else request.model
            check_fits_in_memory(replace(model, vocab_size=1), request.train, rt)
    corpus = load_corpus(
        request.file,
        data,
        progress if rt.is_main else None,
        warn=lambda text: report(record(Note(text))),
        base_vocab=origin.vocab if origin else None,
        extend_vocab=request.extend_vocab,
    )
    train_cfg, model_cfg, expected_rate = _configs(request, corpus, resumed, origin, rt, report)
    check_fits_in_memory(model_cfg, train_cfg, rt)
    result = train(
        train_cfg,
        model_cfg,
        corpus,
        out,
        runtime=rt,
        resume_from=resumed,
        on_event=on_event,
        should_stop=should_stop,
        extend=resumed is not None and bool(set(STOP_FIELDS) & request.given),
        init_from=origin,
        hooks=hooks,
        expected_rate=expected_rate,
    )
    rt.close()
    return result


def _configs(request: TrainRequest, corpus, resumed, origin, rt, report):
    """(TrainConfig, ModelConfig, the chars/s autosize predicted or None) for this run: a resumed
    run's own with the options given now replacing the saved ones; a fine-tuned run's model with
    the request's training; else the request's, sized to the budget for `--time` alone."""
    given_train = {k: getattr(request.train, k) for k in request.given & TRAIN_FIELDS}
    if resumed is not None:
        saved = TrainConfig.from_dict(resumed.meta.get("train_config") or {})
        if set(STOP_FIELDS) & set(given_train):  # stopping rules given now replace the saved ones
            given_train = {**dict.fromkeys(STOP_FIELDS), **given_train}
        return replace(saved, **given_train), resumed.model_config, None
    if origin is not None:
        dropout = {"dropout": request.model.dropout} if "dropout" in request.given else {}
        model_cfg = replace(origin.model_config, vocab_size=corpus.vocab.size, **dropout)
        return request.train, model_cfg, None
    model_cfg = replace(request.model, vocab_size=corpus.vocab.size)
    if _autosized(request):
        return _autosize(request, model_cfg, corpus, rt, report)
    return request.train, model_cfg, None


def _autosized(request: TrainRequest) -> bool:
    """`--time` without size options (and no weights to start from): sized to the budget."""
    return (
        bool(request.train.time_limit)
        and not SIZE_FIELDS & request.given
        and request.resume is None
        and request.init_from is None
    )


PLANNED = ("num_layers", "hidden_size", "dropout", "batch_size", "seq_len", "lr")


def _autosize(request: TrainRequest, model_cfg: ModelConfig, corpus, rt, report):
    """(TrainConfig, ModelConfig, predicted chars/s) sized to the budget and the device
    (autosize.py); the options the user gave are kept. May switch an "auto" precision to the one
    that measured faster."""
    from charrnn.data.batches import split
    from charrnn.training import autosize, probe

    train_cfg = request.train
    given = {
        name: getattr(model_cfg if name in MODEL_FIELDS else train_cfg, name)
        for name in PLANNED
        if name in request.given
    }
    if request.precision != "auto":
        given["precision"] = rt.precision
    train_chars = len(split(corpus.ids, train_cfg.val_frac, train_cfg.test_frac)[0])
    chosen = autosize.plan(model_cfg, given, train_chars, train_cfg.time_limit,
                           probe.device_for(rt))  # fmt: skip
    rt.precision = chosen.precision
    report(record(Autosize(model_cfg.cell, chosen)))
    model_cfg = replace(model_cfg, num_layers=chosen.num_layers, hidden_size=chosen.hidden_size,
                        dropout=chosen.dropout)  # fmt: skip
    train_cfg = replace(train_cfg, batch_size=chosen.batch_size, seq_len=chosen.seq_len,
                        lr=chosen.lr)  # fmt: skip
    return train_cfg, model_cfg, chosen.chars_per_s


def check_fits_in_memory(model_cfg: ModelConfig, train_cfg: TrainConfig, rt) -> None:
    """Refuse sizes that cannot fit before allocating them (and being killed for it)."""
    from charrnn.training.autosize import training_memory
    from charrnn.training.probe import free_memory

    need = training_memory(model_cfg, train_cfg.batch_size, train_cfg.seq_len)
    have = free_memory(rt.device)
    if need > have:
        where = f"the {have / 2**30:.1f} GiB free on {rt.device}" if rt.device.type != "cpu" else (
            f"this machine's {have / 0.8 / 2**30:.0f} GiB")  # fmt: skip
        raise ConfigError(
            f"this model ({model_cfg.num_params():,} parameters) with --batch-size "
            f"{train_cfg.batch_size} x --seq-len {train_cfg.seq_len} needs about "
            f"{need / 2**30:.1f} GiB, more than {where}; use a smaller --batch-size, "
            f"--hidden-size, --num-layers or --embed-size."
        )


def resume_path(resume: Path) -> Path:
    p = Path(resume)
    if p.is_dir():
        if not (p / LATEST).is_file():
            raise CheckpointError(f"--resume {p}: no {LATEST} in this directory.")
        return p / LATEST
    return resolve(p)


def _check_same_model(ckpt, request: TrainRequest, option: str) -> None:
    saved = ckpt.model_config
    for f in fields(ModelConfig):
        if f.name not in request.given or f.name == "dropout":
            continue
        if getattr(saved, f.name) != getattr(request.model, f.name):
            spelled = flag_of(f)
            raise ConfigError(
                f"{option}: the checkpoint has {spelled} {getattr(saved, f.name)}, not "
                f"{getattr(request.model, f.name)}; drop {spelled}, or train a new model "
                f"without {option}."
            )


def check_out_dir(out: Path, overwrite: bool) -> None:
    taken = [n for n in (LATEST, BEST) if (out / n).exists()]
    if taken and not overwrite:
        raise ConfigError(
            f"--out {out} already holds a run ({', '.join(taken)}); continue it with "
            f"--resume {out}, replace it with --overwrite, or pick another --out."
        )
    if overwrite:
        for name in (LATEST, BEST, "metrics.jsonl"):
            (out / name).unlink(missing_ok=True)


def _tee(*callbacks):
    def both(record: dict) -> None:
        for callback in callbacks:
            callback(record)

    return both

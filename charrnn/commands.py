"""What each CLI command does once its options are parsed: build the configs, call the library,
render the result. Kept apart from cli.py so that torch is imported only when a command runs
(`charrnn --help` stays instant); like cli.py, it may print, and it raises `CharRNNError` for
bad input rather than exiting.
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

from charrnn import ckptfile, data
from charrnn.errors import CharRNNError, ConfigError, DataError
from charrnn.metrics import bpc
from charrnn.modelconfig import ModelConfig
from charrnn.trainconfig import TrainConfig
from charrnn.ui import err, human_count, out

# torch (~2 s to import) is imported inside the commands that need it, so that `corpus`,
# `prepare` and the error paths stay fast.

IN_MEMORY_LIMIT = 32 << 20  # smaller files are encoded in memory, larger ones cached on disk
MODEL_FIELDS = {f.name for f in fields(ModelConfig)} - {"vocab_size"}
DEFAULT_EPOCHS = 10


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "charrnn"


def setup_torch(threads: int | None) -> None:
    if threads is not None:
        limit = 8 * (os.cpu_count() or 1)
        if not 1 <= threads <= limit:
            raise ConfigError(f"--threads must be between 1 and {limit} on this machine.")
        import torch

        torch.set_num_threads(threads)


def physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_fits_in_memory(model_cfg: ModelConfig, train_cfg: TrainConfig) -> None:
    """Refuse sizes that cannot fit before allocating them (and being killed for it)."""
    weights = model_cfg.num_params() * 16  # fp32 weights, gradients, two AdamW moments
    acts = (
        train_cfg.batch_size
        * train_cfg.seq_len
        * model_cfg.num_layers
        * model_cfg.hidden_size
        * (model_cfg.gates + 2)
        * 4
        * 2
    )
    need, have = weights + acts, physical_memory()
    if need > 0.8 * have:
        raise ConfigError(
            f"this model ({model_cfg.num_params():,} parameters) with --batch-size "
            f"{train_cfg.batch_size} x --seq-len {train_cfg.seq_len} needs about "
            f"{need / 2**30:.1f} GiB, more than this machine's {have / 2**30:.0f} GiB; use a "
            f"smaller --hidden-size, --num-layers, --embed-size or batch."
        )


# --------------------------------------------------------------------------- train
def run_training(
    file,
    options: dict,
    *,
    out: Path | None,
    resume: Path | None,
    overwrite: bool,
    unit: str,
    max_vocab,
    min_count: int,
    cache_dir,
    device: str,
    precision: str,
    threads,
    quiet: bool,
    should_stop,
):
    from charrnn.runtime import from_environment
    from charrnn.train import train
    from charrnn.ui import TrainView

    setup_torch(threads)
    rt = from_environment(device, precision)
    quiet = quiet or not rt.is_main
    model_options = {k: v for k, v in options.items() if k in MODEL_FIELDS}
    train_options = {k: v for k, v in options.items() if k not in MODEL_FIELDS}
    resumed = None
    if resume is not None:
        from charrnn import checkpoint

        resumed = checkpoint.read(_resume_path(resume), groups=("model", "optim", "state", "rng"))
        _check_same_model(resumed, model_options)
        out = out or resumed.path.parent
        unit = resumed.vocab.unit
    else:
        out = out or Path("runs") / Path(file).stem
        if rt.is_main:
            _check_out_dir(out, overwrite)
        rt.barrier()
    corpus = load_corpus(
        file, unit=unit, max_vocab=max_vocab, min_count=min_count, cache_dir=cache_dir, quiet=quiet
    )
    train_cfg, model_cfg = _configs(train_options, model_options, corpus, resumed, rt, quiet)
    check_fits_in_memory(model_cfg, train_cfg)
    try:
        with TrainView(quiet=quiet) as view:
            result = train(
                train_cfg,
                model_cfg,
                corpus,
                out,
                runtime=rt,
                resume_from=resumed,
                on_event=view,
                should_stop=should_stop,
            )
    except BaseException:
        rt.close(clean=False)
        raise
    rt.close()
    if result.stopped_by == "limit" and rt.is_main:
        best = result.position.best_val_loss
        line = f"done: {result.position.step} steps in {result.position.train_seconds:.0f}s"
        if best is not None:
            line += f"; best val {best:.4f} nats = {bpc(best):.4f} bpc"
        if result.test_loss is not None:
            line += f"; test {bpc(result.test_loss):.4f} bpc"
        print(f"{line}; checkpoints: {out}/best.ckpt, {out}/latest.ckpt")
    return result


STOPS = {"epochs", "max_steps", "time_limit"}
SIZE_OPTIONS = {"hidden_size", "num_layers"}


def _configs(train_options: dict, model_options: dict, corpus, resumed, rt, quiet: bool):
    """(TrainConfig, ModelConfig): a resumed run's own, with options given now applied; else the
    defaults, the given options, and for `--time` without sizes a budget-aware model size."""
    if resumed is not None:
        saved = dict(resumed.meta.get("train_config") or {})
        if STOPS & set(train_options):  # a stopping rule given now replaces the saved one
            saved.update(dict.fromkeys(STOPS))
        return TrainConfig.from_dict({**saved, **train_options}), resumed.model_config
    if not STOPS & set(train_options):
        train_options["epochs"] = DEFAULT_EPOCHS
    train_cfg = TrainConfig(**train_options)
    model_cfg = _model_config(corpus.vocab.size, model_options)
    if train_cfg.time_limit and not SIZE_OPTIONS & set(model_options):
        model_cfg = _autosize(model_cfg, train_cfg, corpus, rt, quiet)
    return train_cfg, model_cfg


def _autosize(model_cfg: ModelConfig, train_cfg: TrainConfig, corpus, rt, quiet: bool):
    from dataclasses import replace

    from charrnn import autosize
    from charrnn.data import split

    probe = replace(model_cfg, num_layers=autosize.PROBE[0], hidden_size=autosize.PROBE[1])
    rate = autosize.probe_rate(
        probe, train_cfg.batch_size, train_cfg.seq_len, rt.autocast, device=rt.device
    )
    train_chars = len(split(corpus.ids, train_cfg.val_frac, train_cfg.test_frac)[0])
    choice = autosize.choose(model_cfg, train_chars, train_cfg.time_limit, rate, probe)
    if not quiet:
        err.print(
            f"model size: {choice.num_layers}x{choice.hidden_size} {model_cfg.model} "
            f"({choice.params / 1e6:.2f}M parameters), because {choice.reason}. "
            f"Give --hidden-size / --num-layers to choose yourself."
        )
    return replace(model_cfg, num_layers=choice.num_layers, hidden_size=choice.hidden_size)


def _model_config(vocab_size: int, options: dict) -> ModelConfig:
    try:
        return ModelConfig(vocab_size=vocab_size, **options)
    except ValueError as e:
        raise ConfigError(f"{e}; see charrnn train --help.") from None


def _resume_path(resume: Path) -> Path:
    p = Path(resume)
    if p.is_dir():
        if not (p / ckptfile.LATEST).is_file():
            raise CharRNNError(f"--resume {p}: no {ckptfile.LATEST} in this directory.")
        return p / ckptfile.LATEST
    return ckptfile.resolve(p)


def _check_same_model(ckpt, model_options: dict) -> None:
    saved = ckpt.model_config.to_dict()
    differ = {k: v for k, v in model_options.items() if saved.get(k) != v and k != "dropout"}
    if differ:
        k, v = next(iter(differ.items()))
        raise ConfigError(
            f"--resume: the checkpoint has {k}={saved[k]!r}, not {v!r}; drop "
            f"--{k.replace('_', '-')} or start a new run with another --out."
        )


def _check_out_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; give a directory for the run.")
    taken = [n for n in (ckptfile.LATEST, ckptfile.BEST) if (out / n).exists()]
    if taken and not overwrite:
        raise ConfigError(
            f"--out {out} already holds a run ({', '.join(taken)}); continue it with "
            f"--resume {out}, replace it with --overwrite, or pick another --out."
        )
    if overwrite:
        for name in (ckptfile.LATEST, ckptfile.BEST, "metrics.jsonl"):
            (out / name).unlink(missing_ok=True)


def load_corpus(
    file,
    *,
    unit="char",
    max_vocab=None,
    min_count=1,
    cache_dir=None,
    quiet=False,
    force_cache=False,
) -> data.Corpus:
    path = data.check_text_file(file)
    if max_vocab is not None and max_vocab < 2:
        raise ConfigError("--max-vocab must be at least 2.")
    if min_count < 1:
        raise ConfigError("--min-count must be at least 1.")
    big = path.stat().st_size > IN_MEMORY_LIMIT or force_cache
    cache = (cache_dir or default_cache_dir()) if big else None
    progress = None if quiet or not big else _ByteProgress()
    try:
        corpus = data.prepare(
            path,
            unit=unit,
            max_vocab=max_vocab,
            min_count=min_count,
            cache_dir=cache,
            progress=progress,
        )
    finally:
        if progress:
            progress.close()
    if len(corpus) < 2:
        raise DataError(f"{path}: too short to learn from ({len(corpus)} characters).")
    return corpus


class _ByteProgress:
    def __init__(self):
        from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

        self.bar = Progress(
            *Progress.get_default_columns(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err,
            transient=True,
        )
        self.bar.start()
        self.tasks = {}

    def __call__(self, phase, done, total):
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=done)

    def close(self):
        self.bar.stop()


def run_prepare(file, *, unit, max_vocab, min_count, cache_dir):
    corpus = load_corpus(
        file,
        unit=unit,
        max_vocab=max_vocab,
        min_count=min_count,
        cache_dir=cache_dir,
        force_cache=True,
    )
    print(
        f"{len(corpus)} tokens, vocabulary {corpus.vocab.size} ({corpus.vocab.unit}); "
        f"cached in {cache_dir or default_cache_dir()}"
    )


# --------------------------------------------------------------------------- eval
def run_eval(
    ckpt, file, *, seq_len: int, batch_size: int, device: str, fresh_windows: bool = False
) -> dict:
    from charrnn.checkpoint import load_model
    from charrnn.evaluate import fresh_window_loss_sum, loss_sum
    from charrnn.runtime import pick_device

    model, vocab, _ = load_model(ckpt, pick_device(device))
    ids = data.encode_file(file, vocab)
    if len(ids) < 2 or (fresh_windows and len(ids) <= seq_len):
        raise DataError(f"{file}: too short to score (need more than {seq_len} characters).")
    device_of = next(model.parameters()).device
    if fresh_windows:
        total, count = fresh_window_loss_sum(model, ids, seq_len, device=device_of)
    else:
        total, count = loss_sum(
            model, ids, seq_len=seq_len, batch_size=batch_size, device=device_of
        )
    return {
        "loss": total / count,
        "bpc": bpc(total / count),
        "chars": count,
        "mode": f"fresh {seq_len}-char windows" if fresh_windows else "carried state",
    }


def read_text(source, max_chars: int) -> tuple[str, str]:
    """(text, label) from a file path or literal text, cut to max_chars."""
    if isinstance(source, Path):
        path = data.check_text_file(source)
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(max_chars), str(path)
        except UnicodeDecodeError as e:
            raise DataError(f"{path}: not valid UTF-8 ({e.reason} near byte {e.start}).") from None
    return source[:max_chars], "--text"


def encode_for(vocab, text: str, label: str):
    unknown = vocab.unknown_chars(text)
    if unknown and not vocab.has_unk:
        shown = ", ".join(repr(c) for c in unknown[:10])
        raise DataError(
            f"{label}: {len(unknown)} character(s) the model never saw: {shown}; "
            f"remove them or inspect other text."
        )
    if not text:
        raise DataError(f"{label}: no text to inspect.")
    return vocab.encode(text)


# --------------------------------------------------------------------------- info
def describe_checkpoint(ckpt) -> dict:
    from charrnn import checkpoint
    from charrnn.gradflow import recurrent_singular_values

    c = checkpoint.read(ckpt)
    pos = c.meta.get("position", {})
    best = pos.get("best_val_loss")
    return {
        "path": str(c.path),
        "format_version": c.meta["format_version"],
        "model_config": c.model_config.to_dict(),
        "parameters": c.model_config.num_params(),
        "vocab_size": c.vocab.size,
        "vocab_unit": c.vocab.unit,
        "vocab": c.vocab.symbols,
        "step": pos.get("step"),
        "epoch": pos.get("epoch"),
        "tokens_seen": pos.get("tokens"),
        "train_seconds": pos.get("train_seconds"),
        "best_val_loss": best,
        "best_val_bpc": bpc(best) if best is not None else None,
        "train_config": c.meta.get("train_config"),
        "corpus": c.meta.get("corpus"),
        "resumable": "rng.torch" in checkpoint.read_header(c.path)[0],
        "recurrent_singular_values": recurrent_singular_values(checkpoint.build_model(c)),
    }


def print_summary(s: dict) -> None:
    from rich.table import Table

    m = s["model_config"]
    t = Table(show_header=False, box=None)
    t.add_row("checkpoint", s["path"] + ("" if s["resumable"] else "  (weights only)"))
    t.add_row(
        "model",
        f"{m['num_layers']}x{m['hidden_size']} {m['model']}, embed "
        f"{m['embed_size']}, dropout {m['dropout']}",
    )
    t.add_row("parameters", f"{s['parameters']:,} ({human_count(s['parameters'])})")
    t.add_row(
        "vocabulary",
        f"{s['vocab_size']} {s['vocab_unit']}s" + (f": {s['vocab'][:60]!r}" if s["vocab"] else ""),
    )
    if s["step"] is not None:
        t.add_row(
            "progress",
            f"step {s['step']}, epoch {s['epoch']}, "
            f"{human_count(s['tokens_seen'] or 0)} chars seen, "
            f"{s['train_seconds'] or 0:.0f}s of training",
        )
    if s["best_val_bpc"] is not None:
        t.add_row("best val", f"{s['best_val_loss']:.4f} nats/char = {s['best_val_bpc']:.4f} bpc")
    if s["train_config"]:
        tc = s["train_config"]
        t.add_row("training", ", ".join(f"{k}={v}" for k, v in tc.items() if v is not None))
    if s["corpus"]:
        t.add_row("corpus", f"{s['corpus']['path']} ({s['corpus']['chars']:,} chars)")
    for layer, sv in enumerate(s["recurrent_singular_values"]):
        gates = ", ".join(f"{k} {v:.3f}" for k, v in sv.items() if k != "W_hh")
        t.add_row(
            f"sigma_max layer {layer}",
            f"W_hh {sv['W_hh']:.3f}" + (f" (gate blocks: {gates})" if gates else ""),
        )
    out.print(t)


# --------------------------------------------------------------------------- corpora
def print_corpora() -> None:
    from rich.table import Table

    from charrnn import corpora

    t = Table("name", "kind", "size", "what")
    for r in corpora.recipes().values():
        t.add_row(r.name, "download", human_count(r.size) + "B", r.about)
    for name, about in corpora.BUILDERS.items():
        t.add_row(name, "build (offline)", "~2MB", about)
    out.print(t)


def run_corpus_get(name: str, dest_dir: Path, url: str | None) -> Path:
    from rich.progress import DownloadColumn, Progress, TransferSpeedColumn

    from charrnn import corpora

    rec = corpora.recipe(name)
    with Progress(
        *Progress.get_default_columns(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    ) as bar:
        task = bar.add_task(f"get {name}", total=None)
        path = corpora.get(
            rec,
            dest_dir,
            url=url,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    err.print(f"{name}: sha256 ok, {path.stat().st_size:,} bytes")
    return path


# --------------------------------------------------------------------------- bench
def run_bench(
    configs: list[str],
    *,
    batch_size,
    seq_len,
    seconds,
    bf16,
    reference,
    threads,
    as_json,
    device="cpu",
) -> None:
    import json

    from rich.table import Table

    from charrnn import bench

    setup_torch(threads)
    parsed = []
    for c in configs:
        try:
            layers, hidden = (int(x) for x in c.lower().split("x"))
            parsed.append(bench.BenchConfig(layers, hidden, batch_size, seq_len))
        except ValueError:
            raise ConfigError(f"--config {c!r}: write LAYERSxHIDDEN, e.g. 2x512.") from None
    if seconds <= 0:
        raise ConfigError("--seconds must be positive.")
    result = bench.run(
        parsed,
        seconds=seconds,
        reference=reference,
        precisions=("fp32", "bf16") if bf16 else ("fp32",),
        progress=lambda msg: err.print(f"[dim]bench: {msg}[/]"),
        device=_device_type(device),
    )
    if as_json:
        print(json.dumps(result, indent=1))
        return
    t = Table(
        title=f"training (fp32 matmul peak {result['matmul_peak_gflops']} GFLOP/s, "
        f"{result['threads']} threads)",
        title_justify="left",
    )
    for col in (
        "config",
        "charrnn chars/s",
        "GFLOP/s",
        "of peak",
        "bf16 chars/s",
        "plain loop chars/s",
        "charrnn / plain",
    ):
        t.add_column(col, justify="right")
    for r in result["train"]:
        t.add_row(
            r["config"],
            f"{r['charrnn_fp32_chars_per_s']:,}",
            f"{r['charrnn_fp32_gflops']}",
            f"{r['charrnn_fp32_peak_fraction']:.0%}",
            f"{r.get('charrnn_bf16_chars_per_s', 0):,}" if bf16 else "-",
            f"{r.get('reference_chars_per_s', 0):,}" if reference else "-",
            f"{r.get('ratio_vs_reference', 0):.2f}x" if reference else "-",
        )
    out.print(t)
    s = Table(title="sampling", title_justify="left")
    for col in ("model", "batch", "charrnn chars/s", "plain loop chars/s", "ratio"):
        s.add_column(col, justify="right")
    for r in result["sample"]:
        s.add_row(
            r["model"],
            str(r["batch"]),
            f"{r['charrnn_chars_per_s']:,}",
            f"{r['plain_chars_per_s']:,}",
            f"{r['ratio']:.1f}x",
        )
    out.print(s)
    out.print(f"peak RSS {result['peak_rss_mb']} MB")


def _device_type(device: str) -> str:
    from charrnn.runtime import pick_device

    return pick_device(device).type

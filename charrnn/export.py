"""`charrnn export RUN OUTDIR`: a trained model packaged for sharing, as model repositories on
the Hugging Face hub are: the weights (`model.safetensors`), the configuration and vocabulary
(`config.json`) and a model card (`README.md`) — what it is, what it was trained on, how well it
does, a sample, and how to load it.

Nothing in the package points to the machine it came from: no absolute path, no validation
text. `model.safetensors` is itself a weights-only charrnn checkpoint, so `charrnn sample OUTDIR`,
`charrnn.load(OUTDIR)` and `--init-from OUTDIR` read it like any other.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from charrnn import __version__
from charrnn.data.config import DataConfig
from charrnn.errors import CheckpointError, ConfigError, OutputError
from charrnn.fileio import atomic_write_bytes
from charrnn.files import checkpoint
from charrnn.files.format import EXPORT_WEIGHTS, read_header
from charrnn.inference.evaluate import bpc
from charrnn.model.config import ModelConfig
from charrnn.training.config import TrainConfig
from charrnn.training.history import (
    RunSummary,
    option_flags,
    session_changes,
    session_spans,
    summarize,
)

FORMAT = "charrnn-export"
FORMAT_VERSION = 1
SAMPLE_CHARS = 400


def export(run, out_dir: Path, seed: int = 0, overwrite: bool = False) -> Path:
    """Writes OUTDIR/{model.safetensors, config.json, README.md} from a run's best weights, into
    a new or empty directory or this model's own export (anything else only with
    `overwrite`)."""
    ckpt = checkpoint.read(run)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} is a file; give a directory to export into.")
    if not overwrite:
        _check_export_dir(out_dir, ckpt)
    out_dir.mkdir(parents=True, exist_ok=True)
    run = summarize(ckpt)
    meta = _shareable_meta(ckpt, run)
    weights = out_dir / EXPORT_WEIGHTS
    checkpoint.save(weights, checkpoint.build_model(ckpt), ckpt.vocab, meta)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "charrnn_version": __version__,
        "weights": EXPORT_WEIGHTS,
        "tensor_names": "model. + the state_dict names of charrnn.model.CharRNN",
        "model_config": ckpt.model_config.to_dict(),
        "vocab": ckpt.vocab.to_dict(),
    }
    _write(out_dir / "config.json", json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    _write(out_dir / "README.md", model_card(out_dir, ckpt, meta, run, seed))
    return out_dir


EXPORT_FILES = (EXPORT_WEIGHTS, "config.json", "README.md")


def _check_export_dir(out_dir: Path, ckpt) -> None:
    """Refuses a directory that holds anything but an export of these same weights."""
    if not out_dir.is_dir():
        return
    present = sorted(p.name for p in out_dir.iterdir() if not p.name.startswith("."))
    if not present:
        return
    is_export = _is_export_config(out_dir / "config.json") and (out_dir / EXPORT_WEIGHTS).is_file()
    foreign = [name for name in present if name not in EXPORT_FILES or not is_export]
    if foreign:
        shown = ", ".join(foreign[:4]) + (", …" if len(foreign) > 4 else "")
        raise OutputError(
            f"{out_dir} holds files an export did not write ({shown}); export into a new or "
            f"empty directory, or replace its export files with --overwrite."
        )
    if not _same_weights(out_dir / EXPORT_WEIGHTS, ckpt):
        raise OutputError(
            f"{out_dir} holds the export of another model; export into a new directory, or "
            f"replace it with --overwrite."
        )


def _is_export_config(path: Path) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return False


def _same_weights(weights: Path, ckpt) -> bool:
    """Whether the export's weights are `ckpt`'s (their CRC-32s, kept in both headers)."""
    try:
        crc = read_header(weights)[1].get("tensor_crc32") or {}
    except CheckpointError:
        return False
    mine = {k: v for k, v in (ckpt.meta.get("tensor_crc32") or {}).items()
            if k.startswith("model.")}  # fmt: skip
    return bool(mine) and crc == mine


def _shareable_meta(ckpt, run: RunSummary) -> dict:
    """The checkpoint's metadata without anything local (no paths, no validation text), with
    the summary of the whole run, so an export of an export still knows it."""
    pos = ckpt.meta.get("position", {})
    corpus = ckpt.meta.get("corpus") or {}
    keep = ("step", "epoch", "tokens", "train_seconds", "best_val_loss")
    return {
        "run": run.to_dict(),
        "train_config": ckpt.meta.get("train_config"),
        # runs saved before data_config was kept: the unit, from the vocabulary
        "data_config": ckpt.meta.get("data_config") or {"unit": ckpt.vocab.level},
        "position": {k: pos[k] for k in keep if k in pos},
        "corpus": {
            "name": Path(corpus.get("path") or corpus.get("name") or "text").name,
            "chars": corpus.get("chars"),
            "sha256": corpus.get("sha256"),
        },
        **({"init_from": ckpt.meta["init_from"]} if ckpt.meta.get("init_from") else {}),
    }


def training_commands(meta: dict, model_config, run: RunSummary, name: str) -> str:
    """The `charrnn train` commands that train this model again (the corpus by name, the run
    as `name`): the first session's every model size and the training and data options it did
    not leave at their defaults, then one `--resume` per later session with what it changed."""
    first = (run.sessions[0].get("train_config") if run.sessions else None) or meta.get(
        "train_config"
    )
    parts = [f"charrnn train {meta['corpus']['name']}"]
    saved = ((ModelConfig, asdict(model_config), True), (TrainConfig, first or {}, False),
             (DataConfig, meta.get("data_config") or {}, False))  # fmt: skip
    for cls, values, every in saved:
        parts += option_flags(cls, values, every)
    if meta.get("init_from"):
        parts.append(f"--init-from {meta['init_from']['name']}")
        if meta["init_from"].get("extend_vocab"):
            parts.append("--extend-vocab")
    if len(run.sessions) > 1:
        parts.append(f"--out {name}")
    commands = [" \\\n    ".join(parts)]
    spans = session_spans(run)
    for (start, end, seconds), changed in zip(spans[1:], session_changes(run), strict=True):
        resume = [f"charrnn train {meta['corpus']['name']} --resume {name}",
                  *option_flags(TrainConfig, changed, True)]  # fmt: skip
        commands.append(f"# then steps {start:,}-{end:,} ({seconds:.0f} s)\n" + " ".join(resume))
    if len(commands) > 1:
        first_end, first_seconds = spans[0][1], spans[0][2]
        commands[0] = f"# steps 0-{first_end:,} ({first_seconds:.0f} s)\n" + commands[0]
    return "\n\n".join(commands)


def _card_rows(ckpt, meta: dict, run: RunSummary) -> dict:
    """The model card's table: what the model is, what it read, how well it does."""
    c, corpus = ckpt.model_config, meta["corpus"]
    best, test = run.best_val_loss, run.test_loss
    sessions = len(run.sessions)
    return {
        "model": f"{c.num_layers}x{c.hidden_size} {c.cell.upper()}, embedding {c.embed_size}, "
        f"dropout {c.dropout:g}, {c.num_params():,} parameters",
        "vocabulary": f"{ckpt.vocab.size} {ckpt.vocab.level}s"
        + (" (with an unknown symbol)" if ckpt.vocab.has_unk else ""),
        "corpus": f"{corpus['name']}"
        + (f", {corpus['chars']:,} characters" if corpus.get("chars") else "")
        + (f" (sha256 {corpus['sha256'][:16]}…)" if corpus.get("sha256") else ""),
        "training": f"{run.steps:,} steps, {run.train_seconds:.0f} s, "
        f"{run.tokens:,} characters seen" + (f", in {sessions} sessions" if sessions > 1 else ""),
        "weights": f"the best validation's, at step {run.best_step:,}"
        if run.best_step is not None
        else f"step {meta['position'].get('step', 0):,}",
        "validation": f"{bpc(best):.3f} bits/char (best)" if best is not None else "-",
        "test": f"{bpc(test):.3f} bits/char" if test is not None else "-",
    }


def model_card(out_dir: Path, ckpt, meta: dict, run: RunSummary, seed: int) -> str:
    from charrnn.api import load

    c = ckpt.model_config
    table = "\n".join(f"| {k} | {v} |" for k, v in _card_rows(ckpt, meta, run).items())
    text = load(out_dir).sample(length=SAMPLE_CHARS, temperature=0.8, seed=seed)
    name = out_dir.resolve().name  # "." is the directory it names
    return f"""# {name}: a character-level {c.cell.upper()} language model

Trained with charrnn {__version__}. Validation and test figures are on contiguous held-out
stretches at the end of the corpus, scored with the state carried through the text.

| | |
|---|---|
{table}

## Trained with

```
{training_commands(meta, c, run, name)}
```

## A sample (temperature 0.8, seed {seed})

````
{text}
````

## Use it

```bash
charrnn sample {name} --temperature 0.8 --length 500 --prime "..."
charrnn train more.txt --init-from {name}      # fine-tune on other text
```

```python
import charrnn
m = charrnn.load("{name}")
print(m.sample(prime="...", length=500, temperature=0.8, seed=1))
print(m.loss("Some text."))   # nats and bits per character
```

Without charrnn: `{EXPORT_WEIGHTS}` is a safetensors file whose tensors are named
`model.` + the `state_dict` names of `Embedding({c.vocab_size}, {c.embed_size})` ->
`nn.{c.cell_spec.torch_module}({c.embed_size}, {c.hidden_size}, num_layers={c.num_layers},
batch_first=True)` -> `Linear({c.hidden_size}, {c.vocab_size})` (as `embed`, `rnn`, `head`);
`config.json` holds the sizes and the vocabulary (ids are positions in `vocab.symbols`).
"""


def _write(path: Path, text: str) -> None:
    atomic_write_bytes(
        path,
        text.encode("utf-8"),
        what="export file",
        error=OutputError,
        hint="Free disk space or export elsewhere.",
    )

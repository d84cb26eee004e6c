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
from charrnn.errors import ConfigError, OutputError
from charrnn.fileio import atomic_write_bytes
from charrnn.files import checkpoint
from charrnn.files.format import EXPORT_WEIGHTS
from charrnn.inference.evaluate import bpc
from charrnn.model.config import ModelConfig
from charrnn.options import declaration, declared_fields, flag_of
from charrnn.training.config import TrainConfig
from charrnn.training.events import Test, read_metrics

FORMAT = "charrnn-export"
FORMAT_VERSION = 1
SAMPLE_CHARS = 400


def export(run, out_dir: Path, seed: int = 0) -> Path:
    """Writes OUTDIR/{model.safetensors, config.json, README.md} from a run's best weights."""
    ckpt = checkpoint.read(run)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"{out_dir} is a file; give a directory to export into.")
    out_dir.mkdir(parents=True, exist_ok=True)
    meta = _shareable_meta(ckpt)
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
    test = _test_loss(ckpt)
    _write(out_dir / "README.md", model_card(out_dir, ckpt, meta, test, seed))
    return out_dir


def _shareable_meta(ckpt) -> dict:
    """The checkpoint's metadata without anything local: no paths, no validation text."""
    pos = ckpt.meta.get("position", {})
    corpus = ckpt.meta.get("corpus") or {}
    keep = ("step", "epoch", "tokens", "train_seconds", "best_val_loss")
    return {
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


def _test_loss(ckpt) -> float | None:
    records = [r for r in read_metrics(ckpt.path.parent) if r.get("kind") == Test.KIND]
    return records[-1]["test_loss"] if records else None


def training_command(meta: dict, model_config) -> str:
    """The `charrnn train` command that trains this model again (the corpus by name): every
    model size, and the training and data options the run did not leave at their defaults,
    spelled as each option's declaration says."""
    parts = [f"charrnn train {meta['corpus']['name']}"]
    saved = ((ModelConfig, asdict(model_config), True),
             (TrainConfig, meta.get("train_config") or {}, False),
             (DataConfig, meta.get("data_config") or {}, False))  # fmt: skip
    for cls, values, every in saved:
        for f in declared_fields(cls):
            spelled = flag_of(f).lstrip("-").replace("-", "_")  # data_config's "unit"
            value, declared = values.get(f.name, values.get(spelled)), declaration(f)
            if not declared.cli or value is None or (value == f.default and not every):
                continue
            shown = declared.show(value) if declared.show else value
            parts.append(flag_of(f) if value is True else f"{flag_of(f)} {shown}")
    if meta.get("init_from"):
        parts.append(f"--init-from {meta['init_from']['name']}")
    return " \\\n    ".join(parts)


def _card_rows(ckpt, meta: dict, test: float | None) -> dict:
    """The model card's table: what the model is, what it read, how well it does."""
    c, pos, corpus = ckpt.model_config, meta["position"], meta["corpus"]
    best = pos.get("best_val_loss")
    return {
        "model": f"{c.num_layers}x{c.hidden_size} {c.cell.upper()}, embedding {c.embed_size}, "
        f"dropout {c.dropout:g}, {c.num_params():,} parameters",
        "vocabulary": f"{ckpt.vocab.size} {ckpt.vocab.level}s"
        + (" (with an unknown symbol)" if ckpt.vocab.has_unk else ""),
        "corpus": f"{corpus['name']}"
        + (f", {corpus['chars']:,} characters" if corpus.get("chars") else "")
        + (f" (sha256 {corpus['sha256'][:16]}…)" if corpus.get("sha256") else ""),
        "training": f"{pos.get('step', 0):,} steps, {pos.get('train_seconds', 0):.0f} s, "
        f"{pos.get('tokens', 0):,} characters seen",
        "validation": f"{bpc(best):.3f} bits/char (best)" if best is not None else "-",
        "test": f"{bpc(test):.3f} bits/char" if test is not None else "-",
    }


def model_card(out_dir: Path, ckpt, meta: dict, test: float | None, seed: int) -> str:
    from charrnn.api import load

    c = ckpt.model_config
    table = "\n".join(f"| {k} | {v} |" for k, v in _card_rows(ckpt, meta, test).items())
    text = load(out_dir).sample(length=SAMPLE_CHARS, temperature=0.8, seed=seed)
    name = out_dir.name
    return f"""# {name}: a character-level {c.cell.upper()} language model

Trained with charrnn {__version__}. Validation and test figures are on contiguous held-out
stretches at the end of the corpus, scored with the state carried through the text.

| | |
|---|---|
{table}

## Trained with

```
{training_command(meta, c)}
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

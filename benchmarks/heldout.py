"""Scores charrnn's defaults on text that neither it nor its tuning saw, against the plain loop.

The protocol: the first 90% of a corpus is all either trainer gets (each holds out its own
validation from it); after the budget, the best checkpoint is scored on the last 10% with
`charrnn eval` (the state carried through the text), and the plain loop (ref_lstm.py, its own
defaults: 2x256, batch 32) scores the same last 10% the same way. One JSON line per run is
appended to --results; the ratio is charrnn's held-out loss over the plain loop's, same seed.

    python benchmarks/heldout.py data/tinyshakespeare.txt --seeds 1 2 3 --time 180 \\
        --results benchmarks/results/heldout_cpu.jsonl [--flags "--chunk-len 0"] [--no-reference]

One run at a time: the two trainers are compared at equal wall-clock budgets, so nothing else
should run on the machine meanwhile.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def split_corpus(path: Path, into: Path) -> tuple[Path, Path]:
    text = path.read_text(encoding="utf-8")
    cut = int(len(text) * 0.9)
    first, last = into / "first90.txt", into / "last10.txt"
    first.write_text(text[:cut], encoding="utf-8")
    last.write_text(text[cut:], encoding="utf-8")
    return first, last


def charrnn(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "charrnn", *args], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout


def run_charrnn(first: Path, last: Path, seed: int, seconds: float, flags: str, out: Path) -> dict:
    charrnn("train", str(first), "--time", f"{seconds}s", "--seed", str(seed), "--out", str(out),
            "--overwrite", "--quiet", *shlex.split(flags))  # fmt: skip
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    start = next(r for r in records if r["kind"] == "start")
    done = next(r for r in records if r["kind"] == "done")
    m, c = start["model_config"], start["config"]
    chars = done["step"] * c["batch_size"] * c["seq_len"]
    scored = json.loads(charrnn("eval", str(out), str(last), "--json"))
    return {
        "model": f"{m['num_layers']}x{m['hidden_size']} {m['model']}",
        "dropout": m["dropout"],
        "weight_decay": c["weight_decay"],
        "batch_size": c["batch_size"],
        "chunk_len": c.get("chunk_len", 0),
        "params": start["params"],
        "steps": done["step"],
        "epochs": round(chars / start["train_chars"], 2),
        "best_val": done["best_val_loss"],
        "heldout": scored["loss"],
    }


def run_reference(first: Path, last: Path, seed: int, seconds: float) -> dict:
    cmd = [sys.executable, str(HERE / "ref_lstm.py"), "--data", str(first),
           "--split", "0.95,0.05,0", "--eval-file", str(last),
           "--budget", str(seconds), "--seed", str(seed)]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    return {"model": "2x256 lstm (ref_lstm.py)", "params": result["params"],
            "steps": result["steps"], "epochs": result["epochs"], "best_val": result["val"],
            "heldout": result["eval_file"]}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("corpus", type=Path)
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--time", type=float, default=180.0, help="training seconds for each")
    p.add_argument("--flags", default="", help="extra `charrnn train` options")
    p.add_argument("--no-reference", action="store_true", help="charrnn only")
    p.add_argument("--results", type=Path, default=HERE / "results" / "heldout.jsonl")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        first, last = split_corpus(args.corpus, Path(tmp))
        for seed in args.seeds:
            row = {"corpus": args.corpus.name, "seed": seed, "seconds": args.time,
                   "flags": args.flags}  # fmt: skip
            ours = run_charrnn(first, last, seed, args.time, args.flags, Path(tmp) / f"s{seed}")
            row["charrnn"] = ours
            if not args.no_reference:
                ref = run_reference(first, last, seed, args.time)
                row["reference"] = ref
                row["ratio"] = round(ours["heldout"] / ref["heldout"], 4)
            print(json.dumps(row), flush=True)
            with args.results.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()

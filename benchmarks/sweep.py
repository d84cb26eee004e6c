"""Runs `charrnn train` once per configuration, one after another, and appends one JSON line per
run (flags, best val loss, steps, chars/s) to a results file. Used to pick the defaults.

    python benchmarks/sweep.py data/tinyshakespeare.txt --time 3m \\
        --results benchmarks/results/sweep.jsonl \\
        "base=--hidden-size 512" "bf16=--hidden-size 512 --precision bf16"
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path


def run(corpus: str, time: str, flags: str) -> dict:
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            sys.executable,
            "-m",
            "charrnn",
            "train",
            corpus,
            "--time",
            time,
            "--out",
            out,
            "--quiet",
            *shlex.split(flags),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            return {"error": proc.stderr.strip()[-500:]}
        records = [json.loads(x) for x in (Path(out) / "metrics.jsonl").read_text().splitlines()]
    vals = [r for r in records if r["kind"] == "val"]
    trains = [r for r in records if r["kind"] == "train"]
    start = next(r for r in records if r["kind"] == "start")
    chars = sum(r["chars_per_s"] for r in trains[1:]) / max(1, len(trains) - 1)
    return {
        "best_val": min(v["val_loss"] for v in vals),
        "final_val": vals[-1]["val_loss"],
        "steps": vals[-1]["step"],
        "train_seconds": vals[-1]["train_seconds"],
        "chars_per_s": round(chars),
        "params": start["params"],
        "curve": [(v["train_seconds"], round(v["val_loss"], 4)) for v in vals],
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("corpus")
    p.add_argument("configs", nargs="+", help="NAME=FLAGS")
    p.add_argument("--time", default="3m")
    p.add_argument("--results", default="benchmarks/results/sweep.jsonl")
    args = p.parse_args()
    Path(args.results).parent.mkdir(parents=True, exist_ok=True)
    for spec in args.configs:
        name, _, flags = spec.partition("=")
        result = {
            "name": name,
            "flags": flags,
            "time": args.time,
            **run(args.corpus, args.time, flags),
        }
        with open(args.results, "a") as f:
            f.write(json.dumps(result) + "\n")
        print(
            name,
            result.get("best_val"),
            result.get("chars_per_s"),
            result.get("error", ""),
            flush=True,
        )


if __name__ == "__main__":
    main()

"""Runs charrnn on every bad input we know of and writes docs/bad-inputs.md: the command, the
exit code and the one line the user sees. Each case must exit non-zero with one line on stderr
and no traceback.

    python benchmarks/bad_inputs.py           # rewrite docs/bad-inputs.md
    python benchmarks/bad_inputs.py --check   # exit 1 if the committed page is stale

tests/test_docs.py runs the check in CI; figures that depend on the machine (its memory) are
compared as digits-masked text.
"""

from __future__ import annotations

import pickle
import re
import subprocess
import sys
import tempfile
from pathlib import Path


def setup(tmp: Path) -> dict:
    text = "def f(a, b):\n    return (a + b) * 2  # sum\n" * 200
    (tmp / "corpus.txt").write_text(text)
    (tmp / "other.txt").write_text("Completely different alphabet: QZXJ! " * 300)
    (tmp / "empty.txt").write_text("")
    (tmp / "short.txt").write_text("tiny text")
    (tmp / "binary.bin").write_bytes(bytes(range(256)) * 64)
    (tmp / "latin1.txt").write_bytes("caf\xe9 ol\xe9 ".encode("latin-1") * 100)
    (tmp / "pickle.ckpt").write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    (tmp / "huge_header.ckpt").write_bytes((2**60).to_bytes(8, "little") + b"{}")
    (tmp / "a_file").write_text("x")
    (tmp / "unreadable.txt").write_text("x")
    (tmp / "myproj").mkdir()
    (tmp / "myproj" / "README.md").write_text("# my project\n")
    (tmp / "notes.html").write_text("<p>my notes</p>\n")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "charrnn",
            "train",
            str(tmp / "corpus.txt"),
            "--out",
            str(tmp / "run"),
            "--max-steps",
            "3",
            "--hidden-size",
            "16",
            "--batch-size",
            "4",
            "--seq-len",
            "16",
            "--quiet",
        ],
        check=True,
        capture_output=True,
    )
    damaged = bytearray((tmp / "run" / "best.ckpt").read_bytes())
    damaged[-10] ^= 0x04  # one bit flipped in the weights
    (tmp / "damaged.ckpt").write_bytes(bytes(damaged))
    return {"t": tmp}


CASES = [
    "train {t}/missing.txt",
    "train {t}",
    "train {t}/empty.txt",
    "train {t}/short.txt --batch-size 64",
    "train {t}/binary.bin",
    "train {t}/latin1.txt",
    "train {t}/corpus.txt --model transformer",
    "train {t}/corpus.txt --hidden-size 0",
    "train {t}/corpus.txt --hidden-size 1000000",
    "train {t}/corpus.txt --num-layers -1",
    "train {t}/corpus.txt --dropout 1.5",
    "train {t}/corpus.txt --lr 0",
    "train {t}/corpus.txt --lr nan",
    "train {t}/corpus.txt --epochs 0",
    "train {t}/corpus.txt --time soon",
    "train {t}/corpus.txt --val-frac 0.95",
    "train {t}/corpus.txt --min-count 1000000",
    "train {t}/corpus.txt --threads 0",
    "train {t}/corpus.txt --out {t}/a_file",
    "train {t}/corpus.txt --out {t}/run",
    "train {t}/other.txt --resume {t}/run",
    "train {t}/corpus.txt --resume {t}/run --hidden-size 64",
    "train {t}/corpus.txt --resume {t}/run/best.ckpt",
    "train {t}/corpus.txt --precision fp16",
    "train {t}/corpus.txt --device cuda",
    "sample {t}/missing.ckpt",
    "sample drafts/[/draft]/x.ckpt",
    "sample {t}/pickle.ckpt",
    "sample {t}/huge_header.ckpt",
    "sample {t}/corpus.txt",
    "sample {t}/damaged.ckpt",
    "sample {t}/run --temperature 0",
    "sample {t}/run --top-k 0",
    "sample {t}/run --prime €uro",
    "eval {t}/run {t}/other.txt --unknown error",
    "inspect {t}/run --text abc",
    "inspect {t}/run --text 'f(a)' --out x.txt",
    "inspect {t}/run --text 'f(a)' --find sentiment",
    "inspect {t}/run --text 'f(a)' --layer 3 --out x.npz",
    "inspect {t}/run --text 'f(a)' --match 9:2",
    "inspect {t}/run --text 'f(a)' --units 5-2 --find all",
    "sample {t}/run --temperature inf",
    "inspect {t}/run --text 'f(a)' --html {t}/notes.html",
    "export {t}/run {t}/myproj",
    "corpus synth quotes --length 500 -o {t}/short.txt",
    "corpus get nonsense",
    "corpus get tinyshakespeare --url http://127.0.0.1:9/input.txt -o {t}/d",
]


PAGE = Path(__file__).resolve().parent.parent / "docs" / "bad-inputs.md"
HEAD = """# Bad input: what the user sees

Bad input gets one line on stderr and a non-zero exit (2: the command line is wrong, 1: the work
failed; see [reliability](reliability.md#exit-codes)); nothing is overwritten. Every case below is
run by `python benchmarks/bad_inputs.py`, which writes this page (paths shortened to `…`); CI
fails when the page no longer matches what charrnn prints.

"""


def table() -> str:
    rows = ["| command | exit | what the user sees (stderr) |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as d:
        names = setup(Path(d))
        for case in CASES:
            args = [a.strip("'") for a in case.format(**names).split(" ")]
            proc = subprocess.run(
                [sys.executable, "-m", "charrnn", *args],
                capture_output=True,
                text=True,
                timeout=120,
            )
            lines = [x for x in proc.stderr.splitlines() if x.strip()]
            assert proc.returncode != 0 and len(lines) == 1 and "Traceback" not in proc.stderr, (
                case,
                proc.returncode,
                proc.stderr,
            )
            shown = lines[0].replace(d, "…").replace("|", "\\|")
            command = case.replace("{t}/", "").replace("{t}", ".")
            rows.append(f"| `charrnn {command}` | {proc.returncode} | {shown} |")
    return HEAD + "\n".join(rows) + "\n"


def machine_free(text: str) -> str:
    """The page without what depends on the machine: how much memory it has."""
    return re.sub(r"[\d.,]+ GiB", "N GiB", text)


def main(argv: list[str]) -> int:
    page = table()
    if "--check" in argv:
        committed = PAGE.read_text(encoding="utf-8") if PAGE.exists() else ""
        if machine_free(committed) != machine_free(page):
            print(f"stale: {PAGE}; run `python benchmarks/bad_inputs.py` and commit the result")
            return 1
        return 0
    PAGE.write_text(page, encoding="utf-8")
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

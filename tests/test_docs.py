"""The docs say what the code does: the generated pages (the CLI reference, the record table of
metrics.jsonl, the bad-input table) match what charrnn prints today, and every relative link in
the README and the docs points at a file, and at a heading when it names one."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    ROOT / "benchmarks" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)  # fmt: skip


def test_the_cli_reference_and_the_record_table_are_current():
    done = _run("docs/generate.py", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.slow
def test_the_bad_input_table_is_current():
    done = _run("benchmarks/bad_inputs.py", "--check")
    assert done.returncode == 0, done.stdout + done.stderr


def slug(heading: str) -> str:
    """A heading's anchor as GitHub and GitLab make it."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m[1]) for m in re.finditer(r"^#+\s+(.+)$", text, flags=re.M)}


def test_every_relative_link_resolves():
    broken = []
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in LINK.findall(text):
            if re.match(r"[a-z]+:", target):
                continue  # http(s) and the like: not checked offline
            path, _, anchor = target.partition("#")
            where = (page.parent / path).resolve() if path else page
            if not where.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and where.suffix == ".md" and anchor not in anchors(where):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert broken == []


def test_the_checker_catches_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Top\n[a](missing.md) [b](#top) [c](#nowhere)\n")
    assert "top" in anchors(page) and "nowhere" not in anchors(page)
    assert slug("`charrnn train`") == "charrnn-train" and slug("metrics.jsonl") == "metricsjsonl"


def test_the_readme_stays_short():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200

"""The architecture, checked from the imports (read with `ast`, nothing is imported):

- each package imports only its own layer and the layers below it (imports inside functions
  count too: a lazy import of a higher layer is still a dependency on it);
- the torch-free modules stay torch-free, and `charrnn --help` needs neither torch nor numpy:
  what a module imports at its top, and what those modules import at theirs, all the way down;
- only render/ talks to the terminal through rich.

The layers, lowest first, are written down once here and in docs/architecture.md.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

LAYERS = [
    {"charrnn.errors", "charrnn.options", "charrnn.fileio", "charrnn.runtime", "charrnn.words"},
    {"charrnn.model"},
    {"charrnn.data", "charrnn.corpora"},
    {"charrnn.files"},
    {"charrnn.inference"},
    {"charrnn.training"},
    {"charrnn.inspection"},
    {"charrnn.render"},
    {
        "charrnn",
        "charrnn.api",
        "charrnn.bench",
        "charrnn.export",
        "charrnn.cli",
        "charrnn.__main__",
    },  # fmt: skip
]
TORCH_FREE = [
    "charrnn",
    "charrnn.api",
    "charrnn.errors",
    "charrnn.options",
    "charrnn.fileio",
    "charrnn.model.cells",
    "charrnn.model.config",
    "charrnn.data.config",
    "charrnn.data.vocab",
    "charrnn.training.config",
    "charrnn.training.autosize",
    "charrnn.inference.sample",
    "charrnn.inference.fastsample",
    "charrnn.files.format",
]


def _source_files() -> dict[str, Path]:
    """{dotted module name: file} for charrnn/ and corpora/ (installed as charrnn.corpora)."""
    found = {}
    for path in (ROOT / "charrnn").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    for path in (ROOT / "corpora").glob("*.py"):
        leaf = path.stem
        found["charrnn.corpora" + ("" if leaf == "__init__" else f".{leaf}")] = path
    return found


MODULES = _source_files()
HELP_MODULES = sorted(m for m in MODULES if m.startswith("charrnn.cli"))  # `charrnn --help`


def _imports(name: str, top_level_only: bool) -> set[str]:
    """Modules `name` imports (absolute names; `from charrnn import x` counts as charrnn.x
    when x is a module)."""
    path = MODULES[name]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = list(_run_on_import(tree.body)) if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in MODULES}
    return found


def _run_on_import(body):
    """The statements that run when a module is imported: its top level, into `if`, `try` and
    `with` blocks, not into functions, nor into `if TYPE_CHECKING:` (for type checkers)."""
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            yield from _run_on_import(node.orelse)
        elif isinstance(node, (ast.If, ast.Try, ast.With)):
            yield from _run_on_import(node.body)
            yield from _run_on_import(getattr(node, "orelse", []))
            yield from _run_on_import(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                yield from _run_on_import(handler.body)
        else:
            yield node


def _layer_of(module: str) -> int | None:
    best = None
    for i, members in enumerate(LAYERS):
        for m in members:
            if (module == m or module.startswith(m + ".")) and (best is None or len(m) > best[1]):
                best = (i, len(m))
    return best[0] if best else None


def _closure(name: str) -> set[str]:
    """Everything importing `name` imports at module level, transitively (packages included:
    importing a.b.c runs a/__init__ and a/b/__init__ first)."""
    seen, todo = set(), [name]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        parts = current.split(".")
        parents = [".".join(parts[:i]) for i in range(1, len(parts))]
        for module in [*parents, current]:
            if module in MODULES and module not in seen | {current}:
                todo.append(module)
        if current in MODULES:
            todo += [m for m in _imports(current, top_level_only=True) if m not in seen]
    return seen


def test_every_module_has_a_layer():
    assert [m for m in MODULES if _layer_of(m) is None] == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_imports_a_higher_layer(module):
    mine = _layer_of(module)
    higher = sorted(
        m for m in _imports(module, top_level_only=False)
        # the root package (`from charrnn import __version__`) is initialised before any other
        if m.startswith("charrnn.") and (_layer_of(m) or 0) > mine
    )  # fmt: skip
    assert higher == [], f"{module} (layer {mine}) imports {higher}"


@pytest.mark.parametrize("module", TORCH_FREE)
def test_torch_free_modules_never_import_torch(module):
    heavy = sorted(m for m in _closure(module) if m.split(".")[0] == "torch")
    assert heavy == [], f"importing {module} imports {heavy}"


@pytest.mark.parametrize("module", HELP_MODULES)
def test_the_help_needs_neither_torch_nor_numpy(module):
    heavy = sorted(m for m in _closure(module) if m.split(".")[0] in ("torch", "numpy"))
    assert heavy == [], f"importing {module} imports {heavy}"


def test_only_render_imports_rich():
    users = sorted(
        m for m in MODULES
        if not m.startswith("charrnn.render")
        and any(i.split(".")[0] == "rich" for i in _imports(m, top_level_only=False))
    )  # fmt: skip
    assert users == []


def test_the_checker_sees_a_violation(tmp_path):
    """The checks above can fail: a module of a low layer importing a high one is caught."""
    MODULES["charrnn.model._probe_violation"] = tmp_path / "v.py"
    (tmp_path / "v.py").write_text("import torch\nfrom charrnn.render import terminal\n")
    try:
        assert "charrnn.render.terminal" in _imports("charrnn.model._probe_violation", False)
        assert _layer_of("charrnn.render.terminal") > _layer_of("charrnn.model._probe_violation")
        assert "torch" in _closure("charrnn.model._probe_violation")
    finally:
        del MODULES["charrnn.model._probe_violation"]


def test_every_help_page_runs_without_torch_or_numpy():
    """The same, run for real: every command's --help, in a fresh interpreter."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from charrnn.cli import app, main\n"
        "names = [c.name or c.callback.__name__ for c in app.registered_commands]\n"
        "for args in [[]] + [[n] for n in names] + [['corpus', 'get']]:\n"
        "    try:\n"
        "        main([*args, '--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print(sorted(m for m in ('torch', 'numpy') if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"

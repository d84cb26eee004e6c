"""What the commands print: the text tables of inspect (--find, --match, --saturation), bench,
prepare, and the budget-aware sizing that `make demo` relies on (`train --time` without sizes)."""

import json
import re

import pytest

from charrnn.inspection import actions, unitsearch


def test_find_table_lists_the_ranked_units_with_excerpts(cli, run_dir):
    run, corpus = run_dir
    code, out, err = cli("inspect", run, corpus, "--find", "quotes", "--top", "3")
    assert code == 0, err
    subject = actions.load(run, corpus)
    expected = actions.rank(subject, ["quotes"], 3)["quotes"]
    rows = [line for line in out.splitlines() if re.match(r"^│\s+\d+ │", line)]
    assert "units following: inside quotes" in out and "feature on for" in out
    assert len(rows) == 3
    for row, score in zip(rows, expected, strict=True):
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[:4] == [str(score.layer), str(score.unit), score.quantity, f"{score.r:+.3f}"]
        assert len(cells[5]) > 10  # the excerpt


def test_saturation_table_matches_the_statistics(cli, run_dir):
    run, corpus = run_dir
    code, out, err = cli("inspect", run, corpus, "--saturation")
    assert code == 0, err
    sat = actions.saturation(actions.load(run, corpus))
    assert set(sat) == {"i", "f", "o"}
    for gate, (left, right) in sat.items():
        row = next(line for line in out.splitlines() if re.match(rf"^│\s+0 │\s+{gate} │", line))
        assert f"{left[0].mean():.1%}" in row and f"{right[0].mean():.1%}" in row


def test_match_prints_the_units_and_places_the_library_finds(cli, run_dir):
    run, corpus = run_dir
    subject = actions.load(run, corpus, in_memory=True)
    h = subject.arrays["h"]
    start = next(  # a span over which some unit switches on
        s for s in range(0, 2000) if unitsearch.match_span(h, s, s + 3, threshold=0.1).units
    )
    found = unitsearch.match_span(h, start, start + 3, threshold=0.1)
    code, out, err = cli(
        "inspect", run, corpus, "--match", f"{start}:{start + 3}", "--threshold", "0.1"
    )
    assert code == 0, err
    names = ", ".join(f"L{layer}/{unit}" for layer, unit in found.units)
    assert out.splitlines()[0].endswith(f"{len(found.units)} unit(s) on: {names}")
    assert len(out.splitlines()) == 1 + max(1, len(found.matches))


def test_bench_table_and_json(cli):
    args = ("bench", "--config", "1x8", "--batch-size", "2", "--seq-len", "4", "--seconds", "0.3")
    code, out, err = cli(*args, "--json", "--no-bf16")
    assert code == 0, err
    result = json.loads(out)
    (row,) = result["train"]
    assert row["config"].startswith("1x8 lstm B2 T4") and row["charrnn_fp32_chars_per_s"] > 0
    assert row["ratio_vs_reference"] > 0 and {r["batch"] for r in result["sample"]} == {1, 32}
    code, out, err = cli(*args, "--no-reference", "--no-bf16")
    assert code == 0 and "training" in out and "sampling" in out and "peak RSS" in out


def test_prepare_caches_the_token_file(cli, text_file, tmp_path):
    cache = tmp_path / "cache"
    code, out, err = cli("prepare", text_file, "--cache-dir", cache)
    assert code == 0, err
    n = len(text_file.read_text(encoding="utf-8"))
    assert out.startswith(f"{n} tokens, vocabulary ") and str(cache) in out
    assert len(list(cache.glob("*.tokens"))) == 1 and len(list(cache.glob("*.json"))) == 1
    assert cli("prepare", text_file, "--cache-dir", cache)[1] == out  # served from the cache


def test_time_without_sizes_picks_a_model_and_says_why(cli, text_file, tmp_path):
    from charrnn.files import checkpoint
    from charrnn.render.numbers import count
    from charrnn.training import autosize

    code, out, err = cli("train", text_file, "--time", "2s", "--out", tmp_path / "run")
    assert code == 0, err
    said = re.search(r"autosize: (\d+)x(\d+) lstm \(([\d.]+[kM]) parameters\), batch 8", err)
    assert said, err
    cfg = checkpoint.read(tmp_path / "run").model_config
    assert said[3] == count(cfg.num_params())  # the one number formatter
    assert (cfg.num_layers, cfg.hidden_size) == (int(said[1]), int(said[2]))
    assert (cfg.num_layers, cfg.hidden_size) in autosize.LADDER
    assert "done:" in out


def _terminal(monkeypatch):
    """stderr as a terminal (captured), and progress bars shown at once."""
    import io

    from rich.console import Console

    from charrnn.render import terminal

    screen = io.StringIO()
    monkeypatch.setattr(terminal, "err", Console(file=screen, force_terminal=True, width=120))
    real = terminal.progress
    monkeypatch.setattr(terminal, "progress", lambda enabled=True, unit="chars", delay=2.0:
                        real(enabled, unit, 0.0))  # fmt: skip
    return screen


def test_long_commands_show_progress_on_a_terminal_only(cli, run_dir, monkeypatch):
    run, corpus = run_dir
    screen = _terminal(monkeypatch)
    for argv in (["eval", run, corpus], ["inspect", run, corpus, "--find", "quotes"],
                 ["report", run]):  # fmt: skip
        code, out, _ = cli(*argv)
        shown = screen.getvalue()
        assert code == 0 and re.search(r"\d+ / [\d,]+ chars", shown), (argv, shown)
        screen.truncate(0)
        screen.seek(0)
    code, out, _ = cli("eval", run, corpus, "--json")
    assert code == 0 and json.loads(out) and "chars/s" not in screen.getvalue()  # --json: quiet


def test_no_progress_in_a_pipe(cli, run_dir, monkeypatch):
    from charrnn.render import terminal

    run, corpus = run_dir
    with terminal.progress(delay=0.0) as bar:  # stderr captured: not a terminal
        assert bar is None
    code, _, err = cli("eval", run, corpus)
    assert code == 0 and "chars/s" not in err and err == ""


@pytest.mark.parametrize("width", [80, 60])
def test_a_narrow_terminal_keeps_the_bar_percentage_and_time_left(width):
    import io

    from rich.console import Console

    from charrnn.render.terminal import TrainView

    screen = io.StringIO()
    console = Console(file=screen, width=width, force_terminal=True, color_system=None)
    with TrainView(live=True, console=console) as view:
        view({"kind": "train", "step": 1200, "epoch": 3, "loss": 1.2345, "chars_per_s": 61234.0,
              "grad_norm": 0.51, "clip_frac": 0.02, "progress": 0.42, "lr": 1e-3})  # fmt: skip
        view.progress.refresh()
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue()).replace("\r", "\n")
    last = [x for x in lines.splitlines() if "train" in x][-1]
    assert "━" in last and "42%" in last and ("-:--:--" in last or ":" in last), last
    assert "step 1200" in last and len(last) <= width, last

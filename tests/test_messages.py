"""The small things a user reads: refusals that name what they were given, the API spelled as
the API, counts in English, usage lines as Unix tools write them."""

import pytest

import charrnn
from charrnn.errors import ConfigError


def _one_line(code, err, expect):
    lines = [x for x in err.strip().splitlines() if x.strip()]
    return code == expect and len(lines) == 1 and "Traceback" not in err


def test_a_backwards_unit_range_is_refused(cli, run_dir):
    run, _ = run_dir
    code, _, err = cli("inspect", run, "--text", "hello world", "--units", "5-2", "--find", "all")
    assert _one_line(code, err, 2) and "5-2" in err and "2-5" in err, err


@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_non_finite_temperature_says_so(cli, run_dir, value):
    run, _ = run_dir
    code, _, err = cli("sample", run, "--temperature", value, "-n", "5")
    assert _one_line(code, err, 2) and "finite" in err and "> 0" not in err, err


def test_a_zero_time_names_the_option_given(cli, run_dir, tmp_path):
    _, corpus = run_dir
    code, _, err = cli("train", corpus, "--time", "0s", "--out", tmp_path / "r")
    assert _one_line(code, err, 2) and "--time 0s" in err and "time-limit" not in err, err


def test_api_errors_speak_python(run_dir):
    run, corpus = run_dir
    model = charrnn.load(run)
    with pytest.raises(ConfigError) as e:
        model.sample(temperature=0)
    assert "argmax=True" in str(e.value) and "--" not in str(e.value)
    with pytest.raises(ConfigError) as e:
        model.sample(top_k=0)
    assert "top_k=0" in str(e.value) and "--" not in str(e.value)
    with pytest.raises(ConfigError) as e:
        charrnn.train(corpus, hiden_size=32)
    message = str(e.value)
    assert "did you mean hidden_size?" in message
    listed = message.split("options: ")[1].rstrip(".").split(", ")
    assert "time" in listed and "time_limit" not in listed and len(listed) == len(set(listed))


def test_counts_read_as_english(cli, run_dir, tmp_path):
    run, _ = run_dir
    two = tmp_path / "two.txt"
    two.write_text("ab", encoding="utf-8")
    code, out, err = cli("eval", run, two)
    assert code == 0 and "over 1 character," in out, out
    one = tmp_path / "one.txt"
    one.write_text("a", encoding="utf-8")
    code, _, err = cli("eval", run, one)
    assert "1 character " in err and "1 characters" not in err, err


@pytest.mark.parametrize(
    "command,usage",
    [
        (["inspect"], "Usage: charrnn inspect [OPTIONS] CKPT [FILE]"),
        (["train"], "Usage: charrnn train [OPTIONS] FILE"),
        (["corpus", "get"], "Usage: charrnn corpus get [OPTIONS] NAME"),
    ],
)
def test_usage_lines_name_the_arguments(cli, command, usage):
    code, out, _ = cli(*command, "--help")
    first = out.splitlines()[0]  # in-process the program is named after the test runner
    assert code == 0 and first.endswith(usage.split("charrnn", 1)[1]), first


def test_a_page_of_a_cut_text_says_so(cli, run_dir, tmp_path):
    run, corpus = run_dir
    total = len(corpus.read_text(encoding="utf-8"))
    page = tmp_path / "p.html"
    code, _, err = cli("inspect", run, corpus, "--html", page, "--max-chars", "500")
    assert code == 0 and f"the first 500 of {total:,} characters" in err, err
    assert f"the first 500 of {total:,} characters of" in page.read_text(encoding="utf-8")
    whole = tmp_path / "whole.html"
    code, _, err = cli("inspect", run, corpus, "--html", whole, "--max-chars", str(total))
    assert code == 0 and "the first" not in err
    assert f"{total:,} characters of" in whole.read_text(encoding="utf-8")
    code, _, err = cli("eval", run, corpus, "--html", tmp_path / "e.html", "--max-chars", "500")
    assert code == 0 and f"the first 500 of {total:,} characters shown" in err, err


def test_a_carriage_return_is_a_mark_not_a_line_break():
    import numpy as np

    from charrnn.render import html, report, tables

    excerpt = report._colored_excerpt("ab\r\ncd", np.zeros(6))
    assert "\r" not in excerpt and excerpt.count("\n") == 1 and "␍" in excerpt
    terminal_text = tables.colored_excerpt("ab\r\ncd", np.zeros(6), html.diverging_rgb).plain
    assert terminal_text == "ab␍↵cd"


def test_a_feature_absent_from_the_text_is_said_so_not_an_empty_table(cli, run_dir, tmp_path):
    run, _ = run_dir
    page = tmp_path / "p.html"
    code, _, _ = cli("inspect", run, "--text", "alpha beta gamma delta " * 20, "--html", page)
    body = page.read_text(encoding="utf-8")
    assert code == 0 and "Not ranked: this feature never changes" in body
    tables = body.split("<table class='rank'>")[1:]
    assert all("<td>" in t.split("</table>")[0] for t in tables)


def test_the_api_takes_paths_as_text(run_dir, tmp_path):
    _, corpus = run_dir
    out = tmp_path / "api-run"
    charrnn.train(str(corpus), out=str(out), max_steps=3, hidden_size=8, embed_size=4,
                  batch_size=2, seq_len=8)  # fmt: skip
    assert (out / "best.ckpt").is_file()

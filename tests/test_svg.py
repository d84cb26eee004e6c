"""The charts read right: axes fit what they show, ticks in human units, flat series visible."""

import re

from charrnn.render import svg


def _ticks(chart: str, axis: str) -> list[str]:
    return re.findall(rf"class='{axis}tick'[^>]*>([^<]*)<", chart)


def _points(chart: str) -> list[tuple[float, float]]:
    points = re.search(r"points='([^']*)'", chart).group(1)
    return [tuple(map(float, p.split(","))) for p in points.split()]


def _frame(chart: str) -> tuple[float, float]:
    m = re.search(r"<rect x='(\d+)' y='(\d+)' width='(\d+)' height='(\d+)'", chart)
    top, height = float(m.group(2)), float(m.group(4))
    return top, top + height


def test_a_fraction_axis_is_zero_to_one_and_a_flat_zero_stays_visible():
    chart = svg.line_chart({"clipped": [(s, 0.0) for s in range(0, 12001, 100)]},
                           y_range=(0, 1), x_label="step", y_label="fraction of steps")  # fmt: skip
    assert _ticks(chart, "y") == ["0", "0.2", "0.4", "0.6", "0.8", "1"]
    top, bottom = _frame(chart)
    ys = {y for _, y in _points(chart)}
    assert len(ys) == 1 and top < ys.pop() < bottom  # drawn inside the frame, not on it
    assert "-0.5" not in chart


def test_step_ticks_in_human_units():
    chart = svg.line_chart({"loss": [(s, 2.0 - s / 20000) for s in range(0, 12001, 500)]})
    assert _ticks(chart, "x") == ["0", "2.5k", "5k", "7.5k", "10k", "12.5k"]
    assert not any("e+" in t for t in _ticks(chart, "x") + _ticks(chart, "y"))
    big = svg.line_chart({"x": [(0, 1.0), (3_000_000, 2.0)]})
    assert "3M" in _ticks(big, "x")


def test_log_axis_ticks_and_a_loss_axis_from_a_sensible_floor():
    chart = svg.line_chart({"norm": [(k, 10.0**-k) for k in range(6)]}, log_y=True)
    assert _ticks(chart, "y") == ["1e-5", "1e-4", "1e-3", "0.01", "0.1", "1"]
    loss = svg.line_chart({"val": [(s, 4.2 - s / 1000) for s in range(0, 3001, 100)]},
                          y_floor=0.0)  # fmt: skip
    ticks = [float(t) for t in _ticks(loss, "y")]
    assert 0.5 <= ticks[0] <= 1.2 and ticks[-1] >= 4.2  # around the data, not from 0 or below
    flat = svg.line_chart({"val": [(s, 1.5) for s in range(10)]})
    top, bottom = _frame(flat)
    assert all(top < y < bottom for _, y in _points(flat))


def test_legends_name_their_units(cli, run_dir, tmp_path):
    run, _ = run_dir
    code, _, err = cli("report", run, "-o", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert code == 0, err
    assert "train (bits/char)" in page and "val (bits/char)" in page
    assert "bits per character" in page and "fraction of steps" in page
    clip = page[page.index("<text x='60' y='15' font-size='12' font-weight='bold'>clipping") :]
    assert _ticks(clip.split("</svg>")[0], "y")[0] == "0"
    head = page[: page.index("<h2>Curves</h2>")]
    assert "best validation" in head and "bits/char" in head and "chars/s" in head
    assert "A sample" in head  # the story comes before the curves

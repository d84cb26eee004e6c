from charrnn import autosize
from charrnn.modelconfig import ModelConfig

BASE = ModelConfig(vocab_size=65)
PROBE = ModelConfig(vocab_size=65, num_layers=1, hidden_size=512)


def _choose(train_chars, seconds, rate=30_000):
    return autosize.choose(BASE, train_chars, seconds, rate, PROBE)


def test_three_minutes_on_a_megabyte_picks_the_measured_best():
    c = _choose(1_000_000, 180)  # benchmarks: 1x512 won at 3 minutes on tinyshakespeare
    assert (c.num_layers, c.hidden_size) == (1, 512)
    assert c.budget_chars >= autosize.CHARS_PER_PARAM * c.params
    assert "per parameter" in c.reason


def test_more_time_or_text_gives_bigger_models_and_less_gives_smaller():
    small = _choose(1_000_000, 30)
    mid = _choose(1_000_000, 600)
    big = _choose(100_000_000, 3600)
    assert small.params < mid.params < big.params
    assert mid.params <= autosize.PARAMS_PER_CHAR * 1_000_000  # the corpus caps the size
    tiny = _choose(1_000, 5)
    assert (tiny.num_layers, tiny.hidden_size) == autosize.LADDER[0]

import pytest
import torch

from charrnn.data.vocab import Vocab
from charrnn.errors import ConfigError
from charrnn.inference.sample import SampleConfig, generate
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN


@pytest.fixture
def model_and_vocab():
    torch.manual_seed(0)
    vocab = Vocab.from_counts({"a": 5, "b": 5, "c": 5, "\n": 5, "z": 1}, min_count=2)
    model = CharRNN(ModelConfig(vocab_size=vocab.size, embed_size=4, hidden_size=8)).eval()
    return model, vocab


def _text(model, vocab, **kw):
    steps = list(generate(model, vocab, SampleConfig(**kw)))
    return ["".join(vocab.decode([s[b]]) for s in steps) for b in range(len(steps[0]))]


def test_length_alphabet_and_no_unknown(model_and_vocab):
    model, vocab = model_and_vocab
    with torch.no_grad():
        model.head.bias[vocab.unk_id] = 100.0  # the model loves the unknown symbol
    (text,) = _text(model, vocab, length=200, seed=1, temperature=1.0)
    assert len(text) == 200 and set(text) <= set("abc\n")


def test_seed_reproducible_and_samples_differ(model_and_vocab):
    model, vocab = model_and_vocab
    a = _text(model, vocab, length=50, seed=7, num_samples=3, temperature=1.5)
    b = _text(model, vocab, length=50, seed=7, num_samples=3, temperature=1.5)
    assert a == b and len(set(a)) > 1


def test_top_k_one_is_argmax(model_and_vocab):
    model, vocab = model_and_vocab
    greedy = _text(model, vocab, length=30, argmax=True, prime="ab")
    top1 = _text(model, vocab, length=30, top_k=1, seed=3, prime="ab")
    assert greedy == top1


def test_prime_with_unseen_characters_is_named(model_and_vocab):
    model, vocab = model_and_vocab
    with pytest.raises(ConfigError, match="'q'"):
        list(generate(model, vocab, SampleConfig(prime="abq", length=3)))


@pytest.mark.parametrize(
    "bad", [dict(temperature=0), dict(length=-1), dict(top_k=0), dict(num_samples=0)]
)
def test_bad_options(bad):
    with pytest.raises(ConfigError):
        SampleConfig(**bad)


def test_greedy_output_is_the_same_on_both_paths(model_and_vocab):
    from charrnn.inference.sample import generate_torch

    model, vocab = model_and_vocab
    cfg = SampleConfig(length=60, argmax=True, prime="abc\n")
    assert list(generate(model, vocab, cfg)) == list(generate_torch(model, vocab, cfg))


def test_stop_at_cuts_at_the_first_occurrence_across_pieces():
    from charrnn.inference.sample import StopAt

    s = StopAt("END")
    out = "".join(s.feed(p) for p in ["ab", "cE", "N", "Dxx", "END"]) + s.flush()
    assert out == "abc" and s.done
    s = StopAt("END")
    assert "".join(s.feed(p) for p in ["abE", "NxEN"]) + s.flush() == "abENxEN"


def test_cli_stop_seed_and_prime_from_stdin(cli, run_dir, monkeypatch):
    import io

    run, _ = run_dir
    code, full, _ = cli("sample", run, "--argmax", "-n", "80", "--prime", "print(")
    generated = full[len("print(") : -1]
    stop = generated[20:23]
    code, out, err = cli("sample", run, "--argmax", "-n", "80", "--prime", "print(", "--stop", stop)
    assert code == 0 and out == "print(" + generated[: generated.index(stop)] + "\n"
    code, out, err = cli("sample", run, "-n", "30")
    seed = int(err.split("seed: ")[1].split()[0])  # a fresh seed is shown ...
    assert cli("sample", run, "-n", "30", "--seed", seed)[1] == out  # ... and repeats it
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"return(")))
    code, out, err = cli("sample", run, "-n", "5", "--prime-file", "-", "--seed", "1")
    assert code == 0 and out.startswith("return(") and len(out) == len("return(") + 6

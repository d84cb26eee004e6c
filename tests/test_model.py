import pytest
import torch
import torch.nn.functional as F

from charrnn.model.cells import CELLS
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN, detach_state

KINDS = list(CELLS)


@pytest.mark.parametrize("kind", KINDS)
def test_shapes_and_parameter_count(kind):
    cfg = ModelConfig(vocab_size=6, cell=kind, embed_size=4, hidden_size=5, num_layers=2)
    model = CharRNN(cfg)
    logits, state = model(torch.randint(0, 6, (2, 3)))
    assert logits.shape == (2, 3, 6)
    assert len(state) == len(cfg.state_names) and state[0].shape == (2, 2, 5)
    assert cfg.num_params() == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_carried_state_equals_one_long_window(kind):
    """Truncated BPTT only cuts gradients: the forward values of two windows with the state
    carried are those of one long window."""
    torch.manual_seed(0)
    model = CharRNN(
        ModelConfig(vocab_size=7, cell=kind, embed_size=4, hidden_size=8, num_layers=2)
    ).eval()
    ids = torch.randint(0, 7, (3, 10))
    whole, _ = model(ids)
    first, state = model(ids[:, :6])
    second, _ = model(ids[:, 6:], detach_state(state))
    torch.testing.assert_close(torch.cat([first, second], 1), whole, atol=1e-6, rtol=1e-5)
    # and no state means zero state
    zeros = tuple(torch.zeros(2, 3, 8) for _ in model.config.state_names)
    torch.testing.assert_close(model(ids, zeros)[0], whole)


@pytest.mark.parametrize("kind", KINDS)
def test_each_cell_overfits_a_repeated_string(kind):
    torch.manual_seed(0)
    text = "hello world! " * 4
    chars = sorted(set(text))
    ids = torch.tensor([[chars.index(c) for c in text]])
    model = CharRNN(ModelConfig(vocab_size=len(chars), cell=kind, embed_size=8, hidden_size=32))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        logits, _ = model(ids[:, :-1])
        loss = F.cross_entropy(logits.flatten(0, 1), ids[:, 1:].flatten())
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 < first


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="--model"):
        ModelConfig(vocab_size=5, cell="transformer")
    with pytest.raises(ValueError, match="--hidden-size"):
        ModelConfig(vocab_size=5, hidden_size=0)
    with pytest.raises(ValueError, match="--dropout"):
        ModelConfig(vocab_size=5, dropout=1.0)
    cfg = ModelConfig(vocab_size=5, cell="gru", num_layers=3)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg

import numpy as np
import pytest
import torch

from charrnn import activations
from charrnn.model import CharRNN, ModelConfig


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_manual_step_matches_fused_modules(kind):
    torch.manual_seed(0)
    model = CharRNN(
        ModelConfig(vocab_size=9, model=kind, embed_size=5, hidden_size=12, num_layers=2)
    ).eval()
    ids = np.random.default_rng(0).integers(0, 9, 57)
    arrays, probs = activations.collect(model, ids, chunk_len=20)  # chunks carry the state
    with torch.no_grad():
        x = model.embed(torch.as_tensor(ids)[None])
        out, state = model.rnn(x)
        logits, _ = model(torch.as_tensor(ids)[None])
    assert set(arrays) == set(activations.QUANTITIES[kind])
    assert arrays["h"].shape == (2, 57, 12)
    np.testing.assert_allclose(arrays["h"][1], out[0].numpy(), atol=1e-5)
    final_h = state[0] if kind == "lstm" else state
    np.testing.assert_allclose(arrays["h"][:, -1], final_h[:, 0].numpy(), atol=1e-5)
    if kind == "lstm":
        np.testing.assert_allclose(arrays["c"][:, -1], state[1][:, 0].numpy(), atol=1e-5)
        for gate in "ifo":
            assert (arrays[gate] >= 0).all() and (arrays[gate] <= 1).all()
    np.testing.assert_allclose(probs, torch.softmax(logits[0], -1).numpy(), atol=1e-5)


def test_select_layers_and_units():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=4, embed_size=3, hidden_size=6, num_layers=3))
    ids = np.array([0, 1, 2, 3, 2])
    full, _ = activations.collect(model, ids)
    part, _ = activations.collect(model, ids, layers=[2], units=[1, 4])
    assert part["c"].shape == (1, 5, 2)
    np.testing.assert_array_equal(part["c"][0], full["c"][2][:, [1, 4]])

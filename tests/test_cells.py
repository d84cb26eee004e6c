"""Every cell kind in the registry, checked against its torch module: the explicit step that
`inspect` runs, and the numpy step that CPU sampling runs, give the fused module's numbers."""

import numpy as np
import pytest
import torch

from charrnn.inference.fastsample import NumpyRNN
from charrnn.inspection import activations
from charrnn.model import cells
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN

KINDS = list(cells.CELLS)
N, T, E, H, V, L = 2, 9, 4, 6, 7, 2  # batch, steps, embedding, hidden, vocabulary, layers


def _model(kind: str) -> CharRNN:
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=V, cell=kind, embed_size=E, hidden_size=H, num_layers=L)
    return CharRNN(cfg).eval()


@pytest.mark.parametrize("kind", KINDS)
def test_spec_is_complete(kind):
    cell = cells.CELLS[kind]
    assert cell.state_names[0] == "h"
    assert len(set(cell.quantity_names)) == len(cell.quantity_names)
    assert all(q.scale in (cells.BOUNDED, cells.GATE, cells.UNBOUNDED) for q in cell.quantities)
    model = _model(kind)
    assert model.config.num_params() == sum(p.numel() for p in model.parameters())
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == (
        model.config.weight_shapes()
    )


@pytest.mark.parametrize("kind", KINDS)
def test_explicit_torch_step_matches_the_torch_module(kind):
    model = _model(kind)
    ids = np.random.default_rng(0).integers(0, V, 57)
    arrays, probs = activations.collect(model, ids, chunk_len=20)  # chunks carry the state
    with torch.no_grad():
        out, state = model.rnn(model.embed(torch.as_tensor(ids)[None]))
        logits, final = model(torch.as_tensor(ids)[None])
    assert set(arrays) == set(model.config.cell_spec.quantity_names)
    assert arrays["h"].shape == (L, 57, H)
    np.testing.assert_allclose(arrays["h"][-1], out[0].numpy(), atol=1e-5)
    for name, s in zip(model.config.state_names, final, strict=True):
        np.testing.assert_allclose(arrays[name][:, -1], s[:, 0].numpy(), atol=1e-5)
    for gate in model.config.cell_spec.saturating_gates:
        assert (arrays[gate] >= 0).all() and (arrays[gate] <= 1).all()
    np.testing.assert_allclose(probs, torch.softmax(logits[0], -1).numpy(), atol=1e-5)


@pytest.mark.parametrize("kind", KINDS)
def test_numpy_step_matches_the_torch_step(kind):
    model = _model(kind)
    ids = np.random.default_rng(1).integers(0, V, (N, T))
    with torch.no_grad():
        expected, final = model(torch.from_numpy(ids))  # (N, T, V)
    fast = NumpyRNN.from_torch(model)
    fast.reset(N)
    for t in range(T):
        np.testing.assert_allclose(fast.step(ids[:, t]), expected[:, t].numpy(), atol=1e-5)
    for layer in range(L):
        for mine, theirs in zip(fast.state[layer], final, strict=True):
            np.testing.assert_allclose(mine, theirs[layer].numpy(), atol=1e-5)

"""Gradient flow: the measured per-step factor matches theory, and the LSTM keeps gradients
alive where a vanilla RNN loses them."""

import numpy as np
import pytest
import torch

from charrnn.inspection.gradflow import gradient_flow, recurrent_singular_values
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN

IDS = np.random.default_rng(0).integers(0, 5, 400)


def linear_rnn(rho: float, hidden: int = 16) -> CharRNN:
    """W_hh = rho * I and tiny inputs: tanh stays in its linear regime, so each step back
    multiplies the gradient by rho."""
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=5, cell="rnn", embed_size=4, hidden_size=hidden))
    with torch.no_grad():
        model.rnn.weight_hh_l0.copy_(rho * torch.eye(hidden))
        model.rnn.weight_ih_l0.mul_(1e-4)
        model.rnn.bias_ih_l0.zero_()
        model.rnn.bias_hh_l0.zero_()
    return model


@pytest.mark.parametrize("rho", [0.5, 1.5])
def test_vanilla_rnn_gradient_scales_by_rho_per_step(rho):
    flow = gradient_flow(linear_rnn(rho), IDS, horizon=10, windows=8, warmup=0)
    ratios = flow.h[0, 1:] / flow.h[0, :-1]
    np.testing.assert_allclose(ratios, rho, rtol=0.02)
    assert flow.per_step_ratio() == pytest.approx(rho, rel=0.02)
    assert recurrent_singular_values(linear_rnn(rho))[0]["W_hh"] == pytest.approx(rho)


def test_lstm_with_open_forget_gate_keeps_gradients_alive():
    torch.manual_seed(0)
    hidden = 16
    lstm = CharRNN(ModelConfig(vocab_size=5, cell="lstm", embed_size=4, hidden_size=hidden))
    with torch.no_grad():
        lstm.rnn.bias_ih_l0[hidden : 2 * hidden] = 10.0  # forget gate ~ 1: the cell carries on
    lstm_flow = gradient_flow(lstm, IDS, horizon=50, windows=8, warmup=0)
    rnn_flow = gradient_flow(linear_rnn(0.5), IDS, horizon=50, windows=8, warmup=0)
    assert lstm_flow.h[0, 50] > 1e6 * rnn_flow.h[0, 50]
    assert lstm_flow.norms["c"][0, 50] > 0.5 * lstm_flow.norms["c"][0, 1]  # the cell-state highway


def test_singular_values_per_gate_block():
    torch.manual_seed(0)
    model = CharRNN(
        ModelConfig(vocab_size=5, cell="gru", embed_size=4, hidden_size=6, num_layers=2)
    )
    sv = recurrent_singular_values(model)
    assert len(sv) == 2 and set(sv[0]) == {"W_hh", "r", "z", "n"}
    w = model.rnn.weight_hh_l1.detach()
    assert sv[1]["z"] == pytest.approx(float(torch.linalg.svdvals(w[6:12])[0]), rel=1e-5)
    assert sv[1]["W_hh"] >= max(sv[1]["r"], sv[1]["z"], sv[1]["n"]) - 1e-6

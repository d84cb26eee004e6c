import numpy as np
import torch

from charrnn.inspection import activations
from charrnn.model.config import ModelConfig
from charrnn.model.network import CharRNN


def test_select_layers_and_units():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=4, embed_size=3, hidden_size=6, num_layers=3))
    ids = np.array([0, 1, 2, 3, 2])
    full, _ = activations.collect(model, ids)
    part, _ = activations.collect(model, ids, layers=[2], units=[1, 4])
    assert part["c"].shape == (1, 5, 2)
    np.testing.assert_array_equal(part["c"][0], full["c"][2][:, [1, 4]])

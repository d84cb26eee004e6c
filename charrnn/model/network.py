"""`CharRNN`: Embedding -> recurrent stack (LSTM / GRU / RNN, from cells.py) -> dropout -> Linear.

The model is explicit about recurrent state: `forward(ids, state) -> (logits, state)`, where the
state is always a tuple of (num_layers, B, H) tensors, one per state of the cell kind: (h, c) for
an LSTM, (h,) for a GRU or a vanilla RNN. Training carries it across windows (detached); sampling
carries it across steps. Parameter names are the torch modules' own (`rnn.weight_hh_l0`, ...);
`layer_weights` reads them for the explicit step of inspection (inspection/activations.py).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from charrnn.model.config import ModelConfig

State = tuple[torch.Tensor, ...]


class CharRNN(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        cell = config.cell_spec
        self.embed = nn.Embedding(config.vocab_size, config.embed_size)
        self.rnn = getattr(nn, cell.torch_module)(
            config.embed_size,
            config.hidden_size,
            config.num_layers,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
            **cell.module_options,
        )
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, ids: torch.Tensor, state: State | None = None):
        x = self.embed(ids)  # (B, T, E)
        single = len(self.config.state_names) == 1  # nn.GRU / nn.RNN take h itself, not (h,)
        if state is not None and single:
            state = state[0]
        out, state = self.rnn(x, state)  # out: (B, T, H)
        logits = self.head(self.drop(out))  # (B, T, V)
        return logits, ((state,) if single else tuple(state))


def init_output_bias(model: CharRNN, counts: np.ndarray) -> None:
    """Start the output layer's bias at the log of the characters' frequencies (add-one
    smoothed), so the untrained model already predicts the unigram distribution.

    From PyTorch's default (bias ~ 0) the cheapest way to reach the unigram loss is to saturate
    recurrent units into constants and use them as a bias; deep stacks then sit on the unigram
    plateau for hundreds of steps while the input-dependent signal, shrunk ~25x per layer,
    recovers. Measured on War and Peace (3x64 LSTM, batch 32, CPU): the first step below 2.5
    nats/char came at step 346-373 from the default init and at 64-74 from this one; 1 layer
    109 -> 55 steps, 3x512 138 -> 35 (benchmarks/README.md)."""
    counts = torch.as_tensor(np.asarray(counts, dtype=np.float64)) + 1.0
    with torch.no_grad():
        model.head.bias.copy_((counts / counts.sum()).log().to(model.head.bias.dtype))


def layer_weights(model: CharRNN, layer: int):
    """(W_ih, W_hh, b_ih, b_hh) of one recurrent layer."""
    return tuple(
        getattr(model.rnn, f"{name}_l{layer}")
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    )


def detach_state(state: State | None) -> State | None:
    """Keep the values, drop the graph: backprop stops at the window boundary (truncated BPTT)
    instead of reaching back through every window since the epoch began."""
    return None if state is None else tuple(s.detach() for s in state)


def grow_vocab(weights: dict, old, new) -> dict:
    """Model weights for a vocabulary `new` that holds every symbol of `old` and more: each old
    symbol's embedding and output rows move to its new id unchanged; the new symbols get fresh
    embedding rows (N(0, 1), as nn.Embedding) and output rows that make them as unlikely as the
    least likely old symbol."""
    grown = dict(weights)
    index = [new.symbols.index(ch) for ch in old.symbols]
    if old.unk_id is not None:
        index.append(new.unk_id)
    index = torch.tensor(index)
    embed, head_w, head_b = weights["embed.weight"], weights["head.weight"], weights["head.bias"]
    grown["embed.weight"] = torch.randn(new.size, embed.size(1)).index_copy_(0, index, embed)
    grown["head.weight"] = torch.zeros(new.size, head_w.size(1)).index_copy_(0, index, head_w)
    grown["head.bias"] = torch.full((new.size,), float(head_b.min())).index_copy_(0, index, head_b)
    return grown

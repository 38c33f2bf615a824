"""Mistake in ex11_lstm_step: the states are squeezed, which also drops the batch dim of a batch
of one.
"""

import torch
from torch import Tensor


def lstm_step(
    x_t: Tensor, h_prev: Tensor, c_prev: Tensor, W_x: Tensor, W_h: Tensor, b: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM update, gates in PyTorch's order (i, f, g, o): returns (h_t, c_t)."""
    i, f, g, o = (x_t @ W_x + h_prev @ W_h + b).chunk(4, dim=-1)
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c_t = f * c_prev + i * g
    h_t = o * torch.tanh(c_t)
    return h_t.squeeze(), c_t.squeeze()

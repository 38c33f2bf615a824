"""Mistake in ex05_rnn_step: rnn_step squeezes the new state, which also drops the batch dim of
a batch of one sequence.
"""

import torch
from torch import Tensor


def rnn_step(
    x_t: Tensor, h_prev: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor
) -> tuple[Tensor, Tensor]:
    """One update of the hidden state and the output read from it: returns (h_t, y_t)."""
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h).squeeze()
    y_t = h_t @ W_hy + b_y
    return h_t, y_t


def rnn_forward(
    xs: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor
) -> tuple[Tensor, Tensor]:
    """Run `rnn_step` over xs[..., t, :] from h0: returns (hs, ys), time on dim -2."""
    h = h0
    hs, ys = [], []
    for t in range(xs.shape[-2]):
        h, y = rnn_step(xs[..., t, :], h, W_xh, W_hh, b_h, W_hy, b_y)
        hs.append(h)
        ys.append(y)
    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)

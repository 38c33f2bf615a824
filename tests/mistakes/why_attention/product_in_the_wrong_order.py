"""Mistake in ex13_why_attention: each new step is multiplied on the right of the product, the
column-vector order.
"""

import torch
from torch import Tensor


def accuracy_by_position(logits: Tensor, targets: Tensor) -> Tensor:
    """The fraction of correct argmax predictions at each of the T positions: -> (T,)."""
    correct = (logits.argmax(dim=-1) == targets).to(logits.dtype)
    return correct.reshape(-1, correct.shape[-1]).mean(dim=0)


def gradient_norms_through_time(hs: Tensor, W_hh: Tensor) -> Tensor:
    """‖∂h_last/∂h_t‖_F for every step t of a tanh RNN's states hs: -> (..., T)."""
    d_h = hs.shape[-1]
    jacobian = torch.eye(d_h, dtype=hs.dtype, device=hs.device).expand(*hs.shape[:-2], d_h, d_h)
    norms = [torch.linalg.matrix_norm(jacobian)]
    for t in range(hs.shape[-2] - 2, -1, -1):
        step = W_hh * (1 - hs[..., t + 1, :] ** 2).unsqueeze(-2)  # W_hh diag(1 - h_{t+1}²)
        jacobian = jacobian @ step
        norms.append(torch.linalg.matrix_norm(jacobian))
    return torch.stack(norms[::-1], dim=-1)

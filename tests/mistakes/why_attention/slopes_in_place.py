"""Mistake in ex13_why_attention: computes 1 - h² in hs's own memory (hs.mul_(hs)...): right values,
the caller's states overwritten.
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
    slopes = hs.mul_(hs).neg_().add_(1)
    norms = [torch.linalg.matrix_norm(jacobian)]
    for t in range(hs.shape[-2] - 2, -1, -1):
        step = W_hh * slopes[..., t + 1, :].unsqueeze(-2)
        jacobian = step @ jacobian
        norms.append(torch.linalg.matrix_norm(jacobian))
    return torch.stack(norms[::-1], dim=-1)

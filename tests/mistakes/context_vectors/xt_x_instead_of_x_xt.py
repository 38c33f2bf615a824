"""Mistake in ex04_context_vectors: scores Xᵀ X (d × d) instead of X Xᵀ, then X @ weights to make
the shapes fit.
"""

import torch
from torch import Tensor


def context_vector(weights: Tensor, inputs: Tensor) -> Tensor:
    """The weighted sum of the rows of `inputs`: (..., n), (..., n, d) -> (..., d)."""
    return (weights.unsqueeze(-1) * inputs).sum(dim=-2)


def simple_self_attention(inputs: Tensor) -> Tensor:
    """softmax(X Xᵀ) X with softmax along each row: (..., n, d) -> (..., n, d)."""
    scores = inputs.transpose(-2, -1) @ inputs
    weights = torch.softmax(scores, dim=-1)
    return inputs @ weights

"""Mistake in ex04_context_vectors: softmax along dim -2, so the columns sum to 1 instead of the
rows.
"""

import torch
from torch import Tensor


def context_vector(weights: Tensor, inputs: Tensor) -> Tensor:
    """The weighted sum of the rows of `inputs`: (..., n), (..., n, d) -> (..., d)."""
    return (weights.unsqueeze(-1) * inputs).sum(dim=-2)


def simple_self_attention(inputs: Tensor) -> Tensor:
    """softmax(X Xᵀ) X with softmax along each row: (..., n, d) -> (..., n, d)."""
    scores = inputs @ inputs.transpose(-2, -1)
    weights = torch.softmax(scores, dim=-2)
    return weights @ inputs

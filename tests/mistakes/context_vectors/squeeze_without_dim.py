"""Mistake in ex04_context_vectors: context_vector squeezes the matrix product without naming a
dim, so a batch of one sequence loses its batch dim.
"""

import torch
from torch import Tensor


def context_vector(weights: Tensor, inputs: Tensor) -> Tensor:
    """The weighted sum of the rows of `inputs`: (..., n), (..., n, d) -> (..., d)."""
    return (weights.unsqueeze(-2) @ inputs).squeeze()


def simple_self_attention(inputs: Tensor) -> Tensor:
    """softmax(X Xᵀ) X with softmax along each row: (..., n, d) -> (..., n, d)."""
    scores = inputs @ inputs.transpose(-2, -1)
    weights = torch.softmax(scores, dim=-1)
    return weights @ inputs

"""Mistake in ex04_context_vectors: uses the raw scores X Xᵀ as weights."""

from torch import Tensor


def context_vector(weights: Tensor, inputs: Tensor) -> Tensor:
    """The weighted sum of the rows of `inputs`: (..., n), (..., n, d) -> (..., d)."""
    return (weights.unsqueeze(-1) * inputs).sum(dim=-2)


def simple_self_attention(inputs: Tensor) -> Tensor:
    """softmax(X Xᵀ) X with softmax along each row: (..., n, d) -> (..., n, d)."""
    scores = inputs @ inputs.transpose(-2, -1)
    weights = scores
    return weights @ inputs

"""Mistake in ex01_dot_scores: dot sums over every dimension, so batched inputs collapse to one
number.
"""

from torch import Tensor


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of `a` and `b` over their last dimension: (..., d), (..., d) -> (...)."""
    return (a * b).sum()


def attention_scores(query: Tensor, inputs: Tensor) -> Tensor:
    """The score of `query` against each row of `inputs`: (..., d), (..., n, d) -> (..., n)."""
    return dot(query.unsqueeze(-2), inputs)


def all_attention_scores(inputs: Tensor) -> Tensor:
    """Every token's score against every token, ω_ij = xⁱ · xʲ: (..., n, d) -> (..., n, n)."""
    return dot(inputs.unsqueeze(-2), inputs.unsqueeze(-3))

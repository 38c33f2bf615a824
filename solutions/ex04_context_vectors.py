"""Exercise 4: context vectors and simplified self-attention.

Weights say how much each token matters to a query; the context vector puts that to use. It is
the weighted sum of the inputs,

    z² = Σ_i α_2i xⁱ = [0.4419, 0.6515, 0.5683]   for the softmax weights of x²,

an enriched embedding of "journey" that mixes in what the rest of the sentence says about it.

Simplified self-attention does this for every token at once, with no trainable weights:
scores ω = X Xᵀ (n × n), weights A = softmax(ω) along each row, context vectors Z = A X.
Each row of Z is the context vector of one token. There is no scaling by √d here: that comes
with the trainable projections of exercise 7. You may use `torch.softmax` in this exercise.

Batched inputs (..., n, d) transpose only their last two dimensions: `.T` reverses all of them,
`.transpose(-2, -1)` (or `.mT`) is what you want.

Shapes: weights (..., n), inputs (..., n, d) -> (..., d);  inputs (..., n, d) -> (..., n, d).
"""

import torch
from torch import Tensor


def context_vector(weights: Tensor, inputs: Tensor) -> Tensor:
    """The weighted sum of the rows of `inputs`: (..., n), (..., n, d) -> (..., d)."""
    ### BEGIN SOLUTION
    # Hint: give each weight a trailing dimension so it scales a whole row, then sum over n.
    return (weights.unsqueeze(-1) * inputs).sum(dim=-2)
    ### END SOLUTION


def simple_self_attention(inputs: Tensor) -> Tensor:
    """softmax(X Xᵀ) X with softmax along each row: (..., n, d) -> (..., n, d)."""
    ### BEGIN SOLUTION
    # Hint: scores, weights, context vectors; softmax along the dim holding one query's scores.
    scores = inputs @ inputs.transpose(-2, -1)
    weights = torch.softmax(scores, dim=-1)
    return weights @ inputs
    ### END SOLUTION

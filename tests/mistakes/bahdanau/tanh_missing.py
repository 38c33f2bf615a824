"""Mistake in ex06_bahdanau: no tanh between the projections and v."""

import torch
from torch import Tensor


def additive_scores(s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor) -> Tensor:
    """score_i = tanh(s W1 + h_i W2) · v for every encoder state h_i: -> (..., N)."""
    features = (s @ W1).unsqueeze(-2) + H @ W2
    return features @ v


def bahdanau_attention(
    s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor
) -> tuple[Tensor, Tensor]:
    """Softmax the additive scores over the encoder states and mix them: (context, weights)."""
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    context = (weights.unsqueeze(-1) * H).sum(dim=-2)
    return context, weights

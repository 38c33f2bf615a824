"""Mistake in ex06_bahdanau: the context squeezes the matrix product without naming a dim, so a
batch of one decoder state loses its batch dim.
"""

import torch
from torch import Tensor


def additive_scores(s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor) -> Tensor:
    """score_i = tanh(s W1 + h_i W2) · v for every encoder state h_i: -> (..., N)."""
    features = torch.tanh((s @ W1).unsqueeze(-2) + H @ W2)
    return features @ v


def bahdanau_attention(
    s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor
) -> tuple[Tensor, Tensor]:
    """Softmax the additive scores over the encoder states and mix them: (context, weights)."""
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    context = (weights.unsqueeze(-2) @ H).squeeze()
    return context, weights

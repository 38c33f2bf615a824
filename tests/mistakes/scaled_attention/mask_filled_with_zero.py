"""Mistake in ex07_scaled_attention: masked scores become 0 instead of -inf, so masked keys keep
weight.
"""

import math

import torch
from torch import Tensor


def scaled_dot_product_attention(
    Q: Tensor, K: Tensor, V: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √d_k) V, with masked scores set to -inf: returns (context, weights)."""
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        # softmax turns a row that is all -inf into NaNs: such a query attends to nothing.
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def self_attention(
    X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Project X to queries, keys and values, then attend: returns (context, weights)."""
    return scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask)

"""Mistake in ex08_causal_attention: computes in float32, so float64 inputs come back as float32."""

import math

import torch
from torch import Tensor


def causal_mask(n: int) -> Tensor:
    """A bool (n, n) tensor, True where query i may attend to key j, that is where j <= i."""
    return torch.ones(n, n, dtype=torch.bool).tril()


def causal_self_attention(
    X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor
) -> tuple[Tensor, Tensor]:
    """Self-attention where each token sees only itself and earlier tokens: (context, weights)."""
    X, W_q, W_k, W_v = X.float(), W_q.float(), W_k.float(), W_v.float()
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    scores = scores.masked_fill(~causal_mask(X.shape[-2]), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ V, weights

"""Mistake in ex08_causal_attention: takes the context from the forbidden
torch.nn.functional.scaled_dot_product_attention (right values).
"""

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
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    scores = scores.masked_fill(~causal_mask(X.shape[-2]), float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    context = torch.nn.functional.scaled_dot_product_attention(Q, K, V, is_causal=True)
    return context, weights

"""Mistake in ex09_multi_head_attention: returns detached tensors: no gradient flows to X or the
weights matrices.
"""

import math

import torch
from torch import Tensor


def multi_head_attention(
    X: Tensor,
    W_q: Tensor,
    W_k: Tensor,
    W_v: Tensor,
    W_o: Tensor,
    num_heads: int,
    mask: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """Attention in num_heads heads of size d_out // num_heads, merged by W_o: (out, weights)."""
    d_out = W_q.shape[-1]
    if d_out % num_heads != 0:
        raise ValueError(f"num_heads = {num_heads} does not divide d_out = {d_out}")
    head_dim = d_out // num_heads
    Q, K, V = X @ W_q, X @ W_k, X @ W_v  # (..., n, d_out) each
    # Split into heads, (..., n, num_heads, head_dim), then put the heads before the tokens.
    Q, K, V = (t.unflatten(-1, (num_heads, head_dim)).transpose(-3, -2) for t in (Q, K, V))
    scores = Q @ K.transpose(-2, -1) / math.sqrt(head_dim)
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)  # a query that may see nothing: 0, not NaN
    heads = (weights @ V).transpose(-3, -2).flatten(-2)  # (..., n, d_out), in head order
    return (heads @ W_o).detach(), weights.detach()

"""Exercise 7: scaled dot-product attention with queries, keys and values.

Simplified self-attention compares raw embeddings, so a token's role as "the one asking", "the one
being matched" and "the content handed over" is the same vector. Trainable projections separate
them: for inputs X (n × d_in),

    Q = X W_q,  K = X W_k,  V = X W_v,
    weights = softmax(Q Kᵀ / √d_k)  (along each row),   context = weights V.

W_q, W_k and W_v are the weights the layer learns; Q, K and V are computed from them, afresh for
every input. (One of the course documents calls Q, K and V random d × d matrices: it is the
weights that start out random.)

This is attention as a soft lookup: each query is compared with every key, and gets back a
mixture of the values, weighted by how well the keys matched.

Why divide by √d_k, with d_k the size of the keys (K's last dimension, not the size of the
inputs)? If the entries of a query and a key are independent with mean 0 and variance 1, each
product q_i k_i has mean 0 and variance 1, and their dot product, a sum of d_k such independent
terms, has variance d_k. Large scores push softmax towards a one-hot vector, where its gradient
all but vanishes and training stalls; dividing by √d_k brings the scores back to variance 1.

A mask says which keys each query may see: `mask` is a bool tensor broadcastable to
(..., n_q, n_k), True where attending is allowed (PyTorch's convention). Masked scores become
-inf before softmax, so they get weight 0; a query that may see nothing gets all-zero weights.
You may use `torch.softmax` here.

With the course documents' example (torch.manual_seed(123), then W_q, W_k, W_v = torch.rand(3, 2)
each), the query of "journey" is [0.4306, 1.4551] and its context vector [0.3061, 0.8210].

Shapes: Q (..., n_q, d_k), K (..., n_k, d_k), V (..., n_k, d_v) -> context (..., n_q, d_v),
weights (..., n_q, n_k).  X (..., n, d_in), W_q and W_k (d_in, d_k), W_v (d_in, d_v).

Not allowed in this exercise (a check looks for them):
torch.nn.functional.scaled_dot_product_attention, torch.nn.MultiheadAttention,
torch.nn.functional.multi_head_attention_forward; nor eval, exec, compile, __import__, importlib,
vars, globals, __dict__ or getattr with a computed name, which could reach them.
"""

import math

import torch
from torch import Tensor


def scaled_dot_product_attention(
    Q: Tensor, K: Tensor, V: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """softmax(Q Kᵀ / √d_k) V, with masked scores set to -inf: returns (context, weights)."""
    raise NotImplementedError("Hint: d_k = K.shape[-1]; mask with masked_fill(~mask, -inf) before softmax.")


def self_attention(
    X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """Project X to queries, keys and values, then attend: returns (context, weights)."""
    raise NotImplementedError("Hint: three projections of the same X, then the function above does the rest: pass mask on.")

"""Exercise 9: multi-head attention, several attentions side by side.

One attention gives each query one set of weights: one answer to one question, such as "which
earlier noun does 'it' refer to?". A sentence holds many relations at once (who did what, what
goes with what, what came just before), and one softmax has to blur them together. Multi-head
attention runs h smaller attentions in parallel, each free to look for something else, and mixes
their results:

    Q = X W_q,  K = X W_k,  V = X W_v                      (..., n, d_out) each
    split the last dim into h heads of head_dim = d_out / h   -> (..., h, n, head_dim)
    head_i = softmax(Q_i K_iᵀ / √head_dim) V_i               (..., h, n, head_dim)
    out = concat(head_1, ..., head_h) W_o                      (..., n, d_out)

Head i owns columns i·head_dim to (i+1)·head_dim - 1 of W_q, W_k and W_v: the three matrices are
h projections of size head_dim laid side by side, so computing them in one product and splitting
the result costs no more than one attention of size d_out. In code, split (..., n, d_out) into
(..., n, h, head_dim), then swap the token and head dims, so that each head is a sequence of n
vectors and exercise 7's attention runs on every head at once through the leading dims. After
attending, swap back and merge the last two dims: the heads' outputs sit side by side in head
order, and W_o (d_out, d_out) mixes them.

Each head compares vectors of size head_dim, so its scores are scaled by √head_dim: the course
documents divide by √d, the size of the whole embedding, which is right only for a single head.
The head count must divide d_out; if it does not, there is no way to split it evenly, and the
function says so with a ValueError.

An optional bool mask, broadcastable to (..., h, n, n) and True where attending is allowed, works
as in exercise 7: -inf before softmax, and all-zero weights for a query that may see nothing. An
(n, n) mask, such as exercise 8's causal one, applies to every head alike.

With d_in = d_out = embed_dim, this is torch.nn.MultiheadAttention(embed_dim, num_heads,
bias=False, batch_first=True) called on (X, X, X) with average_attn_weights=False (by default it
returns the heads' weights averaged). It stores the transposes of these matrices,
in_proj_weight = [W_qᵀ; W_kᵀ; W_vᵀ] and out_proj.weight = W_oᵀ, and its own bool attn_mask means
the opposite (True = may not attend).

Shapes: X (..., n, d_in), W_q, W_k, W_v (d_in, d_out), W_o (d_out, d_out) -> out (..., n, d_out),
weights (..., h, n, n). You may use `torch.softmax`.

Not allowed in this exercise (a check looks for them):
torch.nn.functional.scaled_dot_product_attention, torch.nn.MultiheadAttention,
torch.nn.functional.multi_head_attention_forward; nor eval, exec, compile, __import__, importlib,
vars, globals, __dict__ or getattr with a computed name, which could reach them.
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
    raise NotImplementedError("Hint: (..., n, d_out) -> (..., n, h, head_dim) -> swap dims -3, -2; attend; undo; @ W_o.")

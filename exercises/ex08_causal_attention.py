"""Exercise 8: causal self-attention, where no token peeks at the ones after it.

A language model (a decoder) is trained to predict each next token from the tokens before it. In
self-attention every query sees every key, so while training on "Your journey starts with one
step" the query of "journey" could simply read off "starts", the very word it must predict, and
the model would learn nothing it can use when generating text, where later tokens do not exist
yet. Causal (or masked) self-attention forbids that: query i may attend to key j only if j <= i.

The rule is a lower-triangular mask, True where attending is allowed (PyTorch's convention):

    mask[i, j] = j <= i            causal_mask(4) = [[1, 0, 0, 0],
                                                     [1, 1, 0, 0],
                                                     [1, 1, 1, 0],
                                                     [1, 1, 1, 1]]

and it is applied to the scores of exercise 7 before softmax, with -inf where it is False:

    Q = X W_q,  K = X W_k,  V = X W_v,
    weights = softmax(masked(Q Kᵀ / √d_k)),   context = weights V,   d_k = W_k's last dim.

exp(-inf) = 0, so the future gets weight exactly 0 and the past and present share all of it: the
weights are lower-triangular, each row sums to 1, the first token attends only to itself (its
row is [1, 0, ..., 0]) and the last one to the whole sequence. Changing a later token therefore
changes nothing in the outputs of the earlier ones. Every row keeps its diagonal, so no row is
ever fully masked.

Two tempting shortcuts: filling the masked scores with 0 instead of -inf is wrong, since a score
of 0 is an ordinary score and still gets a share of the softmax; and zeroing the weights after
softmax leaves rows that no longer sum to 1. Some texts mask after softmax and then divide each
row by its new sum: in exact arithmetic that is the same result, but it spends a softmax on
scores it throws away, and when a future score dwarfs the allowed ones their weights underflow
to 0 and the division gives 0/0 = NaN. Masking with -inf before softmax is both cheaper and safe.

Shapes: X (..., n, d_in), W_q and W_k (d_in, d_k), W_v (d_in, d_v) -> context (..., n, d_v),
weights (..., n, n). You may use `torch.softmax`.

Not allowed in this exercise (a check looks for them):
torch.nn.functional.scaled_dot_product_attention, torch.nn.MultiheadAttention,
torch.nn.functional.multi_head_attention_forward; nor eval, exec, compile, __import__, importlib,
vars, globals, __dict__ or getattr with a computed name, which could reach them.
"""

import math

import torch
from torch import Tensor


def causal_mask(n: int) -> Tensor:
    """A bool (n, n) tensor, True where query i may attend to key j, that is where j <= i."""
    raise NotImplementedError("Hint: an (n, n) bool tensor of True, keeping only its lower triangle (torch.tril).")


def causal_self_attention(
    X: Tensor, W_q: Tensor, W_k: Tensor, W_v: Tensor
) -> tuple[Tensor, Tensor]:
    """Self-attention where each token sees only itself and earlier tokens: (context, weights)."""
    raise NotImplementedError("Hint: the scores of exercise 7, then masked_fill(~causal_mask(n), -inf) before softmax.")

"""Common mistakes in exercise 9: multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None),
returning (out, weights)."""

import math
from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "multi_head_attention"
FUNCTION = "multi_head_attention"
mha_mistake = partial(mistake, EXERCISE, FUNCTION)
INF = float("inf")


def head_dim_of(W_q, num_heads):
    d_out = W_q.shape[-1]
    if d_out % num_heads != 0:
        raise ValueError(f"num_heads = {num_heads} does not divide d_out = {d_out}")
    return d_out // num_heads


def split(X, W, num_heads, head_dim):
    """(..., n, d_out) -> (..., num_heads, n, head_dim)."""
    return (X @ W).unflatten(-1, (num_heads, head_dim)).transpose(-3, -2)


def merge(heads):
    """(..., num_heads, n, head_dim) -> (..., n, d_out), the heads side by side."""
    return heads.transpose(-3, -2).flatten(-2)


def attend(Q, K, V, scale, mask, zero_masked_rows=True, dim=-1):
    """Masked softmax(Q Kᵀ / scale) along `dim`, then V: (per-head contexts, weights)."""
    scores = Q @ K.transpose(-2, -1) / scale
    if mask is not None:
        scores = scores.masked_fill(~mask, -INF)
    weights = torch.softmax(scores, dim=dim)
    if mask is not None and zero_masked_rows:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def heads_attention(X, W_q, W_k, W_v, num_heads, mask, scale=None, **options):
    """Every head's attention, done right unless the options say otherwise."""
    head_dim = head_dim_of(W_q, num_heads)
    Q, K, V = (split(X, W, num_heads, head_dim) for W in (W_q, W_k, W_v))
    return attend(Q, K, V, scale or math.sqrt(head_dim), mask, **options)


def multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask)
    return merge(heads) @ W_o, weights


def scaled_by_sqrt_d_out(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    scale = math.sqrt(W_q.shape[-1])
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask, scale=scale)
    return merge(heads) @ W_o, weights


def heads_split_in_wrong_order(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    head_dim = head_dim_of(W_q, num_heads)
    Q, K, V = (
        (X @ W).unflatten(-1, (head_dim, num_heads)).movedim(-1, -3) for W in (W_q, W_k, W_v)
    )
    heads, weights = attend(Q, K, V, math.sqrt(head_dim), mask)
    return merge(heads) @ W_o, weights


def heads_not_transposed(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    head_dim = head_dim_of(W_q, num_heads)
    Q, K, V = ((X @ W).unflatten(-1, (num_heads, head_dim)) for W in (W_q, W_k, W_v))
    heads, weights = attend(Q, K, V, math.sqrt(head_dim), mask)
    return heads.flatten(-2) @ W_o, weights


def merged_without_transpose(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask)
    return heads.reshape(*X.shape[:-1], W_q.shape[-1]) @ W_o, weights


def w_o_not_applied(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask)
    return merge(heads), weights


def w_o_transposed(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask)
    return merge(heads) @ W_o.T, weights


def softmax_over_queries(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask, dim=-2)
    return merge(heads) @ W_o, weights


def weights_averaged_over_heads(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask)
    return merge(heads) @ W_o, weights.mean(dim=-3)


def ignores_mask(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    return multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads)


def nan_on_fully_masked_row(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    heads, weights = heads_attention(X, W_q, W_k, W_v, num_heads, mask, zero_masked_rows=False)
    return merge(heads) @ W_o, weights


def no_divisibility_check(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    head_dim = W_q.shape[-1] // num_heads
    Q, K, V = (split(X, W, num_heads, head_dim) for W in (W_q, W_k, W_v))
    heads, weights = attend(Q, K, V, math.sqrt(head_dim), mask)
    return merge(heads) @ W_o, weights


SPLIT = (
    "`(X @ W).unflatten(-1, (num_heads, head_dim)).transpose(-3, -2)` gives (..., h, n, head_dim)"
)
MISTAKES = [
    mha_mistake(
        scaled_by_sqrt_d_out,
        "the scores are divided by √d_out instead of √head_dim",
        "Each head compares queries and keys of size head_dim = d_out / num_heads, so that is "
        "what its scores' spread grows with: divide by `math.sqrt(head_dim)`.",
    ),
    mha_mistake(
        heads_split_in_wrong_order,
        "the heads are split in the wrong order",
        "Splitting d_out as (head_dim, num_heads) gives head i every num_heads-th column instead "
        f"of a block of head_dim neighbouring ones. {SPLIT}.",
    ),
    mha_mistake(
        heads_not_transposed,
        "attention over the heads instead of the tokens",
        "Without swapping the token and head dims, the last two dims are (heads, head_dim), so "
        f"each token's heads attend to each other. {SPLIT}.",
    ),
    mha_mistake(
        merged_without_transpose,
        "the heads are merged without swapping the dims back",
        "Reshaping (..., h, n, head_dim) straight to (..., n, d_out) mixes tokens and heads. Swap "
        "back first: `heads.transpose(-3, -2).flatten(-2)`, then @ W_o.",
    ),
    mha_mistake(
        w_o_not_applied,
        "W_o is not applied",
        "The concatenated heads are only the input of the output projection: "
        "out = concat(heads) @ W_o.",
    ),
    mha_mistake(
        w_o_transposed,
        "W_o is transposed",
        "out = concat(heads) @ W_o, with W_o as given. (torch.nn.Linear stores its weight "
        "transposed, which is where `.T` belongs, not here.)",
    ),
    mha_mistake(
        softmax_over_queries,
        "softmax along the wrong dimension",
        "Softmax along dim -2 normalises over the queries. Each query's weights over the keys "
        "must sum to 1: `torch.softmax(scores, dim=-1)`.",
    ),
    mha_mistake(
        weights_averaged_over_heads,
        "the weights are averaged over the heads",
        "nn.MultiheadAttention averages them by default; this function returns every head's "
        "weights, of shape (..., num_heads, n, n).",
    ),
    mha_mistake(
        ignores_mask,
        "the mask is ignored",
        "Masked keys must get weight 0 in every head: set their scores to -inf before softmax, "
        "`scores.masked_fill(~mask, float('-inf'))`.",
    ),
    mha_mistake(
        nan_on_fully_masked_row,
        "NaN for a query that may see nothing",
        "softmax of a row of only -inf is NaN. Such a query attends to nothing: after softmax, "
        "set the masked weights to 0, `weights.masked_fill(~mask, 0.0)`.",
    ),
    mha_mistake(
        no_divisibility_check,
        "no ValueError when num_heads does not divide d_out",
        "d_out // num_heads silently rounds down, and the split then fails with a shape error. "
        "Check `d_out % num_heads` first and raise a ValueError that says what is wrong.",
    ),
    float32_cast(EXERCISE, FUNCTION, multi_head_attention, "float32_cast"),
    no_gradient(EXERCISE, FUNCTION, multi_head_attention, "no_gradient"),
]


def _causal(n):
    """Token i sees tokens 0..i, except token 0, which sees nothing."""
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, 0] = False
    return mask


def _arguments(batch, n, d_in, d_out, num_heads, *, seed, mask=None):
    X = normal(*batch, n, d_in, seed=seed)
    projections = [normal(d_in, d_out, seed=seed + i, scale=0.6) for i in (1, 2, 3)]
    W_o = normal(d_out, d_out, seed=seed + 4, scale=0.4)
    args = (X, *projections, W_o, num_heads)
    return Probe(args if mask is None else (*args, mask))  # the mask positionally


PROBES = {
    FUNCTION: [
        _arguments((), 5, 6, 8, 2, seed=1),
        _arguments((2,), 5, 6, 8, 4, seed=10, mask=_causal(5)),
        _arguments((), 3, 4, 6, 4, seed=20),  # 4 heads cannot split d_out = 6
    ],
}

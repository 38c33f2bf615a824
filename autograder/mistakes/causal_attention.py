"""Common mistakes in exercise 8: causal_mask(n) and causal_self_attention(X, W_q, W_k, W_v)."""

import math
from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "causal_attention"
MASK, ATTENTION = "causal_mask", "causal_self_attention"
mask_mistake = partial(mistake, EXERCISE, MASK)
attention_mistake = partial(mistake, EXERCISE, ATTENTION)
INF = float("inf")


def ones(n, dtype=torch.bool):
    return torch.ones(n, n, dtype=dtype)


def causal_mask(n):
    return ones(n).tril()


def scores_of(X, W_q, W_k, scale=None):
    Q, K = X @ W_q, X @ W_k
    return Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1] if scale is None else scale)


def attend(scores, V, allowed):
    """Softmax of the scores with -inf where `allowed` is False: (context, weights)."""
    weights = torch.softmax(scores.masked_fill(~allowed, -INF), dim=-1)
    return weights @ V, weights


def causal_self_attention(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k), X @ W_v, causal_mask(X.shape[-2]))


# --- causal_mask ----------------------------------------------------------------------------


def mask_sees_the_future(n):
    return ones(n).triu()


def mask_true_where_masked(n):
    return ones(n).triu(1)


def mask_without_diagonal(n):
    return ones(n).tril(-1)


def float_mask(n):
    return torch.ones(n, n).tril()


def integer_mask(n):
    return torch.ones(n, n, dtype=torch.int64).tril()


# --- causal_self_attention ------------------------------------------------------------------


def sees_the_future(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k), X @ W_v, ones(X.shape[-2]).triu())


def mask_not_negated(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k), X @ W_v, ~causal_mask(X.shape[-2]))


def diagonal_excluded(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k), X @ W_v, ones(X.shape[-2]).tril(-1))


def mask_sized_by_first_dim(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k), X @ W_v, causal_mask(X.shape[0]))


def mask_after_softmax(X, W_q, W_k, W_v):
    weights = torch.softmax(scores_of(X, W_q, W_k), dim=-1) * causal_mask(X.shape[-2])
    return weights @ (X @ W_v), weights


def renormalised_after_softmax(X, W_q, W_k, W_v):
    weights = torch.softmax(scores_of(X, W_q, W_k), dim=-1) * causal_mask(X.shape[-2])
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return weights @ (X @ W_v), weights


def mask_filled_with_zero(X, W_q, W_k, W_v):
    scores = scores_of(X, W_q, W_k).masked_fill(~causal_mask(X.shape[-2]), 0.0)
    weights = torch.softmax(scores, dim=-1)
    return weights @ (X @ W_v), weights


def not_scaled(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k, scale=1), X @ W_v, causal_mask(X.shape[-2]))


def scaled_by_sqrt_d_in(X, W_q, W_k, W_v):
    return attend(scores_of(X, W_q, W_k, scale=X.shape[-1]), X @ W_v, causal_mask(X.shape[-2]))


def transpose_with_T(X, W_q, W_k, W_v):
    scores = (X @ W_q) @ (X @ W_k).T / math.sqrt(W_k.shape[-1])
    return attend(scores, X @ W_v, causal_mask(X.shape[-2]))


def query_weights_scaled_in_place(X, W_q, W_k, W_v):
    W_q /= math.sqrt(W_k.shape[-1])
    return attend(scores_of(X, W_q, W_k, scale=1), X @ W_v, causal_mask(X.shape[-2]))


MASK_RULE = (
    "causal_mask(n)[i, j] is True where key j <= query i: "
    "`torch.ones(n, n, dtype=torch.bool).tril()`"
)
BEFORE_SOFTMAX = (
    "Mask the scores with -inf before softmax: `scores.masked_fill(~mask, float('-inf'))`"
)
SCALE = "scores = Q Kᵀ / √d_k, with d_k = `W_k.shape[-1]`, the size of the keys"
MISTAKES = [
    mask_mistake(
        mask_sees_the_future,
        "the mask allows the future (upper triangle)",
        f"triu keeps the keys at and after each query, so every token could read the ones it "
        f"must predict. {MASK_RULE}.",
    ),
    mask_mistake(
        mask_true_where_masked,
        "the mask is True where attending is forbidden",
        "That is nn.MultiheadAttention's attn_mask convention; this course uses PyTorch's other "
        f"one, True where attending is allowed. {MASK_RULE}.",
    ),
    mask_mistake(
        mask_without_diagonal,
        "the mask leaves out the diagonal",
        "tril(-1) stops each token from attending to itself, and the first token then sees "
        f"nothing at all. {MASK_RULE}.",
    ),
    mask_mistake(
        float_mask,
        "the mask is a float tensor, not bool",
        "torch.ones makes float32 ones; `~mask` and masked_fill need a bool mask. Ask for "
        "`dtype=torch.bool`.",
    ),
    mask_mistake(
        integer_mask,
        "the mask is an integer tensor, not bool",
        "`~` on integers flips bits (~1 is -2) and masked_fill refuses integer masks. Ask for "
        "`dtype=torch.bool`.",
    ),
    attention_mistake(
        sees_the_future,
        "tokens attend to later tokens (upper triangle)",
        "Each token attends to itself and the tokens after it, the opposite of causal. Allow "
        "key j for query i only where j <= i: the lower triangle, `tril()`.",
    ),
    attention_mistake(
        mask_not_negated,
        "the allowed positions are the ones masked out",
        "masked_fill(mask, ...) fills where the mask is True, which here means allowed. "
        f"Negate it: {BEFORE_SOFTMAX}.",
    ),
    attention_mistake(
        diagonal_excluded,
        "tokens may not attend to themselves",
        "Masking the diagonal too leaves the first token nothing to attend to (NaN), and every "
        "other token blind to itself. Allow key j for query i where j <= i: `tril()`.",
    ),
    attention_mistake(
        mask_sized_by_first_dim,
        "the mask is sized by the first dimension of X",
        "X.shape[0] is the batch when X is batched. The number of tokens is `X.shape[-2]`.",
    ),
    attention_mistake(
        mask_after_softmax,
        "the weights are masked after softmax",
        "Zeroing the weights of later tokens after softmax leaves rows that no longer sum to 1. "
        f"{BEFORE_SOFTMAX}, so the allowed keys share all the weight.",
    ),
    attention_mistake(
        renormalised_after_softmax,
        "masked after softmax, then renormalised",
        "Right in exact arithmetic, but when a later token's score dwarfs the earlier ones their "
        f"weights underflow to 0, and 0/0 is NaN. {BEFORE_SOFTMAX}.",
    ),
    attention_mistake(
        mask_filled_with_zero,
        "masked scores set to 0 instead of -inf",
        "A score of 0 is an ordinary score: later tokens still get a share of the softmax. "
        "Fill with float('-inf'), whose exp is exactly 0.",
    ),
    attention_mistake(
        not_scaled,
        "the scores are not scaled",
        f"Large scores push softmax towards one-hot, where its gradient vanishes. {SCALE}.",
    ),
    attention_mistake(
        scaled_by_sqrt_d_in,
        "the scores are divided by √d_in, the size of X",
        f"The projections change the size: {SCALE}, which need not equal X's size d_in.",
    ),
    attention_mistake(
        transpose_with_T,
        "`.T` on batched keys",
        "`.T` reverses every dimension, so batched keys (b, n, d_k) become (d_k, n, b). "
        "Transpose the last two only: `K.transpose(-2, -1)` or `K.mT`.",
    ),
    attention_mistake(
        query_weights_scaled_in_place,
        "W_q is changed in place",
        "`W_q /= ...` folds the scale into the caller's weights, and every later call scales "
        "again. Compute new tensors instead: `Q @ K.transpose(-2, -1) / math.sqrt(d_k)`.",
        kind="in_place",
    ),
    float32_cast(EXERCISE, ATTENTION, causal_self_attention, "float32_cast"),
    no_gradient(EXERCISE, ATTENTION, causal_self_attention, "no_gradient"),
]


def _projections(batch, n, d_in, d_k, d_v, *, seed, scale=1.0):
    X = normal(*batch, n, d_in, seed=seed, scale=scale)
    weights = [normal(d_in, d, seed=seed + i, scale=0.6) for i, d in enumerate((d_k, d_k, d_v), 1)]
    return Probe((X, *weights))


PROBES = {
    MASK: [Probe((5,))],
    ATTENTION: [
        _projections((), 5, 6, 4, 3, seed=1),
        _projections((2,), 5, 6, 4, 3, seed=10),
        # batch == n == d_k: `.T` and a mask sized by X.shape[0] compute instead of failing.
        _projections((4,), 4, 6, 4, 3, seed=20),
        # Scores in the thousands: softmax before masking underflows.
        _projections((), 5, 6, 4, 3, seed=30, scale=60.0),
    ],
}

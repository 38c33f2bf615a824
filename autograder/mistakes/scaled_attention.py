"""Common mistakes in exercise 7: scaled_dot_product_attention(Q, K, V, mask=None) and
self_attention(X, W_q, W_k, W_v, mask=None)."""

import math
from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "scaled_attention"
SDPA = "scaled_dot_product_attention"
sdpa_mistake = partial(mistake, EXERCISE, SDPA)
self_mistake = partial(mistake, EXERCISE, "self_attention")
INF = float("inf")


def attend(scores, V, mask=None):
    """Masked softmax along the keys, then the weighted values: (context, weights)."""
    if mask is not None:
        scores = scores.masked_fill(~mask, -INF)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def scaled_dot_product_attention(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1]), V, mask)


def self_attention(X, W_q, W_k, W_v, mask=None):
    return scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask)


def not_scaled(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1), V, mask)


def scaled_by_d_k(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / K.shape[-1], V, mask)


def scaled_by_sqrt_d_v(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(V.shape[-1]), V, mask)


def scaled_by_sqrt_n_keys(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-2]), V, mask)


def multiplied_by_sqrt_d_k(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) * math.sqrt(K.shape[-1]), V, mask)


def transpose_with_T(Q, K, V, mask=None):
    return attend(Q @ K.T / math.sqrt(K.shape[-1]), V, mask)


def softmax_over_queries(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -INF)
    weights = torch.softmax(scores, dim=-2)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def ignores_mask(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1]), V)


def mask_inverted(Q, K, V, mask=None):
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1]), V, _not(mask))


def mask_after_softmax(Q, K, V, mask=None):
    weights = torch.softmax(Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1]), dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def nan_on_fully_masked_row(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -INF)
    weights = torch.softmax(scores, dim=-1)
    return weights @ V, weights


def masked_with_large_negative(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, -1e9)
    weights = torch.softmax(scores, dim=-1)
    return weights @ V, weights


def mask_filled_with_zero(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    weights = torch.softmax(scores, dim=-1)
    if mask is not None:
        weights = weights.masked_fill(~mask, 0.0)
    return weights @ V, weights


def mask_filled_with_zero_only(Q, K, V, mask=None):
    scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])
    if mask is not None:
        scores = scores.masked_fill(~mask, 0.0)
    weights = torch.softmax(scores, dim=-1)
    return weights @ V, weights


def outputs_swapped(Q, K, V, mask=None):
    context, weights = scaled_dot_product_attention(Q, K, V, mask)
    return weights, context


def queries_scaled_in_place(Q, K, V, mask=None):
    Q /= math.sqrt(K.shape[-1])
    return attend(Q @ K.transpose(-2, -1), V, mask)


def scaled_by_sqrt_d_in(X, W_q, W_k, W_v, mask=None):
    Q, K, V = X @ W_q, X @ W_k, X @ W_v
    return attend(Q @ K.transpose(-2, -1) / math.sqrt(X.shape[-1]), V, mask)


def queries_and_keys_swapped(X, W_q, W_k, W_v, mask=None):
    return scaled_dot_product_attention(X @ W_k, X @ W_q, X @ W_v, mask)


def values_not_projected(X, W_q, W_k, W_v, mask=None):
    return scaled_dot_product_attention(X @ W_q, X @ W_k, X, mask)


def _not(mask):
    return None if mask is None else ~mask


SCALE = "scores = Q Kᵀ / √d_k, with d_k = `K.shape[-1]`, the size of the keys"
MISTAKES = [
    sdpa_mistake(
        not_scaled,
        "the scores are not scaled",
        "Dot products of d_k-sized vectors grow like √d_k, and large scores push softmax to a "
        f"one-hot vector whose gradient vanishes. {SCALE}.",
    ),
    sdpa_mistake(
        scaled_by_d_k,
        "the scores are divided by d_k instead of √d_k",
        f"The dot product's spread grows like √d_k, so that is what to divide by: {SCALE}.",
    ),
    sdpa_mistake(
        scaled_by_sqrt_d_v,
        "the scores are divided by √d_v, the size of the values",
        f"The scale comes from the dot products of queries and keys: {SCALE}.",
    ),
    sdpa_mistake(
        scaled_by_sqrt_n_keys,
        "the scores are divided by √(number of keys)",
        f"`K.shape[-2]` counts the keys; their size is `K.shape[-1]`: {SCALE}.",
    ),
    sdpa_mistake(
        multiplied_by_sqrt_d_k,
        "the scores are multiplied by √d_k",
        f"Scaling shrinks the scores back to variance 1: divide, {SCALE}.",
    ),
    sdpa_mistake(
        transpose_with_T,
        "`K.T` on batched keys",
        "`.T` reverses every dimension, so batched keys (b, n_k, d_k) become (d_k, n_k, b). "
        "Transpose the last two only: `K.transpose(-2, -1)` or `K.mT`.",
    ),
    sdpa_mistake(
        softmax_over_queries,
        "softmax along the wrong dimension",
        "Softmax along dim -2 normalises over the queries. Each query's weights over the keys "
        "must sum to 1: `torch.softmax(scores, dim=-1)`.",
    ),
    sdpa_mistake(
        ignores_mask,
        "the mask is ignored",
        "Masked keys must get weight 0: set their scores to -inf before softmax, "
        "`scores.masked_fill(~mask, float('-inf'))`.",
    ),
    sdpa_mistake(
        mask_inverted,
        "the mask is inverted",
        'In PyTorch\'s convention True means "may attend": mask out where the mask is False, '
        "`scores.masked_fill(~mask, float('-inf'))`.",
    ),
    sdpa_mistake(
        mask_after_softmax,
        "the mask is applied after softmax",
        "Zeroing weights after softmax leaves rows that no longer sum to 1. Mask the scores "
        "with -inf before softmax, so the allowed keys share all the weight.",
    ),
    sdpa_mistake(
        nan_on_fully_masked_row,
        "NaN for a query that may see nothing",
        "softmax of a row of only -inf is NaN. Such a query attends to nothing: after "
        "softmax, set the masked weights to 0, `weights.masked_fill(~mask, 0.0)`.",
    ),
    sdpa_mistake(
        masked_with_large_negative,
        "masked with a large negative number, not -inf",
        "-1e9 works until a query may see nothing: its row is then uniform instead of all "
        "zeros. Use -inf, and zero the weights of masked keys after softmax.",
    ),
    sdpa_mistake(
        mask_filled_with_zero,
        "masked scores set to 0 instead of -inf",
        "A score of 0 is an ordinary score: the masked keys still take a share of the softmax, "
        "so the allowed weights no longer sum to 1. Fill with float('-inf').",
    ),
    sdpa_mistake(
        mask_filled_with_zero_only,
        "masked scores set to 0, so masked keys keep a weight",
        "A score of 0 is an ordinary score, so masked keys keep a weight. Fill with "
        "float('-inf'), and zero the weights of masked keys after softmax.",
    ),
    sdpa_mistake(
        outputs_swapped,
        "returns (weights, context) instead of (context, weights)",
        "scaled_dot_product_attention returns the context vectors first, then the weights.",
    ),
    float32_cast(EXERCISE, SDPA, scaled_dot_product_attention, "float32_cast"),
    sdpa_mistake(
        queries_scaled_in_place,
        "Q is changed in place",
        "`Q /= ...` (or another in-place operation) changes the caller's tensor. Compute new "
        "tensors instead: `Q @ K.transpose(-2, -1) / math.sqrt(d_k)`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, SDPA, scaled_dot_product_attention, "no_gradient"),
    self_mistake(
        scaled_by_sqrt_d_in,
        "the scores are divided by √d_in, the size of X",
        f"The projections change the size: {SCALE}, which need not equal X's size d_in.",
    ),
    self_mistake(
        queries_and_keys_swapped,
        "W_q and W_k swapped",
        "The queries are X W_q and the keys X W_k; swapped, every score ω_ij becomes ω_ji.",
    ),
    self_mistake(
        values_not_projected,
        "the values are not projected",
        "The weights mix the values V = X W_v, not the inputs X themselves.",
    ),
    float32_cast(EXERCISE, "self_attention", self_attention, "self_float32_cast"),
    no_gradient(EXERCISE, "self_attention", self_attention, "self_detached"),
]

# Which of 5 keys each of 3 queries may see; query 1 sees nothing.
KEY_MASK = torch.tensor(
    [[True, False, True, False, True], [False] * 5, [True, True, False, False, False]]
)


def _causal(n):
    """Token i sees tokens 0..i, except token 0, which sees nothing."""
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, 0] = False
    return mask


def _qkv(batch, n_q, n_k, d_k, d_v, *, seed, mask=None):
    shapes = [(*batch, n_q, d_k), (*batch, n_k, d_k), (*batch, n_k, d_v)]
    tensors = tuple(normal(*shape, seed=seed + i) for i, shape in enumerate(shapes))
    return Probe(tensors if mask is None else (*tensors, mask))  # the mask positionally


def _projections(batch, n, d_in, d_k, d_v, *, seed, mask=None):
    X = normal(*batch, n, d_in, seed=seed)
    weights = [normal(d_in, d, seed=seed + i, scale=0.6) for i, d in enumerate((d_k, d_k, d_v), 1)]
    return Probe((X, *weights) if mask is None else (X, *weights, mask))


PROBES = {
    SDPA: [
        _qkv((), 3, 5, 4, 6, seed=1),
        _qkv((2,), 3, 5, 4, 6, seed=10, mask=KEY_MASK),
        # batch == n_k == d_k: `K.T` computes (wrong) values instead of failing.
        _qkv((4,), 3, 4, 4, 2, seed=20),
    ],
    "self_attention": [
        _projections((), 5, 6, 4, 3, seed=30),
        _projections((2,), 5, 6, 4, 3, seed=40, mask=_causal(5)),
    ],
}

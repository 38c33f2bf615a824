"""Common mistakes in exercise 1: dot(a, b), attention_scores(query, inputs),
all_attention_scores(inputs)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "dot_scores"
dot_mistake = partial(mistake, EXERCISE, "dot")
scores_mistake = partial(mistake, EXERCISE, "attention_scores")
all_mistake = partial(mistake, EXERCISE, "all_attention_scores")


def dot(a, b):
    return (a * b).sum(dim=-1)


def attention_scores(query, inputs):
    return dot(query.unsqueeze(-2), inputs)


def all_attention_scores(inputs):
    return dot(inputs.unsqueeze(-2), inputs.unsqueeze(-3))


def sum_over_all_dims(a, b):
    return (a * b).sum()


def sum_over_dim_0(a, b):
    return (a * b).sum(dim=0)


def no_sum(a, b):
    return a * b


def sum_keeps_dim(a, b):
    return (a * b).sum(dim=-1, keepdim=True)


def query_not_unsqueezed(query, inputs):
    return dot(query, inputs)


def sum_over_tokens(query, inputs):
    return (query.unsqueeze(-2) * inputs).sum(dim=-2)


def loop_drops_batch_dims(inputs):
    return torch.stack([attention_scores(inputs[i], inputs) for i in range(inputs.shape[0])])


def transpose_with_T(inputs):
    return (inputs.unsqueeze(-1) * inputs.T).sum(dim=-2)


def features_not_tokens(inputs):
    columns = inputs.transpose(-2, -1)
    return dot(columns.unsqueeze(-2), columns.unsqueeze(-3))


def each_token_with_itself(inputs):
    return dot(inputs, inputs)


MISTAKES = [
    dot_mistake(
        sum_over_all_dims,
        "summed over every dimension",
        "`.sum()` with no `dim` adds up the whole tensor, so a batch of vectors collapses to one "
        "number. A dot product sums over the last dimension only: `(a * b).sum(dim=-1)`.",
    ),
    dot_mistake(
        sum_over_dim_0,
        "summed over dim 0",
        "Dim 0 is a batch dimension as soon as the inputs are batched. The vectors' entries are "
        "on the last dimension: `(a * b).sum(dim=-1)`.",
    ),
    dot_mistake(
        no_sum,
        "the elementwise product is never summed",
        "a · b = a_1 b_1 + ... + a_d b_d is one number per pair of vectors: after `a * b`, sum "
        "over the last dimension.",
    ),
    dot_mistake(
        sum_keeps_dim,
        "the summed dimension is kept",
        "With `keepdim=True` the result has a trailing dimension of size 1: (..., 1) instead of "
        "(...). Drop it: `(a * b).sum(dim=-1)`.",
    ),
    float32_cast(EXERCISE, "dot", dot, "dot_float32_cast"),
    no_gradient(EXERCISE, "dot", dot, "dot_detached"),
    scores_mistake(
        query_not_unsqueezed,
        "the query has no sequence dimension to broadcast",
        "A query (..., d) against inputs (..., n, d) lines up the query's batch dims with the "
        "tokens: right without batch dims, wrong (or an error) with them. Give the query a "
        "length-1 sequence dimension: `query.unsqueeze(-2)`.",
    ),
    scores_mistake(
        sum_over_tokens,
        "summed over the tokens instead of the features",
        "Summing over dim -2 adds up the n tokens and leaves d numbers. The score of token i is "
        "the dot product over the features, the last dimension: one number per token.",
    ),
    float32_cast(EXERCISE, "attention_scores", attention_scores, "scores_float32_cast"),
    no_gradient(EXERCISE, "attention_scores", attention_scores, "scores_detached"),
    all_mistake(
        loop_drops_batch_dims,
        "a loop over dim 0 takes the batch for the tokens",
        "`for i in range(inputs.shape[0])` walks over the tokens only when there is no batch "
        "dimension. Let broadcasting do the loop: "
        "`dot(inputs.unsqueeze(-2), inputs.unsqueeze(-3))`.",
    ),
    all_mistake(
        transpose_with_T,
        "`.T` on batched inputs",
        "`.T` reverses every dimension, so on a batch (b, n, d) it gives (d, n, b), not "
        "(b, d, n). Transpose the last two only, with `.transpose(-2, -1)` or `.mT`, or "
        "broadcast with `unsqueeze` as in `attention_scores`.",
    ),
    all_mistake(
        features_not_tokens,
        "Xᵀ X instead of X Xᵀ",
        "You compared the d features with each other (a d × d matrix). Attention scores compare "
        "tokens: ω_ij = xⁱ · xʲ for rows i and j, an n × n matrix.",
    ),
    all_mistake(
        each_token_with_itself,
        "each token is scored against itself only",
        "`dot(inputs, inputs)` pairs row i with row i and gives n numbers. ω has one score per "
        "pair (i, j): `dot(inputs.unsqueeze(-2), inputs.unsqueeze(-3))`.",
    ),
    float32_cast(EXERCISE, "all_attention_scores", all_attention_scores, "all_float32_cast"),
    no_gradient(EXERCISE, "all_attention_scores", all_attention_scores, "all_detached"),
]

PROBES = {
    "dot": [
        Probe((normal(3, seed=1), normal(3, seed=2))),
        Probe((normal(4, 3, seed=3), normal(4, 3, seed=4))),
        Probe((normal(2, 4, 3, seed=5), normal(2, 4, 3, seed=6))),
    ],
    "attention_scores": [
        Probe((normal(3, seed=11), normal(5, 3, seed=12))),
        # The batch is as long as the sequence, so an unsqueeze-less query broadcasts (wrongly).
        Probe((normal(4, 3, seed=13), normal(4, 4, 3, seed=14))),
        Probe((normal(2, 4, 3, seed=15), normal(2, 4, 4, 3, seed=16))),
    ],
    "all_attention_scores": [
        Probe((normal(5, 3, seed=21),)),
        Probe((normal(2, 4, 3, seed=22),)),
        # A cube, on which `.T` and a loop over dim 0 compute (wrong) values instead of failing.
        Probe((normal(3, 3, 3, seed=23),)),
    ],
}

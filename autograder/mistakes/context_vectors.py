"""Common mistakes in exercise 4: context_vector(weights, inputs),
simple_self_attention(inputs)."""

import math
from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "context_vectors"
context_mistake = partial(mistake, EXERCISE, "context_vector")
attention_mistake = partial(mistake, EXERCISE, "simple_self_attention")


def context_vector(weights, inputs):
    return (weights.unsqueeze(-1) * inputs).sum(dim=-2)


def simple_self_attention(inputs):
    weights = torch.softmax(inputs @ inputs.transpose(-2, -1), dim=-1)
    return weights @ inputs


def context_vector_matmul(weights, inputs):
    return weights @ inputs


def squeezes_every_size_1_dim(weights, inputs):
    return (weights.unsqueeze(-2) @ inputs).squeeze()


def sum_over_features(weights, inputs):
    return (weights.unsqueeze(-1) * inputs).sum(dim=-1)


def sum_over_dim_0(weights, inputs):
    return (weights.unsqueeze(-1) * inputs).sum(dim=0)


def mean_not_sum(weights, inputs):
    return (weights.unsqueeze(-1) * inputs).mean(dim=-2)


def xt_x_instead_of_x_xt(inputs):
    weights = torch.softmax(inputs.transpose(-2, -1) @ inputs, dim=-1)
    return inputs @ weights


def transpose_with_T(inputs):
    weights = torch.softmax(inputs @ inputs.T, dim=-1)
    return weights @ inputs


def no_softmax(inputs):
    return (inputs @ inputs.transpose(-2, -1)) @ inputs


def scaled_by_sqrt_d(inputs):
    scores = inputs @ inputs.transpose(-2, -1) / math.sqrt(inputs.shape[-1])
    return torch.softmax(scores, dim=-1) @ inputs


def softmax_over_columns(inputs):
    weights = torch.softmax(inputs @ inputs.transpose(-2, -1), dim=-2)
    return weights @ inputs


def divided_by_sum(inputs):
    scores = inputs @ inputs.transpose(-2, -1)
    weights = scores / scores.sum(dim=-1, keepdim=True)
    return weights @ inputs


def returns_weights(inputs):
    return torch.softmax(inputs @ inputs.transpose(-2, -1), dim=-1)


MISTAKES = [
    context_mistake(
        context_vector_matmul,
        "`weights @ inputs` on batched weights",
        "For one query `weights @ inputs` is the weighted sum, but batched weights (b, n) "
        "become a b × n matrix and mix every batch with every other. Scale each row and sum "
        "over the tokens: `(weights.unsqueeze(-1) * inputs).sum(dim=-2)`.",
    ),
    context_mistake(
        squeezes_every_size_1_dim,
        "`.squeeze()` drops a batch of one",
        "`(weights.unsqueeze(-2) @ inputs).squeeze()` removes every dimension of size 1, the "
        "batch of one sequence (or d = 1) too, so the shape is wrong. Name the one to remove: "
        "`.squeeze(-2)`.",
    ),
    context_mistake(
        sum_over_features,
        "summed over the features instead of the tokens",
        "z = Σ_i α_i xⁱ adds up the weighted rows, over the n tokens (dim -2), and keeps the d "
        "features. Summing over dim -1 gives one number per token instead.",
    ),
    context_mistake(
        sum_over_dim_0,
        "summed over dim 0",
        "Dim 0 is the tokens only without batch dims; with them it is the batch. The tokens are "
        "always dim -2: `.sum(dim=-2)`.",
    ),
    context_mistake(
        mean_not_sum,
        "averaged instead of summed",
        "The weights already sum to 1: the context vector is their weighted sum Σ_i α_i xⁱ. "
        "Taking the mean divides it by n once more.",
    ),
    float32_cast(EXERCISE, "context_vector", context_vector, "context_float32_cast"),
    no_gradient(EXERCISE, "context_vector", context_vector, "context_detached"),
    attention_mistake(
        xt_x_instead_of_x_xt,
        "Xᵀ X instead of X Xᵀ",
        "Xᵀ X is d × d: it compares features, not tokens. The scores are ω = X Xᵀ (n × n, "
        "ω_ij = xⁱ · xʲ), the weights softmax(ω) by row, and the context vectors A X.",
    ),
    attention_mistake(
        transpose_with_T,
        "`.T` on batched inputs",
        "`.T` reverses every dimension, so a batch (b, n, d) becomes (d, n, b), not (b, d, n). "
        "Transpose only the last two: `inputs.transpose(-2, -1)` or `inputs.mT`.",
    ),
    attention_mistake(
        no_softmax,
        "the raw scores are used as weights",
        "X Xᵀ holds scores, not weights: they do not sum to 1 and can be negative. Apply "
        "softmax along each row first: A = softmax(X Xᵀ, dim=-1), then A X.",
    ),
    attention_mistake(
        scaled_by_sqrt_d,
        "scores divided by √d",
        "Simplified self-attention has no scaling: that comes with the trainable projections "
        "of exercise 7. Here A = softmax(X Xᵀ) along each row.",
    ),
    attention_mistake(
        softmax_over_columns,
        "softmax along the wrong dimension",
        "Softmax along dim -2 makes each column sum to 1. Row i holds the scores of query i, so "
        "each row must sum to 1: `torch.softmax(scores, dim=-1)`.",
    ),
    attention_mistake(
        divided_by_sum,
        "scores divided by their sum instead of softmax",
        "Exercise 2's normalisation gives negative weights for negative scores. The weights are "
        "softmax(X Xᵀ) along each row.",
    ),
    attention_mistake(
        returns_weights,
        "returns the attention weights, not the context vectors",
        "softmax(X Xᵀ) is the n × n matrix of weights. The result is the context vectors, "
        "those weights applied to the inputs: A X, of shape (n, d).",
    ),
    float32_cast(EXERCISE, "simple_self_attention", simple_self_attention, "float32_cast"),
    no_gradient(EXERCISE, "simple_self_attention", simple_self_attention, "detached_result"),
]

PROBES = {
    "context_vector": [
        Probe((torch.softmax(normal(5, seed=1), -1), normal(5, 3, seed=2))),
        Probe((torch.softmax(normal(2, 5, seed=3), -1), normal(2, 5, 3, seed=4))),
        Probe((torch.softmax(normal(2, 4, 5, seed=5), -1), normal(2, 4, 5, 3, seed=6))),
        Probe((torch.softmax(normal(1, 5, seed=7), -1), normal(1, 5, 3, seed=8))),
    ],
    "simple_self_attention": [
        Probe((normal(5, 3, seed=11),)),
        Probe((normal(2, 5, 3, seed=12),)),
        # A cube, on which `.T` computes (wrong) values instead of failing.
        Probe((normal(3, 3, 3, seed=13),)),
    ],
}

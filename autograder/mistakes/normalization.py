"""Common mistakes in exercise 2, normalize(scores, dim=-1)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "normalization"
normalize_mistake = partial(mistake, EXERCISE, "normalize")


def right(scores, dim=-1):
    """Division by the sum along `dim`, which the mistakes depart from."""
    return scores / scores.sum(dim=dim, keepdim=True)


def sum_over_dim_0(scores, dim=-1):
    return scores / scores.sum(dim=0, keepdim=True)


def ignores_dim(scores, dim=-1):
    return scores / scores.sum(dim=-1, keepdim=True)


def no_keepdim(scores, dim=-1):
    return scores / scores.sum(dim=dim)


def sum_of_everything(scores, dim=-1):
    return scores / scores.sum()


def sum_of_magnitudes(scores, dim=-1):
    return scores / scores.abs().sum(dim=dim, keepdim=True)


def softmax_instead(scores, dim=-1):
    return torch.softmax(scores, dim=dim)


def divides_in_place(scores, dim=-1):
    scores /= scores.sum(dim=dim, keepdim=True)
    return scores


MISTAKES = [
    normalize_mistake(
        sum_over_dim_0,
        "summed along dim 0, whatever `dim` says",
        "You divide by the sums along dim 0, so it is the columns that add up to 1. Sum along "
        "the dimension the caller asks for: `scores.sum(dim=dim, keepdim=True)`.",
    ),
    normalize_mistake(
        ignores_dim,
        "the `dim` argument is ignored",
        "You always sum along the last dimension. `dim` says which dimension holds the scores "
        "of one query: `scores.sum(dim=dim, keepdim=True)`.",
    ),
    normalize_mistake(
        no_keepdim,
        "the sum loses its dimension",
        "Without `keepdim=True` the sum drops the summed dimension, so the division lines up "
        "each score with the sum of another slice (or fails). Keep it: "
        "`scores.sum(dim=dim, keepdim=True)`.",
    ),
    normalize_mistake(
        sum_of_everything,
        "divided by the sum of every score",
        "`scores.sum()` adds up the whole tensor, so no slice sums to 1 unless there is only "
        "one. Divide each score by the sum of its own slice: α_i = ω_i / Σ_j ω_j along `dim`.",
    ),
    normalize_mistake(
        sum_of_magnitudes,
        "divided by the sum of the magnitudes",
        "`F.normalize(scores, p=1)` and `scores.abs().sum(...)` divide by Σ_j |ω_j|, which is "
        "the sum only when no score is negative. Divide by the plain sum, α_i = ω_i / Σ_j ω_j: "
        "a negative score gives a negative weight, one of this normalisation's flaws.",
    ),
    normalize_mistake(
        softmax_instead,
        "softmax instead of dividing by the sum",
        "Softmax comes in the next exercise; here the weights are the scores divided by their "
        "sum, α_i = ω_i / Σ_j ω_j, flaws included.",
    ),
    float32_cast(EXERCISE, "normalize", right, "float32_cast"),
    normalize_mistake(
        divides_in_place,
        "the scores are divided in place",
        "`scores /= ...` changes the caller's tensor. Return a new tensor: "
        "`scores / scores.sum(dim=dim, keepdim=True)`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, "normalize", right, "detached_result"),
]


def _positive(*shape, seed):
    """Scores well away from summing to 0, so every mistake's division is well conditioned."""
    return normal(*shape, seed=seed).abs() + 0.5


def _mixed_signs():
    """Scores of both signs, each row's and each column's sum at least 1 away from 0."""
    rows = [[-1.0, 2.0, 1.5, 0.5], [-2.5, -1.0, 0.5, -1.5], [-1.0, -2.5, 2.0, -1.0]]
    return torch.tensor(rows, dtype=torch.float64)


PROBES = {
    "normalize": [
        Probe((_positive(3, 5, seed=1),)),
        Probe((_positive(4, 5, 6, seed=2),), {"dim": 0}),
        Probe((_positive(2, 3, 4, seed=3),), {"dim": 1}),
        Probe((_positive(4, 4, seed=4),)),
        Probe((_mixed_signs(),)),
    ],
}

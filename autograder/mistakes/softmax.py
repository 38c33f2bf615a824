"""Common mistakes in exercise 3, softmax(scores, dim=-1)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "softmax"
INF = float("inf")
softmax_mistake = partial(mistake, EXERCISE, "softmax")


def right(scores, dim=-1):
    """The stable softmax the mistakes depart from."""
    shift = scores.amax(dim=dim, keepdim=True)
    shift = torch.where(shift == -INF, 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total == 0, 1.0, total)


def fixed_dim_0(scores, dim=-1):
    return right(scores, 0)


def ignores_dim(scores, dim=-1):
    return right(scores, -1)


def no_max_shift(scores, dim=-1):
    exps = torch.exp(scores)
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total == 0, 1.0, total)


def textbook_formula(scores, dim=-1):
    exps = torch.exp(scores)
    return exps / exps.sum(dim=dim, keepdim=True)


def global_max_shift(scores, dim=-1):
    shift = scores.amax()
    shift = torch.where(shift == -INF, 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total == 0, 1.0, total)


def nan_on_fully_masked_slice(scores, dim=-1):
    exps = torch.exp(scores - scores.amax(dim=dim, keepdim=True))
    return exps / exps.sum(dim=dim, keepdim=True)


def no_keepdim(scores, dim=-1):
    exps = torch.exp(scores - scores.amax(dim=dim))
    return exps / exps.sum(dim=dim)


def no_exp(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)


def modifies_input(scores, dim=-1):
    shift = scores.amax(dim=dim, keepdim=True)
    scores -= torch.where(shift == -INF, 0.0, shift)
    exps = torch.exp(scores)
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total == 0, 1.0, total)


MISTAKES = [
    softmax_mistake(
        fixed_dim_0,
        "softmax along dim 0, whatever `dim` says",
        "You take the maximum and the sum along dim 0, so the slices that sum to 1 are the "
        "columns, not the slices along `dim`. Pass `dim=dim` to amax and sum.",
    ),
    softmax_mistake(
        ignores_dim,
        "the `dim` argument is ignored",
        "You always normalise along the last dimension. With `dim=0` the weights along dim 0 "
        "must sum to 1: pass `dim=dim` to amax and sum.",
    ),
    softmax_mistake(
        no_max_shift,
        "no max shift: large scores overflow",
        "exp(1000) is inf, and inf / inf is NaN. Subtract the largest score of each slice "
        "before exp: softmax(ω - c) = softmax(ω), and every exponent is then at most 0.",
    ),
    softmax_mistake(
        textbook_formula,
        "the formula as written: overflow, and NaN for a slice of only -inf",
        "exp(1000) is inf and inf / inf is NaN; a slice of only -inf gives 0 / 0. Subtract each "
        "slice's maximum before exp (a -inf maximum replaced by 0), and give a slice whose exps "
        "sum to 0 all-zero weights.",
    ),
    softmax_mistake(
        global_max_shift,
        "shifted by the maximum of the whole tensor",
        "Subtracting one maximum for the whole tensor leaves slices far below it with "
        "exponents like -2000, which underflow to 0. Shift each slice by its own maximum: "
        "`scores.amax(dim=dim, keepdim=True)`.",
    ),
    softmax_mistake(
        nan_on_fully_masked_slice,
        "NaN for a slice of only -inf",
        "When every score of a slice is -inf its maximum is -inf too, and -inf - (-inf) is NaN. "
        "A slice with nothing to attend to must give all-zero weights: replace a -inf maximum "
        "by 0, and divide by 1 where the sum is 0.",
    ),
    softmax_mistake(
        no_keepdim,
        "the maximum and the sum lose their dimension",
        "Without `keepdim=True`, `amax` and `sum` drop the reduced dimension, so the subtraction "
        "and the division line up with the wrong axis (or fail). Keep it: "
        "`scores.amax(dim=dim, keepdim=True)`.",
    ),
    softmax_mistake(
        no_exp,
        "the scores divided by their sum, without exp",
        "That is exercise 2's normalisation: it gives negative weights for negative scores. "
        "Softmax divides exp(ω_i) by Σ_j exp(ω_j).",
    ),
    float32_cast(EXERCISE, "softmax", right, "float32_cast"),
    softmax_mistake(
        modifies_input,
        "the scores are changed in place",
        "`scores -= shift` (or another in-place operation) changes the caller's tensor. "
        "Compute a new tensor instead: `scores - shift`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, "softmax", right, "detached_result"),
]


def _extremes():
    """Square, with ±1000 rows, -inf entries, a row of only -inf and one far below the rest."""
    return torch.tensor(
        [
            [1000.0, 999.0, -1000.0, 0.5],
            [-INF, 0.3, -INF, -1.2],
            [-INF, -INF, -INF, -INF],
            [-1000.0, -999.0, -1001.0, -998.5],
        ],
        dtype=torch.float64,
    )


PROBES = {
    "softmax": [
        Probe((normal(3, 5, seed=1, scale=3.0),)),
        Probe((normal(4, 5, 6, seed=2, scale=3.0),), {"dim": 0}),
        Probe((normal(2, 3, 4, seed=3, scale=3.0),), {"dim": 1}),
        Probe((_extremes(),)),
    ],
}

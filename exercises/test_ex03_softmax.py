"""Public checks for exercise 3, softmax: `pytest exercises/test_ex03_softmax.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import (
    call,
    expect_close,
    expect_no_forbidden_calls,
    expect_tensor,
    expect_unchanged,
)

INF = float("inf")


def test_scores_of_journey(exercise, exercise_config):
    scores = examples.tensor(examples.SCORES_2)
    what = "softmax(scores of x²)"
    weights = call(exercise.softmax, scores, what=what)
    expect_close(
        weights,
        examples.SOFTMAX_2,
        what,
        exercise_config.documents_atol,
        hint="exp of each score, divided by the sum of the exps",
    )
    expect_unchanged(examples.tensor(examples.SCORES_2), scores, what, "scores")


def test_rows_of_a_matrix(exercise, exercise_config):
    scores = torch.stack([examples.tensor(examples.SCORES_2)] * 3)  # shape (3, 6)
    what = "softmax(3 × 6 scores)"
    weights = expect_tensor(call(exercise.softmax, scores, what=what), (3, 6), what)
    expect_close(
        weights[1],
        examples.SOFTMAX_2,
        "softmax(3 × 6 scores), row 2",
        exercise_config.documents_atol,
        hint="the default dim=-1: each row sums to 1",
    )


def test_dim_argument(exercise, exercise_config):
    scores = torch.stack([examples.tensor(examples.SCORES_2)] * 3, dim=1)  # shape (6, 3)
    what = "softmax(6 × 3 scores, dim=0)"
    hint = "take the max and the sum along dim"
    weights = call(exercise.softmax, scores, dim=0, what=what, hint=hint)
    expect_tensor(weights, (6, 3), what)
    expect_close(
        weights[:, 1],
        examples.SOFTMAX_2,
        "softmax(scores, dim=0), column 2",
        exercise_config.documents_atol,
        hint=hint,
    )


def test_large_scores_stay_finite(exercise, exercise_config):
    what = "softmax([1000, 999, -1000])"
    weights = call(exercise.softmax, torch.tensor([1000.0, 999.0, -1000.0]), what=what)
    expect_close(
        weights,
        [0.7311, 0.2689, 0.0],
        what,
        exercise_config.documents_atol,
        hint="exp(1000) overflows: subtract the largest score first",
    )


def test_masked_scores(exercise, exercise_config):
    scores = torch.tensor([[1.0, -INF, 1.0], [-INF, -INF, -INF]])
    what = "softmax of [[1, -inf, 1], [-inf, -inf, -inf]]"
    weights = call(exercise.softmax, scores, what=what)
    expect_close(
        weights,
        [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]],
        what,
        exercise_config.documents_atol,
        hint="-inf gets weight 0; a row that is all -inf gets all zeros, not NaN",
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """softmax must be built from exp, max and sum, not torch's own softmax."""
    expect_no_forbidden_calls(exercise, exercise_config)

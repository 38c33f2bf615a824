"""Public checks for exercise 3, softmax: `pytest exercises/test_ex03_softmax.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import expect_close, expect_no_forbidden_calls, expect_unchanged

INF = float("inf")


def test_scores_of_journey(exercise, exercise_config):
    scores = examples.tensor(examples.SCORES_2)
    weights = exercise.softmax(scores)
    expect_close(
        weights,
        examples.SOFTMAX_2,
        "softmax(scores of x²)",
        exercise_config.documents_atol,
        hint="exp of each score, divided by the sum of the exps",
    )
    expect_unchanged(examples.tensor(examples.SCORES_2), scores, "softmax(scores of x²)")


def test_rows_of_a_matrix(exercise, exercise_config):
    scores = torch.stack([examples.tensor(examples.SCORES_2)] * 3)  # shape (3, 6)
    weights = exercise.softmax(scores)
    expect_close(
        weights[1],
        examples.SOFTMAX_2,
        "softmax(3 × 6 scores), row 2",
        exercise_config.documents_atol,
        hint="the default dim=-1: each row sums to 1",
    )


def test_dim_argument(exercise, exercise_config):
    scores = torch.stack([examples.tensor(examples.SCORES_2)] * 3, dim=1)  # shape (6, 3)
    weights = exercise.softmax(scores, dim=0)
    expect_close(
        weights[:, 1],
        examples.SOFTMAX_2,
        "softmax(scores, dim=0), column 2",
        exercise_config.documents_atol,
        hint="take the max and the sum along dim",
    )


def test_large_scores_stay_finite(exercise, exercise_config):
    weights = exercise.softmax(torch.tensor([1000.0, 999.0, -1000.0]))
    expect_close(
        weights,
        [0.7311, 0.2689, 0.0],
        "softmax([1000, 999, -1000])",
        exercise_config.documents_atol,
        hint="exp(1000) overflows: subtract the largest score first",
    )


def test_masked_scores(exercise, exercise_config):
    weights = exercise.softmax(torch.tensor([[1.0, -INF, 1.0], [-INF, -INF, -INF]]))
    expect_close(
        weights,
        [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]],
        "softmax of [[1, -inf, 1], [-inf, -inf, -inf]]",
        exercise_config.documents_atol,
        hint="-inf gets weight 0; a row that is all -inf gets all zeros, not NaN",
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """softmax must be built from exp, max and sum, not torch's own softmax."""
    expect_no_forbidden_calls(exercise, exercise_config)

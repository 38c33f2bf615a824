"""Public checks for exercise 2, normalising: `pytest exercises/test_ex02_normalization.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_tensor, expect_unchanged


def test_scores_of_journey(exercise, exercise_config):
    scores = examples.tensor(examples.SCORES_2)
    what = "normalize(scores of x²)"
    weights = call(exercise.normalize, scores, what=what)
    expect_close(
        weights,
        examples.NORMALIZED_2,
        what,
        exercise_config.documents_atol,
        hint="divide every score by the sum of all scores",
    )
    expect_unchanged(examples.tensor(examples.SCORES_2), scores, what, "scores")


def test_rows_sum_to_one(exercise, exercise_config):
    scores = examples.inputs() @ examples.inputs().T
    what = "normalize(scores) of 6 × 6 scores"
    weights = expect_tensor(call(exercise.normalize, scores, what=what), (6, 6), what)
    expect_close(
        weights.sum(dim=-1),
        torch.ones(6),
        "the row sums of normalize(scores)",
        exercise_config.documents_atol,
        hint="sum along dim, with keepdim=True to broadcast",
    )


def test_dim_argument(exercise, exercise_config):
    scores = examples.inputs() @ examples.inputs().T
    what = "normalize(scores, dim=0) of 6 × 4 scores"
    hint = "use the dim argument, not a fixed -1"
    weights = call(exercise.normalize, scores[:, :4], dim=0, what=what, hint=hint)
    expect_tensor(weights, (6, 4), what)
    expect_close(
        weights.sum(dim=0),
        torch.ones(4),
        "the column sums of normalize(scores, dim=0)",
        exercise_config.documents_atol,
        hint=hint,
    )

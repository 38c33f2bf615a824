"""Public checks for exercise 2, normalising: `pytest exercises/test_ex02_normalization.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import expect_close, expect_unchanged


def test_scores_of_journey(exercise, exercise_config):
    scores = examples.tensor(examples.SCORES_2)
    weights = exercise.normalize(scores)
    expect_close(
        weights,
        examples.NORMALIZED_2,
        "normalize(scores of x²)",
        exercise_config.documents_atol,
        hint="divide every score by the sum of all scores",
    )
    expect_unchanged(examples.tensor(examples.SCORES_2), scores, "normalize(scores of x²)")


def test_rows_sum_to_one(exercise, exercise_config):
    scores = examples.inputs() @ examples.inputs().T
    weights = exercise.normalize(scores)
    expect_close(
        weights.sum(dim=-1),
        torch.ones(6),
        "the row sums of normalize(scores)",
        exercise_config.documents_atol,
        hint="sum along dim, with keepdim=True to broadcast",
    )


def test_dim_argument(exercise, exercise_config):
    scores = examples.inputs() @ examples.inputs().T
    weights = exercise.normalize(scores[:, :4], dim=0)
    expect_close(
        weights.sum(dim=0),
        torch.ones(4),
        "the column sums of normalize(scores, dim=0)",
        exercise_config.documents_atol,
        hint="use the dim argument, not a fixed -1",
    )

"""Public checks for exercise 1, dot-product scores: `pytest exercises/test_ex01_dot_scores.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import expect_close, expect_no_forbidden_calls, expect_tensor

QUERY = examples.QUERY_INDEX


def test_dot_of_two_tokens(exercise, exercise_config):
    inputs = examples.inputs()
    score = exercise.dot(inputs[0], inputs[QUERY])
    expect_close(
        score,
        examples.SCORES_2[0],
        "dot(x¹, x²)",
        exercise_config.documents_atol,
        hint="0.43*0.55 + 0.15*0.87 + 0.89*0.66: multiply elementwise, then sum",
    )


def test_dot_works_on_batches(exercise, exercise_config):
    inputs = examples.inputs()
    scores = exercise.dot(inputs, inputs[QUERY].expand(6, 3))
    expect_close(
        scores,
        examples.SCORES_2,
        "dot of 6 pairs of rows at once",
        exercise_config.documents_atol,
        hint="sum over the last dimension only (dim=-1)",
    )


def test_scores_of_journey(exercise, exercise_config):
    inputs = examples.inputs()
    scores = exercise.attention_scores(inputs[QUERY], inputs)
    expect_close(
        scores, examples.SCORES_2, "attention_scores(x², inputs)", exercise_config.documents_atol
    )


def test_all_scores(exercise, exercise_config):
    inputs = examples.inputs()
    scores = expect_tensor(
        exercise.all_attention_scores(inputs), (6, 6), "all_attention_scores(inputs)"
    )
    expect_close(
        scores[QUERY],
        examples.SCORES_2,
        "row 2 of all_attention_scores(inputs)",
        exercise_config.documents_atol,
    )
    expect_close(
        scores,
        scores.T,
        "all_attention_scores(inputs) against its transpose",
        exercise_config.documents_atol,
        hint="x^i · x^j = x^j · x^i: the matrix is symmetric",
    )


def test_all_scores_keep_batch_dims(exercise, exercise_config):
    batch = torch.stack([examples.inputs(), examples.inputs().flip(0)])
    scores = expect_tensor(
        exercise.all_attention_scores(batch),
        (2, 6, 6),
        "all_attention_scores on a batch of 2 sequences",
        hint="index from the end (-1, -2) so leading batch dims pass through",
    )
    expect_close(
        scores[0, QUERY],
        examples.SCORES_2,
        "row 2 of the first sequence's scores",
        exercise_config.documents_atol,
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """dot must be built from * and sum, not torch.dot, matmul, @ or einsum."""
    expect_no_forbidden_calls(exercise, exercise_config)

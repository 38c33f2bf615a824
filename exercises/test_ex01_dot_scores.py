"""Public checks for exercise 1, dot-product scores: `pytest exercises/test_ex01_dot_scores.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

QUERY = examples.QUERY_INDEX


def test_dot_of_two_tokens(exercise, exercise_config):
    inputs = examples.inputs()
    what = "dot(x¹, x²)"
    hint = "0.43*0.55 + 0.15*0.87 + 0.89*0.66: multiply elementwise, then sum"
    score = call(exercise.dot, inputs[0], inputs[QUERY], what=what)
    expect_tensor(score, (), what, hint=hint)
    expect_close(score, examples.SCORES_2[0], what, exercise_config.documents_atol, hint=hint)


def test_dot_works_on_batches(exercise, exercise_config):
    inputs = examples.inputs()
    what = "dot of 6 pairs of rows at once"
    hint = "sum over the last dimension only (dim=-1)"
    scores = call(exercise.dot, inputs, inputs[QUERY].expand(6, 3), what=what, hint=hint)
    expect_tensor(scores, (6,), what, hint=hint)
    expect_close(scores, examples.SCORES_2, what, exercise_config.documents_atol)


def test_scores_of_journey(exercise, exercise_config):
    inputs = examples.inputs()
    what = "attention_scores(x², inputs)"
    scores = call(exercise.attention_scores, inputs[QUERY], inputs, what=what)
    expect_close(scores, examples.SCORES_2, what, exercise_config.documents_atol)


def test_all_scores(exercise, exercise_config):
    inputs = examples.inputs()
    what = "all_attention_scores(inputs)"
    scores = expect_tensor(call(exercise.all_attention_scores, inputs, what=what), (6, 6), what)
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
    what = "all_attention_scores on a batch of 2 sequences"
    hint = "index from the end (-1, -2) so leading batch dims pass through"
    scores = call(exercise.all_attention_scores, batch, what=what, hint=hint)
    expect_tensor(scores, (2, 6, 6), what, hint=hint)
    expect_close(
        scores[0, QUERY],
        examples.SCORES_2,
        "row 2 of the first sequence's scores",
        exercise_config.documents_atol,
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """dot must be built from * and sum, not torch.dot, matmul, @ or einsum."""
    expect_no_forbidden_calls(exercise, exercise_config)

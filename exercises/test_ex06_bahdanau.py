"""Public checks for exercise 6, Bahdanau attention: `pytest exercises/test_ex06_bahdanau.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import expect_close


def test_additive_scores(exercise, exercise_config):
    scores = exercise.additive_scores(*examples.bahdanau_example().args)
    expect_close(
        scores,
        examples.BAHDANAU_SCORES,
        "additive_scores(s, H, W1, W2, v)",
        exercise_config.documents_atol,
        hint="score_i = tanh(s @ W1 + h_i @ W2) · v",
    )


def test_context_and_weights(exercise, exercise_config):
    context, weights = exercise.bahdanau_attention(*examples.bahdanau_example().args)
    expect_close(
        weights,
        examples.BAHDANAU_WEIGHTS,
        "the weights from bahdanau_attention",
        exercise_config.documents_atol,
        hint="softmax of the scores over the N encoder states",
    )
    expect_close(
        context,
        examples.BAHDANAU_CONTEXT,
        "the context from bahdanau_attention",
        exercise_config.documents_atol,
        hint="the weighted sum of the rows of H",
    )


def test_batch_of_decoder_states(exercise, exercise_config):
    s, H, W1, W2, v = examples.bahdanau_example().args
    context, weights = exercise.bahdanau_attention(s.expand(4, 2), H.expand(4, 5, 3), W1, W2, v)
    expect_close(
        weights.sum(dim=-1),
        torch.ones(4),
        "the weights' sums for a batch of 4",
        exercise_config.documents_atol,
        hint="softmax along the last dim",
    )
    expect_close(
        context[3],
        examples.BAHDANAU_CONTEXT,
        "the 4th context of the batch",
        exercise_config.documents_atol,
    )

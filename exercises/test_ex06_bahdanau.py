"""Public checks for exercise 6, Bahdanau attention: `pytest exercises/test_ex06_bahdanau.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_tensor


def test_additive_scores(exercise, exercise_config):
    what = "additive_scores(s, H, W1, W2, v)"
    hint = "score_i = tanh(s @ W1 + h_i @ W2) · v"
    scores = call(exercise.additive_scores, *examples.bahdanau_example().args, what=what, hint=hint)
    expect_close(scores, examples.BAHDANAU_SCORES, what, exercise_config.documents_atol, hint=hint)


def test_context_and_weights(exercise, exercise_config):
    context, weights = call(
        exercise.bahdanau_attention,
        *examples.bahdanau_example().args,
        what="bahdanau_attention(s, H, W1, W2, v)",
        returns=("context", "weights"),
    )
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
    context, weights = call(
        exercise.bahdanau_attention,
        s.expand(4, 2),
        H.expand(4, 5, 3),
        W1,
        W2,
        v,
        what="bahdanau_attention for a batch of 4 decoder states",
        hint="s @ W1 needs a length-1 dim to broadcast against the N rows of H @ W2",
        returns=("context", "weights"),
    )
    expect_tensor(weights, (4, 5), "the weights for a batch of 4")
    expect_tensor(context, (4, 3), "the context for a batch of 4")
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

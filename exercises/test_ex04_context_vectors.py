"""Public checks for exercise 4, context: `pytest exercises/test_ex04_context_vectors.py`."""

from autograder.course import examples
from autograder.student.checks import expect_close, expect_tensor


def test_context_of_journey(exercise, exercise_config):
    weights = examples.tensor(examples.SOFTMAX_2)
    context = exercise.context_vector(weights, examples.inputs())
    expect_close(
        context,
        examples.CONTEXT_2,
        "context_vector(softmax weights of x², inputs)",
        exercise_config.documents_atol,
        hint="z = Σ_i α_i x^i: scale each row, sum over rows",
    )


def test_simple_self_attention(exercise, exercise_config):
    contexts = expect_tensor(
        exercise.simple_self_attention(examples.inputs()), (6, 3), "simple_self_attention(inputs)"
    )
    expect_close(
        contexts[examples.QUERY_INDEX],
        examples.CONTEXT_2,
        "row 2 of simple_self_attention(inputs)",
        exercise_config.documents_atol,
        hint="softmax(X Xᵀ) along each row, then multiply by X; no scaling",
    )


def test_simple_self_attention_on_a_batch(exercise, exercise_config):
    batch = examples.inputs().expand(2, 6, 3)
    contexts = expect_tensor(
        exercise.simple_self_attention(batch),
        (2, 6, 3),
        "simple_self_attention on a batch of 2 sequences",
        hint="transpose the last two dims only: .transpose(-2, -1), not .T",
    )
    expect_close(
        contexts[1, examples.QUERY_INDEX],
        examples.CONTEXT_2,
        "row 2 of the second sequence",
        exercise_config.documents_atol,
    )

"""Public checks for exercise 4, context: `pytest exercises/test_ex04_context_vectors.py`."""

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_tensor


def test_context_of_journey(exercise, exercise_config):
    weights = examples.tensor(examples.SOFTMAX_2)
    what = "context_vector(softmax weights of x², inputs)"
    hint = "z = Σ_i α_i x^i: scale each row, sum over rows"
    context = call(exercise.context_vector, weights, examples.inputs(), what=what, hint=hint)
    expect_tensor(context, (3,), what, hint=hint)
    expect_close(context, examples.CONTEXT_2, what, exercise_config.documents_atol, hint=hint)


def test_simple_self_attention(exercise, exercise_config):
    what = "simple_self_attention(inputs)"
    contexts = call(exercise.simple_self_attention, examples.inputs(), what=what)
    expect_tensor(contexts, (6, 3), what)
    expect_close(
        contexts[examples.QUERY_INDEX],
        examples.CONTEXT_2,
        "row 2 of simple_self_attention(inputs)",
        exercise_config.documents_atol,
        hint="softmax(X Xᵀ) along each row, then multiply by X; no scaling",
    )


def test_simple_self_attention_on_a_batch(exercise, exercise_config):
    batch = examples.inputs().expand(2, 6, 3)
    what = "simple_self_attention on a batch of 2 sequences"
    hint = "transpose the last two dims only: .transpose(-2, -1), not .T"
    contexts = call(exercise.simple_self_attention, batch, what=what, hint=hint)
    expect_tensor(contexts, (2, 6, 3), what, hint=hint)
    expect_close(
        contexts[1, examples.QUERY_INDEX],
        examples.CONTEXT_2,
        "row 2 of the second sequence",
        exercise_config.documents_atol,
    )

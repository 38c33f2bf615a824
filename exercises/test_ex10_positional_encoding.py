"""Public checks for exercise 10, positional encoding:
`pytest exercises/test_ex10_positional_encoding.py`."""

import math

import pytest
import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_tensor, expect_unchanged

# sinusoidal_positions(3, 5), rounded to four decimals: d = 5 is odd, so the last feature is a sine.
TABLE_3_5 = (
    (0.0000, 1.0000, 0.0000, 1.0000, 0.0000),
    (0.8415, 0.5403, 0.0251, 0.9997, 0.0006),
    (0.9093, -0.4161, 0.0502, 0.9987, 0.0013),
)
SWAPPED = [0, 5, 2, 3, 4, 1]  # "Your step starts with one journey": "journey" moves to the end


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def self_attention(X):
    """Simplified self-attention without weights: softmax(X Xᵀ / √d) X."""
    return torch.softmax(X @ X.mT / math.sqrt(X.shape[-1]), dim=-1) @ X


def test_a_small_table(exercise, exercise_config):
    what = "sinusoidal_positions(3, 5)"
    P = call(exercise.sinusoidal_positions, 3, 5, what=what)
    expect_tensor(P, (3, 5), what, hint="one row per position", dtype_from=None)
    expect_close(
        P,
        TABLE_3_5,
        what,
        exercise_config.documents_atol,
        hint="P[pos, 2i] = sin(pos / 10000 ** (2i / d)), P[pos, 2i + 1] = cos(the same angle); "
        "positions start at 0",
    )


def test_adding_a_longer_table_to_the_sentence(exercise, exercise_config):
    what = "sinusoidal_positions(10, 3)"  # built for up to 10 tokens, used for 6
    P = call(exercise.sinusoidal_positions, 10, 3, what=what)
    expect_tensor(P, (10, 3), what, dtype_from=None)
    inputs = examples.inputs()
    hint = "add the first n = X.shape[-2] rows of P"
    for X in (inputs, inputs.expand(2, 6, 3)):
        what = f"add_positions of a {tuple(X.shape)} input and a (10, 3) table"
        positioned = call(exercise.add_positions, X, P, what=what, hint=hint)
        expect_tensor(positioned, tuple(X.shape), what)
        expect_close(positioned, X + P[:6], what, exercise_config.documents_atol, hint=hint)
    expect_unchanged(examples.inputs(), inputs, "add_positions of the sentence", "X")


def test_the_embeddings_dtype_is_kept(exercise):
    what = "sinusoidal_positions(6, 3)"
    P = call(exercise.sinusoidal_positions, 6, 3, what=what)
    expect_tensor(P, (6, 3), what, hint="the table is float32", dtype_from=None)
    for dtype, table in ((torch.float64, P), (torch.float32, P.double())):
        what = f"add_positions of {_name(dtype)} embeddings and a {_name(table.dtype)} table"
        positioned = call(exercise.add_positions, examples.inputs().to(dtype), table, what=what)
        expect_tensor(
            positioned,
            (6, 3),
            what,
            dtype=dtype,
            hint="X + P takes the wider of the two dtypes: the result keeps X's",
            dtype_from="X's",
        )


def test_positions_make_self_attention_order_aware(exercise):
    """Self-attention alone is permutation-equivariant: moving "journey" to the end only moves
    its output. With positions added, its output depends on where it stands."""
    inputs = examples.inputs()
    moved = self_attention(inputs[SWAPPED])
    expect_close(moved, self_attention(inputs)[SWAPPED], "self-attention without positions", 1e-6)
    what = "sinusoidal_positions(6, 3)"
    P = call(exercise.sinusoidal_positions, 6, 3, what=what)
    expect_tensor(P, (6, 3), what, dtype_from=None)
    what = "add_positions of the sentence"
    positioned = call(exercise.add_positions, inputs, P, what=what)
    before = self_attention(expect_tensor(positioned, (6, 3), what))[1]
    what = "add_positions of the sentence with 'journey' moved to the end"
    positioned = call(exercise.add_positions, inputs[SWAPPED], P, what=what)
    after = self_attention(expect_tensor(positioned, (6, 3), what))[5]
    if torch.allclose(before, after, atol=1e-3):
        pytest.fail(
            "with your positions, the output of 'journey' is the same at position 1 and at "
            "position 5: self-attention still cannot tell the order\n"
            "  hint: every position needs its own row of P, and add_positions must add it",
            pytrace=False,
        )

"""Hidden suite for exercise 10: sinusoidal_positions(n, d) and add_positions(X, P).

Tables come in several sizes, with odd as well as even d (the documents' embeddings are 3-d),
and at most 100 positions: beyond that, the float32 angles of equally right formulas drift apart
by more than the float32 tolerance. Random sequences have n = 5 tokens of size d = 6 and get a
table of MAX_LEN = 8 rows, built once for a longer sequence, so adding all of P, or taking n
from the wrong dim, cannot pass.
"""

import math

import pytest
import torch

from autograder.course import examples
from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    fail,
    gradients_agree,
    inputs_unchanged,
    same_tensor,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

TABLE, ADD = "sinusoidal_positions", "add_positions"
N, D, MAX_LEN = 5, 6, 8
BATCHES = ((), (2,), (2, 7))
SIZES = ((1, 1), (1, 4), (6, 3), (7, 6), (4, 7), (2, 2))  # (n, d)


def table(n=MAX_LEN, d=D, dtype=torch.float64):
    """A table of sines and cosines computed here, so add_positions is judged on its own."""
    feature = torch.arange(d, dtype=torch.float64)
    angles = torch.arange(n, dtype=torch.float64).unsqueeze(-1) / 10000 ** (
        (feature - feature % 2) / d
    )
    return torch.where(feature % 2 == 0, angles.sin(), angles.cos()).to(dtype)


def arguments(batch=(), *, seed, dtype=torch.float64, table_dtype=None, n=N, rows=MAX_LEN):
    return normal(*batch, n, D, seed=seed, dtype=dtype), table(rows, dtype=table_dtype or dtype)


def describe(args):
    return describe_call(ADD, ("X", "P"), args)


def attend(X):
    """Simplified self-attention, softmax(X Xᵀ / √d) X: no weights, no positions of its own."""
    return torch.softmax(X @ X.mT / math.sqrt(X.shape[-1]), dim=-1) @ X


def check_table(student, reference, exercise_config, n, d):
    """The student's table is float32, PyTorch's default dtype, and agrees with the reference's."""
    what = f"{TABLE}({n}, {d})"
    actual = student.call(TABLE, n, d).value
    if isinstance(actual, torch.Tensor) and actual.dtype != torch.float32:
        fail(f"{what}: returned dtype {actual.dtype}, expected torch.float32 (the table's dtype)")
    expected = reference.call(TABLE, n, d).value
    same_tensor(actual, expected, tolerance_for(exercise_config, torch.float32), what)


def test_tables_of_several_sizes(student, reference, exercise_config):
    for n, d in SIZES:
        check_table(student, reference, exercise_config, n, d)


def test_a_table_for_100_positions(student, reference, exercise_config):
    for n, d in ((100, 32), (100, 15)):
        check_table(student, reference, exercise_config, n, d)


def test_documents_sentence(student, reference, exercise_config):
    """The 6 × 3 embeddings of "Your journey starts with one step", with a table of 10 rows."""
    args = (examples.inputs(), table(10, 3, torch.float32))
    agrees(student, reference, exercise_config, ADD, *args, what=f"{describe(args)} (the sentence)")


@pytest.mark.parametrize("batch", BATCHES, ids=lambda batch: f"{len(batch)}-batch-dims")
def test_leading_batch_dims(student, reference, exercise_config, batch):
    args = arguments(batch, seed=len(batch))
    agrees(student, reference, exercise_config, ADD, *args, what=describe(args))


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    args = arguments((3,), seed=10)
    batch_consistent(student, reference, exercise_config, ADD, args, batched=1, describe=describe)


def test_a_table_of_exactly_n_rows_and_a_single_token(student, reference, exercise_config):
    for args in (arguments((2,), seed=20, rows=N), arguments((2,), seed=21, n=1)):
        agrees(student, reference, exercise_config, ADD, *args, what=describe(args))


def test_the_embeddings_dtype_is_kept(student, reference, exercise_config):
    for dtype, table_dtype in (
        (torch.float32, torch.float64),
        (torch.float64, torch.float32),
        (torch.float32, torch.float32),
    ):
        args = arguments((2,), seed=30, dtype=dtype, table_dtype=table_dtype)
        what = f"{describe(args)} and a {str(table_dtype).removeprefix('torch.')} table"
        agrees(student, reference, exercise_config, ADD, *args, what=what)


def test_gradients(student, reference, exercise_config):
    for seed, args in enumerate((arguments((2,), seed=40), arguments((2, 7), seed=41, rows=N))):
        gradients_agree(
            student, reference, exercise_config, ADD, args, seed=seed, what=describe(args)
        )


def test_inputs_unchanged(student, reference):
    for args in (arguments((2,), seed=50), arguments(seed=51, rows=N)):
        inputs_unchanged(student, reference, ADD, *args, what=describe(args))


def test_positions_make_self_attention_order_aware(student):
    """Self-attention is permutation-equivariant: with a table of zeros, permuting the tokens
    only permutes the outputs. With the student's own table it must change more than that."""
    X, order = normal(N, D, seed=60), [3, 0, 4, 1, 2]
    made = f"{TABLE}({MAX_LEN}, {D})"
    table_ = _checked(student.sinusoidal_positions(MAX_LEN, D), (MAX_LEN, D), made)
    for P, name, equivariant in ((torch.zeros_like(table_), "zeros", True), (table_, made, False)):
        what = f"self-attention of {ADD}(X, P) for X ({N}, {D}) and P = {name}"
        before, after = (_checked(student.add_positions(Y, P), (N, D), what) for Y in (X, X[order]))
        if torch.allclose(attend(after), attend(before)[order]) != equivariant:
            if equivariant:
                fail(f"{what}: permuting the tokens changes more than the order of the outputs")
            fail(f"{what}: permuting the tokens only permutes the outputs, the positions are lost")


def _checked(value, shape, what):
    """`value` in float64, once it is known to be a finite floating-point tensor of this shape
    (a NaN would make every comparison below fail, and so look order-aware)."""
    if not isinstance(value, torch.Tensor) or not value.is_floating_point():
        fail(f"{what}: expected a floating-point torch.Tensor")
    if value.shape != shape:
        fail(f"{what}: returned shape {tuple(value.shape)}, expected {shape}")
    if not torch.isfinite(value).all():
        fail(f"{what}: the result contains NaN or infinity")
    return value.double()

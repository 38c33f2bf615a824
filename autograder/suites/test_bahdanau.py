"""Hidden suite for exercise 6: additive_scores(s, H, W1, W2, v), bahdanau_attention(...).

Random inputs have a decoder state of size d_dec = 3, N = 6 encoder states of size d_enc = 5 and
an attention space of size d_attn = 4, with batch dims (2,) or (2, 7): all unequal, so a swapped
projection or a softmax over the wrong dim cannot pass by coincidence.
"""

import pytest
import torch

from autograder.course import examples
from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    documents_tolerance,
    gradients_agree,
    inputs_unchanged,
    same_result,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

FUNCTIONS = ("additive_scores", "bahdanau_attention")
NAMES = ("s", "H", "W1", "W2", "v")
D_DEC, D_ENC, D_ATTN, N = 3, 5, 4, 6
BATCHES = ((), (2,), (2, 7))


def arguments(batch=(), *, seed, dtype=torch.float64, n=N, projection=0.7, v_scale=1.0):
    """(s, H, W1, W2, v) with the leading batch dims `batch` on s and H."""
    shapes = [(*batch, D_DEC), (*batch, n, D_ENC), (D_DEC, D_ATTN), (D_ENC, D_ATTN), (D_ATTN,)]
    scales = [1.0, 1.0, projection, projection, v_scale]
    return tuple(
        normal(*shape, seed=seed + 100 * i, dtype=dtype, scale=s)
        for i, (shape, s) in enumerate(zip(shapes, scales, strict=True))
    )


def describe(function, args):
    return describe_call(function, NAMES, args)


def test_course_example(student, reference, exercise_config):
    args = examples.bahdanau_example().args
    printed = documents_tolerance(exercise_config)
    tight = tolerance_for(exercise_config, torch.float32)
    scores = examples.tensor(examples.BAHDANAU_SCORES)
    context = examples.tensor(examples.BAHDANAU_CONTEXT)
    weights = examples.tensor(examples.BAHDANAU_WEIGHTS)
    for function, documented in (
        ("additive_scores", scores),
        ("bahdanau_attention", (context, weights)),
    ):
        what = f"{function} on the course's example"
        actual = student.call(function, *args).value
        same_result(actual, reference.call(function, *args).value, tight, what)
        same_result(actual, documented, printed, f"{what}, the printed values")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_leading_batch_dims(student, reference, exercise_config, function):
    for seed, batch in enumerate(BATCHES):
        args = arguments(batch, seed=seed)
        what = f"{describe(function, args)} ({len(batch)} leading batch dims)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    args = arguments((2,), seed=10)
    for function in FUNCTIONS:
        batch_consistent(
            student,
            reference,
            exercise_config,
            function,
            args,
            batched=2,
            describe=lambda a, f=function: describe(f, a),
        )


def test_float32_input(student, reference, exercise_config):
    args = arguments((2,), seed=20, dtype=torch.float32)
    for function in FUNCTIONS:
        agrees(student, reference, exercise_config, function, *args, what=describe(function, args))


def test_saturating_tanh_and_large_scores(student, reference, exercise_config):
    """Large projections saturate tanh; a large v gives scores in the hundreds."""
    args = arguments((2,), seed=30, projection=300.0, v_scale=400.0)
    for function in FUNCTIONS:
        what = f"{describe(function, args)} with large weights (tanh saturates)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_single_encoder_state(student, reference, exercise_config):
    for batch in ((), (2,)):
        args = arguments(batch, seed=40, n=1)
        for function in FUNCTIONS:
            what = f"{describe(function, args)} (one encoder state)"
            agrees(student, reference, exercise_config, function, *args, what=what)


def test_a_batch_of_one(student, reference, exercise_config):
    """A leading dim of size 1 must stay: `.squeeze()` without a dim drops it."""
    args = arguments((1,), seed=70)
    for function in FUNCTIONS:
        what = f"{describe(function, args)} (a batch of one decoder state)"
        agrees(student, reference, exercise_config, function, *args, what=what)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_gradients(student, reference, exercise_config, function):
    args = arguments((2,), seed=50)
    gradients_agree(
        student, reference, exercise_config, function, args, seed=51, what=describe(function, args)
    )


def test_inputs_unchanged(student, reference):
    args = arguments((2,), seed=60)
    for function in FUNCTIONS:
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))

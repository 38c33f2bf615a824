"""Hidden suite for exercise 5: rnn_step(x_t, h_prev, ...), rnn_forward(xs, h0, ...).

Random networks have d_in = 5 inputs, d_h = 4 hidden units and d_out = 3 outputs, read T = 6
steps, with batch dims (2,) or (2, 7): all unequal, so a transposed or swapped weight cannot give
the right shape, and W_hh is never symmetric.
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
    no_forbidden_calls,
    same_result,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

FUNCTIONS = ("rnn_step", "rnn_forward")
NAMES = {
    "rnn_step": ("x_t", "h_prev", "W_xh", "W_hh", "b_h", "W_hy", "b_y"),
    "rnn_forward": ("xs", "h0", "W_xh", "W_hh", "b_h", "W_hy", "b_y"),
}
D_IN, D_H, D_OUT, T = 5, 4, 3, 6
BATCHES = ((), (2,), (2, 7))


def arguments(function, batch=(), *, seed, dtype=torch.float64, scale=0.6, steps=T):
    """Inputs, a nonzero initial state and random weights (scaled by `scale`) for `function`."""
    inputs = (*batch, D_IN) if function == "rnn_step" else (*batch, steps, D_IN)
    shapes = [inputs, (*batch, D_H), (D_IN, D_H), (D_H, D_H), (D_H,), (D_H, D_OUT), (D_OUT,)]
    scales = [1.0, 0.5, scale, scale, scale, 1.0, 1.0]
    return tuple(
        normal(*shape, seed=seed + 100 * i, dtype=dtype, scale=s)
        for i, (shape, s) in enumerate(zip(shapes, scales, strict=True))
    )


def describe(function, args):
    return describe_call(function, NAMES[function], args)


def test_course_example(student, reference, exercise_config):
    rnn = examples.rnn_example()
    printed = documents_tolerance(exercise_config)
    tight = tolerance_for(exercise_config, torch.float32)
    for function, args, documented, pick in (
        (
            "rnn_step",
            (rnn.xs[0], rnn.h0, *rnn.weights),
            (examples.tensor(examples.RNN_H_1), examples.tensor(examples.RNN_Y_1)),
            lambda hy: hy,
        ),
        (
            "rnn_forward",
            (rnn.xs, rnn.h0, *rnn.weights),
            (examples.tensor(examples.RNN_H_LAST), examples.tensor(examples.RNN_YS)),
            lambda hy: (hy[0][-1], hy[1]),
        ),
    ):
        what = f"{function} on the course's example network"
        actual = student.call(function, *args).value
        same_result(actual, reference.call(function, *args).value, tight, what)
        same_result(pick(actual), documented, printed, f"{what}, the printed values")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_leading_batch_dims(student, reference, exercise_config, function):
    for seed, batch in enumerate(BATCHES):
        args = arguments(function, batch, seed=seed)
        what = f"{describe(function, args)} ({len(batch)} leading batch dims)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=10)
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
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=20, dtype=torch.float32)
        agrees(student, reference, exercise_config, function, *args, what=describe(function, args))


def test_saturating_tanh(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=30, scale=400.0)
        what = f"{describe(function, args)} with large weights (tanh saturates)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_single_time_step(student, reference, exercise_config):
    for batch in ((), (2,)):
        args = arguments("rnn_forward", batch, seed=40, steps=1)
        what = f"{describe('rnn_forward', args)} (a sequence of one step)"
        agrees(student, reference, exercise_config, "rnn_forward", *args, what=what)


def test_initial_state_is_used(student, reference, exercise_config):
    """Same sequence in every batch item, different h0 each: the states must differ."""
    xs, _, *weights = arguments("rnn_forward", seed=50, steps=3)
    h0 = normal(2, D_H, seed=51, scale=2.0)
    h0[0] = 0.0
    for function, args in (
        ("rnn_forward", (xs.repeat(2, 1, 1), h0, *weights)),
        ("rnn_step", (xs[0].repeat(2, 1), h0, *weights)),
    ):
        what = f"{describe(function, args)} with a different h0 per batch item"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_a_batch_of_one(student, reference, exercise_config):
    """A leading dim of size 1 must stay: `.squeeze()` without a dim drops it."""
    for function in FUNCTIONS:
        args = arguments(function, (1,), seed=90)
        what = f"{describe(function, args)} (a batch of one sequence)"
        agrees(student, reference, exercise_config, function, *args, what=what)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_gradients(student, reference, exercise_config, function):
    args = arguments(function, (2,), seed=60, steps=3)
    gradients_agree(
        student, reference, exercise_config, function, args, seed=61, what=describe(function, args)
    )


def test_inputs_unchanged(student, reference):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=70)
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once every function runs, so a stub or a module that does not import earns nothing."""
    for function in FUNCTIONS:
        student.call(function, *arguments(function, seed=80))
    no_forbidden_calls(submission_source, exercise_config)

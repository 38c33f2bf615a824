"""Hidden suite for exercise 13: accuracy_by_position(logits, targets) and
gradient_norms_through_time(hs, W_hh).

Random logits cover T = 5 positions of a vocabulary of 9, with targets that match the argmax at
about two positions in three, so every position's accuracy is a fraction, not just 0 or 1.
Random RNN states have T = 6 steps of d_h = 4 units, W_hh is never symmetric, and batch dims are
(2,) or (2, 7): a mean over the wrong dims, a transposed W_hh or a product in the wrong order
cannot pass.
"""

import math

import pytest
import torch

from autograder.course import examples
from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    gradients_agree,
    inputs_unchanged,
    same_result,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

ACCURACY, NORMS = "accuracy_by_position", "gradient_norms_through_time"
FUNCTIONS = (ACCURACY, NORMS)
NAMES = {ACCURACY: ("logits", "targets"), NORMS: ("hs", "W_hh")}
T, VOCAB = 5, 9  # accuracy_by_position
STEPS, D_H = 6, 4  # gradient_norms_through_time
BATCHES = ((), (2,), (2, 7))


def predictions(batch=(), *, seed, dtype=torch.float64, length=T, hit=0.6):
    """Logits, and targets equal to their argmax where a seeded uniform draw is below `hit`."""
    logits = normal(*batch, length, VOCAB, seed=seed, dtype=dtype)
    predicted = logits.argmax(dim=-1)
    generator = torch.Generator().manual_seed(seed + 1)
    hits = torch.rand(*batch, length, generator=generator) < hit
    return logits, torch.where(hits, predicted, (predicted + 1 + seed % 3) % VOCAB)


def rnn_states(batch=(), *, seed, dtype=torch.float64, steps=STEPS, spread=1.0, scale=0.8):
    """States tanh(spread · noise), which saturate as `spread` grows, and W_hh times `scale`."""
    hs = torch.tanh(normal(*batch, steps, D_H, seed=seed, dtype=dtype, scale=spread))
    return hs, normal(D_H, D_H, seed=seed + 1, dtype=dtype, scale=scale)


def arguments(function, batch=(), *, seed, dtype=torch.float64):
    if function == ACCURACY:
        return predictions(batch, seed=seed, dtype=dtype)
    return rnn_states(batch, seed=seed, dtype=dtype)


def describe(function, args):
    return describe_call(function, NAMES[function], args)


def check(student, reference, exercise, function, args, what=""):
    return agrees(
        student, reference, exercise, function, *args, what=f"{describe(function, args)}{what}"
    )


def test_the_course_rnn(student, reference, exercise_config):
    """The states of the course's example RNN (exercise 5) over its 5 inputs."""
    rnn = examples.rnn_example()
    h, states = rnn.h0, []
    for x_t in rnn.xs:
        h = torch.tanh(x_t @ rnn.W_xh + h @ rnn.W_hh + rnn.b_h)
        states.append(h)
    args = (torch.stack(states), rnn.W_hh)
    same_result(
        student.call(NORMS, *args).value,
        reference.call(NORMS, *args).value,
        tolerance_for(exercise_config, torch.float32),
        f"{NORMS} on the course's example RNN",
    )


@pytest.mark.parametrize("function", FUNCTIONS)
def test_leading_batch_dims(student, reference, exercise_config, function):
    for seed, batch in enumerate(BATCHES):
        args = arguments(function, batch, seed=seed)
        check(student, reference, exercise_config, function, args, f" ({len(batch)} batch dims)")


def test_float32_input(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=10, dtype=torch.float32)
        check(student, reference, exercise_config, function, args)


def test_accuracy_when_all_right_or_all_wrong(student, reference, exercise_config):
    for hit, batch, length in ((1.0, (3,), T), (0.0, (3,), T), (0.5, (4, 2), 1)):
        args = predictions(batch, seed=20, length=length, hit=hit)
        what = f" (a share {hit} of the targets match the argmax)"
        check(student, reference, exercise_config, ACCURACY, args, what)


def test_single_time_step(student, reference, exercise_config):
    """One state: the only entry is the identity's norm."""
    for batch in ((), (2,)):
        args = rnn_states(batch, seed=30, steps=1)
        check(student, reference, exercise_config, NORMS, args, " (a sequence of one step)")


def test_vanishing_and_exploding(student, reference, exercise_config):
    for what, args in (
        (" with saturated states", rnn_states((2,), seed=40, spread=8.0)),
        (" with small states and a large W_hh", rnn_states((2,), seed=41, spread=0.1, scale=2.0)),
        (" over 40 steps", rnn_states((2,), seed=42, steps=40)),
    ):
        check(student, reference, exercise_config, NORMS, args, what)


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    batch_consistent(
        student,
        reference,
        exercise_config,
        NORMS,
        rnn_states((3,), seed=50),
        batched=1,  # hs carries the batch, W_hh does not
        describe=lambda a: describe(NORMS, a),
    )


def test_gradients(student, reference, exercise_config):
    args = rnn_states((2,), seed=60)
    what = describe(NORMS, args)
    gradients_agree(student, reference, exercise_config, NORMS, args, seed=61, what=what)


def test_other_widths(student, reference, exercise_config):
    """An RNN of 9 units (more units than steps), and one of a single unit."""
    wide = torch.tanh(normal(2, STEPS, 9, seed=70)), normal(9, 9, seed=71, scale=0.3)
    narrow = torch.tanh(normal(STEPS, 1, seed=72)), torch.full((1, 1), math.e, dtype=torch.float64)
    for args in (wide, narrow):
        check(student, reference, exercise_config, NORMS, args)


def test_inputs_unchanged(student, reference):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=80)
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))

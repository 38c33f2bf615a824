"""Hidden suite for exercise 4: context_vector(weights, inputs), simple_self_attention(inputs).

Random inputs have n = 5 tokens of size d = 3 and batch dims (2,) or (4, 2), all unequal, so
Xᵀ X cannot pass for X Xᵀ and `.T` cannot pass for `.transpose(-2, -1)`.
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

FUNCTIONS = ("context_vector", "simple_self_attention")
NAMES = {"context_vector": ("weights", "inputs"), "simple_self_attention": ("inputs",)}
N, D = 5, 3
BATCHES = ((), (2,), (4, 2))


def arguments(function, batch=(), *, seed, dtype=torch.float64, n=N, scale=1.0):
    """Random inputs for `function` with the leading batch dims `batch`."""
    inputs = normal(*batch, n, D, seed=seed, dtype=dtype, scale=scale)
    if function == "context_vector":
        return normal(*batch, n, seed=seed + 1000, dtype=dtype), inputs
    return (inputs,)


def describe(function, args):
    return describe_call(function, NAMES[function], args)


def test_documents_example(student, reference, exercise_config):
    inputs = examples.inputs()
    weights = torch.softmax(inputs @ inputs[examples.QUERY_INDEX], dim=-1)
    documented = examples.tensor(examples.CONTEXT_2)
    printed = documents_tolerance(exercise_config)
    tight = tolerance_for(exercise_config, torch.float32)
    for function, args, row in (
        ("context_vector", (weights, inputs), lambda r: r),
        ("simple_self_attention", (inputs,), lambda r: r[examples.QUERY_INDEX]),
    ):
        what = f"{function} on the documents' embeddings"
        actual = student.call(function, *args).value
        same_result(actual, reference.call(function, *args).value, tight, what)
        same_result(row(actual), documented, printed, f"{what}, the context vector of x²")


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
            batched=len(args),
            describe=lambda a, f=function: describe(f, a),
        )


def test_float32_input(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=20, dtype=torch.float32)
        agrees(student, reference, exercise_config, function, *args, what=describe(function, args))


def test_single_token(student, reference, exercise_config):
    for function in FUNCTIONS:
        for batch in ((), (2,)):
            args = arguments(function, batch, seed=30, n=1)
            what = f"{describe(function, args)} (a sequence of one token)"
            agrees(student, reference, exercise_config, function, *args, what=what)


def test_a_batch_of_one(student, reference, exercise_config):
    """A leading dim of size 1 must stay: `.squeeze()` without a dim drops it."""
    for function in FUNCTIONS:
        args = arguments(function, (1,), seed=70)
        what = f"{describe(function, args)} (a batch of one sequence)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_large_scores_stay_finite(student, reference, exercise_config):
    args = arguments("simple_self_attention", (2,), seed=40, scale=25.0)
    what = f"{describe('simple_self_attention', args)} with scores in the thousands"
    agrees(student, reference, exercise_config, "simple_self_attention", *args, what=what)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_gradients(student, reference, exercise_config, function):
    args = arguments(function, (2,), seed=50)
    gradients_agree(
        student, reference, exercise_config, function, args, seed=51, what=describe(function, args)
    )


def test_inputs_unchanged(student, reference):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=60)
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))

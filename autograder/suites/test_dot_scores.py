"""Hidden suite for exercise 1: dot(a, b), attention_scores(query, inputs),
all_attention_scores(inputs).

Random inputs have n = 7 tokens of size d = 5 and batch dims (2,) or (3, 2), all unequal, so a
swapped axis or a dropped batch dim cannot give the right shape by coincidence.
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

FUNCTIONS = ("dot", "attention_scores", "all_attention_scores")
NAMES = {
    "dot": ("a", "b"),
    "attention_scores": ("query", "inputs"),
    "all_attention_scores": ("inputs",),
}
N, D = 7, 5
BATCHES = ((), (2,), (3, 2))


def arguments(function, batch=(), *, seed, dtype=torch.float64, n=N):
    """Random inputs for `function` with the leading batch dims `batch`."""
    vector = normal(*batch, D, seed=seed, dtype=dtype)
    sequence = normal(*batch, n, D, seed=seed + 1000, dtype=dtype)
    if function == "dot":
        return vector, normal(*batch, D, seed=seed + 2000, dtype=dtype)
    if function == "attention_scores":
        return vector, sequence
    return (sequence,)


def describe(function, args):
    return describe_call(function, NAMES[function], args)


def check(actual, expected, exercise, what):
    same_result(actual, expected, tolerance_for(exercise, expected.dtype), what)


def test_documents_example(student, reference, exercise_config):
    inputs = examples.inputs()
    query = inputs[examples.QUERY_INDEX]
    printed = documents_tolerance(exercise_config)
    cases = [
        ("dot", (query, inputs[0]), examples.tensor(examples.SCORES_2[0]), lambda r: r),
        ("attention_scores", (query, inputs), examples.tensor(examples.SCORES_2), lambda r: r),
        ("all_attention_scores", (inputs,), examples.tensor(examples.SCORES_2), lambda r: r[1]),
    ]
    for function, args, documented, row in cases:
        what = f"{function} on the documents' embeddings"
        actual = student.call(function, *args).value
        check(actual, reference.call(function, *args).value, exercise_config, what)
        same_result(row(actual), documented, printed, f"{what}, the scores of x²")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_leading_batch_dims(student, reference, exercise_config, function):
    for seed, batch in enumerate(BATCHES):
        args = arguments(function, batch, seed=seed)
        what = f"{describe(function, args)} ({len(batch)} leading batch dims)"
        agrees(student, reference, exercise_config, function, *args, what=what)


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (3,), seed=10)
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
    for function in ("attention_scores", "all_attention_scores"):
        for batch in ((), (2,)):
            args = arguments(function, batch, seed=30, n=1)
            what = f"{describe(function, args)} (a sequence of one token)"
            agrees(student, reference, exercise_config, function, *args, what=what)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_gradients(student, reference, exercise_config, function):
    args = arguments(function, (2,), seed=40)
    gradients_agree(
        student,
        reference,
        exercise_config,
        function,
        args,
        seed=41,
        what=describe(function, args),
    )


def test_inputs_unchanged(student, reference):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=50)
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once every function runs, so a stub or a module that does not import earns nothing."""
    for function in FUNCTIONS:
        student.call(function, *arguments(function, seed=60))
    no_forbidden_calls(submission_source, exercise_config)

"""Hidden suite for exercise 3, softmax(scores, dim=-1).

Most inputs are float64, judged with the course's tight float64 tolerance; the edge cases are
the ones the exercise is about: entries of ±1000 (overflow and underflow), -inf entries, and
slices that are all -inf.
"""

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

INF = float("inf")

SCALE = 3.0  # spread the scores so softmax is far from uniform


def describe(scores, dim=None):
    dtype = str(scores.dtype).removeprefix("torch.")
    along = "" if dim is None else f" along dim={dim}"
    return f"softmax of {dtype} scores of shape {tuple(scores.shape)}{along}"


def with_infinities(seed, fully_masked_rows=()):
    """(5, 6) float64 scores with -inf in some entries of every row; some rows all -inf."""
    scores = normal(5, 6, seed=seed, scale=SCALE)
    generator = torch.Generator().manual_seed(seed + 1)
    masked = torch.rand(5, 6, generator=generator) < 0.4
    masked[:, 2] = False  # every row keeps a finite entry unless it is fully masked
    masked[0, :] = True
    masked[0, 3] = False  # row 0: only one finite entry
    scores = scores.masked_fill(masked, -INF)
    scores[list(fully_masked_rows)] = -INF
    return scores


def test_documents_example(student, reference, exercise_config):
    scores = examples.tensor(examples.SCORES_2)
    what = "softmax of the documents' scores of x²"
    weights = student.softmax(scores)
    same_result(
        weights, reference.softmax(scores), tolerance_for(exercise_config, torch.float32), what
    )
    documented = examples.tensor(examples.SOFTMAX_2)
    printed = documents_tolerance(exercise_config)
    same_result(weights, documented, printed, f"{what}, against the printed weights")


def test_leading_batch_dims(student, reference, exercise_config):
    for seed, shape in enumerate([(7,), (3, 7), (2, 3, 7)]):
        scores = normal(*shape, seed=seed, scale=SCALE)
        what = f"{describe(scores)} ({len(shape) - 1} leading batch dims)"
        agrees(student, reference, exercise_config, "softmax", scores, what=what)


def test_dim_argument(student, reference, exercise_config):
    for dim in (0, 1, -2, 2):
        scores = normal(4, 5, 6, seed=10 + dim, scale=SCALE)
        agrees(
            student,
            reference,
            exercise_config,
            "softmax",
            scores,
            dim=dim,
            what=describe(scores, dim),
        )


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    scores = normal(3, 4, 7, seed=20, scale=SCALE)
    batch_consistent(
        student,
        reference,
        exercise_config,
        "softmax",
        (scores,),
        batched=1,
        describe=lambda a: describe(a[0]),
    )


def test_float32_input(student, reference, exercise_config):
    scores = normal(3, 7, seed=30, dtype=torch.float32, scale=SCALE)
    agrees(student, reference, exercise_config, "softmax", scores, what=describe(scores))


def test_single_entry_slices(student, reference, exercise_config):
    for shape, dim in (((4, 1), -1), ((1, 5), 0), ((1,), -1)):
        scores = normal(*shape, seed=40, scale=SCALE)
        agrees(
            student,
            reference,
            exercise_config,
            "softmax",
            scores,
            dim=dim,
            what=describe(scores, dim),
        )


def test_large_entries_do_not_overflow(student, reference, exercise_config):
    for dtype in (torch.float64, torch.float32):
        scores = torch.tensor(
            [
                [1000.0, 999.0, -1000.0, 0.5, 998.5, 1.0],  # exp(1000) overflows
                [-1000.0, -999.0, -1000.0, -998.0, -1000.5, -999.5],  # exp(-1000) underflows
                [1000.0, -1000.0, 1000.0, -1000.0, 1000.0, -1000.0],
                [0.3, -1.2, 2.0, 0.0, -0.7, 1.1],
            ],
            dtype=dtype,
        )
        for dim in (-1, 0):
            agrees(
                student,
                reference,
                exercise_config,
                "softmax",
                scores,
                dim=dim,
                what=f"{describe(scores, dim)} with entries of ±1000",
            )


def test_negative_infinity_gets_zero_weight(student, reference, exercise_config):
    scores = with_infinities(seed=50)
    for dim in (-1, 0):
        what = f"{describe(scores, dim)} with some entries -inf"
        agrees(student, reference, exercise_config, "softmax", scores, dim=dim, what=what)


def test_fully_masked_slices_give_zeros(student, reference, exercise_config):
    scores = with_infinities(seed=60, fully_masked_rows=(1, 4))
    what = f"{describe(scores)} with rows that are all -inf"
    agrees(student, reference, exercise_config, "softmax", scores, what=what)
    batched = torch.stack([scores, with_infinities(seed=61, fully_masked_rows=(0, 2))])
    what = f"{describe(batched)} with rows that are all -inf"
    agrees(student, reference, exercise_config, "softmax", batched, what=what)


def test_gradients(student, reference, exercise_config):
    for seed, (scores, dim) in enumerate(
        [(normal(3, 7, seed=70, scale=SCALE), -1), (normal(4, 3, 5, seed=71, scale=SCALE), 0)]
    ):
        gradients_agree(
            student,
            reference,
            exercise_config,
            "softmax",
            [scores],
            seed=seed,
            dim=dim,
            what=describe(scores, dim),
        )


def test_gradients_through_negative_infinity(student, reference, exercise_config):
    scores = with_infinities(seed=80)
    what = f"{describe(scores)} with some entries -inf"
    gradients_agree(student, reference, exercise_config, "softmax", [scores], seed=81, what=what)


def test_fully_masked_slices_have_zero_gradients(student, reference, exercise_config):
    """Not NaN: one NaN gradient would spread to every weight trained through this softmax."""
    scores = with_infinities(seed=85, fully_masked_rows=(1, 3))
    what = f"{describe(scores)} with rows that are all -inf"
    gradients_agree(student, reference, exercise_config, "softmax", [scores], seed=86, what=what)


def test_inputs_unchanged(student, reference):
    for scores in (
        normal(3, 7, seed=90, scale=SCALE),
        with_infinities(seed=91, fully_masked_rows=(2,)),
    ):
        inputs_unchanged(student, reference, "softmax", scores, what=describe(scores))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once softmax runs, so a stub or a module that does not import earns nothing here."""
    student.softmax(normal(2, 3, seed=100, scale=SCALE))
    no_forbidden_calls(submission_source, exercise_config)

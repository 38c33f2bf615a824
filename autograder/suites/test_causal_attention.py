"""Hidden suite for exercise 8: causal_mask(n) and causal_self_attention(X, W_q, W_k, W_v),
returning (context, weights).

Random inputs have n = 5 tokens of size d_in = 6, projected to d_k = 4 and d_v = 3; batch dims
are (), (2,) or (2, 7). All unequal, so `.T` cannot pass for `.transpose(-2, -1)`, a mask sized
by the wrong dimension cannot broadcast, and scaling by √d_in or √d_v cannot pass for √d_k.
Besides agreeing with the reference, the weights must be causal on their own terms: exactly 0
above the diagonal, a first token that sees only itself, and earlier outputs that stay put when
later tokens change.
"""

import torch
from torch import Tensor

from autograder.course import examples
from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    fail,
    gradients_agree,
    inputs_unchanged,
    no_forbidden_calls,
    same_result,
    same_tensor,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

MASK, ATTENTION = "causal_mask", "causal_self_attention"
NAMES = ("X", "W_q", "W_k", "W_v")
N, D_IN, D_K, D_V = 5, 6, 4, 3
BATCHES = ((), (2,), (2, 7))


def projections(
    batch=(), *, seed, dtype=torch.float64, n=N, d_in=D_IN, d_k=D_K, d_v=D_V, scale=1.0
):
    """Random X, W_q, W_k, W_v."""
    return (
        normal(*batch, n, d_in, seed=seed, dtype=dtype, scale=scale),
        normal(d_in, d_k, seed=seed + 1000, dtype=dtype, scale=0.6),
        normal(d_in, d_k, seed=seed + 2000, dtype=dtype, scale=0.6),
        normal(d_in, d_v, seed=seed + 3000, dtype=dtype, scale=0.6),
    )


def describe(args):
    return describe_call(ATTENTION, NAMES, args)


def check(student, reference, exercise, args, what=""):
    """The student's (context, weights) agree with the reference's on `args`."""
    return agrees(student, reference, exercise, ATTENTION, *args, what=f"{describe(args)}{what}")


def student_result(student, args):
    """The student's (context, weights) on `args`, once it is a pair of rightly shaped tensors."""
    value = student.call(ATTENTION, *args).value
    if not (isinstance(value, tuple | list) and len(value) == 2):
        fail(f"{describe(args)}: expected a tuple (context, weights) of two tensors")
    X, W_v = args[0], args[3]
    shapes = ((*X.shape[:-1], W_v.shape[-1]), (*X.shape[:-1], X.shape[-2]))
    for name, item, shape in zip(("context", "weights"), value, shapes, strict=True):
        if not isinstance(item, Tensor) or item.shape != shape:
            fail(f"{describe(args)}: the {name} should be a tensor of shape {shape}")
    return value


def test_causal_mask(student, reference, exercise_config):
    tolerance = tolerance_for(exercise_config, torch.float64)
    for n in (1, 2, 5, 9):
        mask = student.causal_mask(n)
        if isinstance(mask, Tensor) and mask.dtype != torch.bool:
            fail(
                f"causal_mask({n}): returned dtype {mask.dtype}, expected torch.bool "
                "(True where attending is allowed)"
            )
        same_tensor(mask, reference.causal_mask(n), tolerance, f"causal_mask({n})")


def test_documents_example(student, reference, exercise_config):
    args = (examples.inputs(), *examples.qkv_weights())
    check(student, reference, exercise_config, args, " (the documents' example)")


def test_leading_batch_dims(student, reference, exercise_config):
    for seed, batch in enumerate(BATCHES):
        check(student, reference, exercise_config, projections(batch, seed=seed))


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    args = projections((3,), seed=10)
    batch_consistent(
        student, reference, exercise_config, ATTENTION, args, batched=1, describe=describe
    )


def test_float32_input(student, reference, exercise_config):
    check(student, reference, exercise_config, projections((2,), seed=20, dtype=torch.float32))


def test_scores_are_scaled_by_sqrt_d_k(student, reference, exercise_config):
    """d_k differs from d_in and from d_v, by a factor of 4."""
    args = projections((2,), seed=30, d_in=8, d_k=2, d_v=8, scale=1.5)
    check(student, reference, exercise_config, args)


def test_large_scores_stay_finite(student, reference, exercise_config):
    for seed in (40, 41):
        args = projections((2,), seed=seed, scale=60.0)
        check(student, reference, exercise_config, args, " with scores in the thousands")


def test_a_single_token(student, reference, exercise_config):
    for seed, batch in enumerate(((), (2,))):
        args = projections(batch, seed=50 + seed, n=1)
        check(student, reference, exercise_config, args, " (a single token)")


def test_weights_are_exactly_zero_above_the_diagonal(student):
    for seed, batch in enumerate(((), (2, 3))):
        args = projections(batch, seed=60 + seed)
        _, weights = student_result(student, args)
        if weights.isnan().any():
            fail(f"{describe(args)}: the weights contain NaN; every token sees at least itself")
        if (weights.triu(1) != 0).any():
            fail(
                f"{describe(args)}: a token gives weight to a later token; every weight above "
                "the diagonal must be exactly 0"
            )


def test_the_first_token_attends_only_to_itself(student, exercise_config):
    args = projections((2,), seed=70)
    X, W_v = args[0], args[3]
    context, weights = student_result(student, args)
    tolerance = tolerance_for(exercise_config, X.dtype)
    only_itself = torch.zeros(2, N, dtype=X.dtype)
    only_itself[:, 0] = 1.0
    what = f"{describe(args)}, the first token's"
    same_tensor(weights[:, 0], only_itself, tolerance, f"{what} weights")
    same_tensor(context[:, 0], X[:, 0] @ W_v, tolerance, f"{what} context (its own value)")


def test_later_tokens_do_not_change_earlier_outputs(student, exercise_config):
    args = projections((2,), seed=80)
    changed = args[0].clone()
    changed[:, 3:] = normal(2, N - 3, D_IN, seed=81, dtype=changed.dtype, scale=3.0)
    before = [t[:, :3] for t in student_result(student, args)]
    after = [t[:, :3] for t in student_result(student, (changed, *args[1:]))]
    same_result(
        tuple(after),
        tuple(before),
        tolerance_for(exercise_config, changed.dtype),
        f"{describe(args)}, the first 3 tokens' outputs after changing the last 2 tokens",
    )


def test_gradients(student, reference, exercise_config):
    for seed, batch in enumerate(((), (2,))):
        args = projections(batch, seed=90 + seed)
        gradients_agree(
            student, reference, exercise_config, ATTENTION, args, seed=seed, what=describe(args)
        )


def test_inputs_unchanged(student, reference):
    args = projections((2,), seed=100)
    inputs_unchanged(student, reference, ATTENTION, *args, what=describe(args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once every function runs, so a stub or a module that does not import earns nothing."""
    student.call(MASK, N)
    student.call(ATTENTION, *projections(seed=110))
    no_forbidden_calls(submission_source, exercise_config)

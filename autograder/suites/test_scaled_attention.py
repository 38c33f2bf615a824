"""Hidden suite for exercise 7: scaled_dot_product_attention(Q, K, V, mask=None) and
self_attention(X, W_q, W_k, W_v, mask=None), both returning (context, weights).

Random attention has n_q = 3 queries, n_k = 5 keys, d_k = 4 and d_v = 6; random self-attention
has n = 5 tokens of size d_in = 6 projected to d_k = 4 and d_v = 3; batch dims are (2,) or
(2, 7). All unequal, so `.T` cannot pass for `.transpose(-2, -1)`, and scaling by √d_in, √d_v,
d_k or nothing cannot pass for √d_k. Masks are passed positionally, so they are checked for
in-place changes too.
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

SDPA, SELF = "scaled_dot_product_attention", "self_attention"
FUNCTIONS = (SDPA, SELF)
NAMES = {SDPA: ("Q", "K", "V", "mask"), SELF: ("X", "W_q", "W_k", "W_v", "mask")}
N_Q, N_K, D_K, D_V = 3, 5, 4, 6  # scaled_dot_product_attention
N, D_IN, D_K_SELF, D_V_SELF = 5, 6, 4, 3  # self_attention
BATCHES = ((), (2,), (2, 7))

# Which of the 5 keys each of the 3 queries may see (True = allowed), without and with a query
# that may see nothing.
KEY_MASK = torch.tensor(
    [
        [True, False, True, False, True],
        [False, True, True, True, False],
        [True, True, False, False, False],
    ]
)
KEY_MASK_WITH_EMPTY_ROW = KEY_MASK.clone()
KEY_MASK_WITH_EMPTY_ROW[1] = False


def causal(n, empty_first_row=False):
    """Token i sees tokens 0..i (optionally token 0 sees nothing)."""
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, 0] = not empty_first_row
    return mask


def qkv(batch=(), *, seed, dtype=torch.float64, n_q=N_Q, n_k=N_K, d_k=D_K, d_v=D_V, scale=1.0):
    """Random Q, K, V for scaled_dot_product_attention."""
    return (
        normal(*batch, n_q, d_k, seed=seed, dtype=dtype, scale=scale),
        normal(*batch, n_k, d_k, seed=seed + 1000, dtype=dtype, scale=scale),
        normal(*batch, n_k, d_v, seed=seed + 2000, dtype=dtype),
    )


def projections(batch=(), *, seed, dtype=torch.float64, n=N, d_in=D_IN, d_k=D_K_SELF, scale=1.0):
    """Random X, W_q, W_k, W_v for self_attention."""
    return (
        normal(*batch, n, d_in, seed=seed, dtype=dtype, scale=scale),
        normal(d_in, d_k, seed=seed + 1000, dtype=dtype, scale=0.6),
        normal(d_in, d_k, seed=seed + 2000, dtype=dtype, scale=0.6),
        normal(d_in, D_V_SELF, seed=seed + 3000, dtype=dtype, scale=0.6),
    )


def arguments(function, batch=(), *, seed, dtype=torch.float64):
    if function == SDPA:
        return qkv(batch, seed=seed, dtype=dtype)
    return projections(batch, seed=seed, dtype=dtype)


def describe(function, args):
    return describe_call(function, NAMES[function], args)


def check(student, reference, exercise, function, args, what=""):
    """The student's (context, weights) agree with the reference's on `args`."""
    what = f"{describe(function, args)}{what}"
    return agrees(student, reference, exercise, function, *args, what=what)


def test_documents_example(student, reference, exercise_config):
    inputs, (W_q, W_k, W_v) = examples.inputs(), examples.qkv_weights()
    printed = documents_tolerance(exercise_config)
    tight = tolerance_for(exercise_config, torch.float32)
    query = examples.QUERY_INDEX
    documented = (examples.tensor(examples.QKV_CONTEXT_2), examples.tensor(examples.QKV_WEIGHTS_2))
    for function, args in (
        (SELF, (inputs, W_q, W_k, W_v)),
        (SDPA, (inputs @ W_q, inputs @ W_k, inputs @ W_v)),
    ):
        what = f"{function} on the documents' example"
        actual = student.call(function, *args).value
        same_result(actual, reference.call(function, *args).value, tight, what)
        row = (actual[0][query], actual[1][query])
        same_result(row, documented, printed, f"{what}, the query 'journey'")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_leading_batch_dims(student, reference, exercise_config, function):
    for seed, batch in enumerate(BATCHES):
        args = arguments(function, batch, seed=seed)
        check(student, reference, exercise_config, function, args, f" ({len(batch)} batch dims)")


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=10)
        batch_consistent(
            student,
            reference,
            exercise_config,
            function,
            args,
            batched=3 if function == SDPA else 1,  # Q, K, V carry the batch; the weights do not
            describe=lambda a, f=function: describe(f, a),
        )


def test_float32_input(student, reference, exercise_config):
    for function in FUNCTIONS:
        args = arguments(function, (2,), seed=20, dtype=torch.float32)
        check(student, reference, exercise_config, function, args)


def test_scores_are_scaled_by_sqrt_d_k(student, reference, exercise_config):
    """d_k differs from d_v (attention) and from d_in (self-attention), by a factor of 4."""
    for function, args in (
        (SDPA, qkv((2,), seed=30, d_k=8, d_v=2, scale=1.5)),
        (SELF, projections((2,), seed=31, d_in=8, d_k=2, scale=1.5)),
    ):
        check(student, reference, exercise_config, function, args)


def test_large_scores_stay_finite(student, reference, exercise_config):
    for function, args in (
        (SDPA, qkv((2,), seed=40, scale=30.0)),
        (SELF, projections((2,), seed=41, scale=60.0)),
    ):
        check(student, reference, exercise_config, function, args, " with scores in the hundreds")


def test_mask_blocks_keys(student, reference, exercise_config):
    for function, args in (
        (SDPA, (*qkv(seed=50), KEY_MASK)),
        (SELF, (*projections(seed=51), causal(N))),
    ):
        check(student, reference, exercise_config, function, args, " with a mask")


def test_fully_masked_rows_get_zero_weights(student, reference, exercise_config):
    for function, args in (
        (SDPA, (*qkv(seed=60), KEY_MASK_WITH_EMPTY_ROW)),
        (SDPA, (*qkv((2,), seed=61), KEY_MASK_WITH_EMPTY_ROW.expand(2, N_Q, N_K).clone())),
        (SELF, (*projections((2,), seed=62), causal(N, empty_first_row=True))),
    ):
        what = " with a mask where a query may see nothing"
        check(student, reference, exercise_config, function, args, what)


def test_broadcast_mask_on_batched_input(student, reference, exercise_config):
    padding = torch.ones(2, 1, N_K, dtype=torch.bool)  # the keys of item 1 end in 2 pads
    padding[1, 0, -2:] = False
    for function, args in (
        (SDPA, (*qkv((2,), seed=70), KEY_MASK)),
        (SDPA, (*qkv((2,), seed=71), padding)),
        (SDPA, (*qkv((2, 7), seed=72), KEY_MASK_WITH_EMPTY_ROW)),
        (SELF, (*projections((2, 7), seed=73), causal(N))),
    ):
        check(student, reference, exercise_config, function, args, " with a broadcast mask")


def test_single_key(student, reference, exercise_config):
    for function, args in (
        (SDPA, qkv(seed=80, n_k=1)),
        (SDPA, qkv((2,), seed=81, n_q=1, n_k=1)),
        (SELF, projections((2,), seed=82, n=1)),
    ):
        check(student, reference, exercise_config, function, args, " (a single key)")


def test_gradients(student, reference, exercise_config):
    for seed, function in enumerate(FUNCTIONS):
        args = arguments(function, (2,), seed=90 + seed)
        what = describe(function, args)
        gradients_agree(student, reference, exercise_config, function, args, seed=seed, what=what)


def test_gradients_through_a_mask(student, reference, exercise_config):
    for seed, (function, args) in enumerate(
        (
            (SDPA, (*qkv((2,), seed=100), KEY_MASK_WITH_EMPTY_ROW)),
            (SELF, (*projections((2,), seed=101), causal(N, empty_first_row=True))),
        )
    ):
        what = f"{describe(function, args)} with a mask where a query may see nothing"
        gradients_agree(student, reference, exercise_config, function, args, seed=seed, what=what)


def test_inputs_unchanged(student, reference):
    for function, args in (
        (SDPA, (*qkv((2,), seed=110), KEY_MASK_WITH_EMPTY_ROW)),
        (SELF, (*projections((2,), seed=111), causal(N, empty_first_row=True))),
    ):
        inputs_unchanged(student, reference, function, *args, what=describe(function, args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once every function runs, so a stub or a module that does not import earns nothing."""
    for function in FUNCTIONS:
        student.call(function, *arguments(function, seed=120))
    no_forbidden_calls(submission_source, exercise_config)

"""Hidden suite for exercise 9: multi_head_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None),
returning (out, weights).

Random inputs have n = 5 tokens of size d_in = 6, projected to d_out = 8 and split into 2 heads
of head_dim = 4 (other head counts where said); batch dims are (), (2,) or (2, 7). All unequal,
so splitting in the wrong order, attending over the heads instead of the tokens, or scaling by
√d_out cannot pass. Besides the reference, the result is checked against
torch.nn.MultiheadAttention with the same weights (d_in = d_out there), computed here, in the
grading process. Masks are passed positionally, so they are checked for in-place changes too.
"""

import torch

from autograder.course.examples import normal
from autograder.grading.errors import NotAttempted, StudentRaised
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    fail,
    gradients_agree,
    inputs_unchanged,
    no_forbidden_calls,
    same_result,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

FUNCTION = "multi_head_attention"
NAMES = ("X", "W_q", "W_k", "W_v", "W_o", "num_heads", "mask")
N, D_IN, D_OUT, HEADS = 5, 6, 8, 2
BATCHES = ((), (2,), (2, 7))


def causal(n=N, empty_first_row=False):
    """Token i sees tokens 0..i (optionally token 0 sees nothing)."""
    mask = torch.ones(n, n, dtype=torch.bool).tril()
    mask[0, 0] = not empty_first_row
    return mask


def arguments(
    batch=(), *, seed, dtype=torch.float64, n=N, d_in=D_IN, d_out=D_OUT, heads=HEADS, scale=1.0
):
    """Random X, W_q, W_k, W_v, W_o and the head count."""
    projections = (
        normal(d_in, d_out, seed=seed + i, dtype=dtype, scale=0.6) for i in (1000, 2000, 3000)
    )
    return (
        normal(*batch, n, d_in, seed=seed, dtype=dtype, scale=scale),
        *projections,
        normal(d_out, d_out, seed=seed + 4000, dtype=dtype, scale=0.4),
        heads,
    )


def describe(args):
    heads = args[5]
    return f"{describe_call(FUNCTION, NAMES, args)} in {heads} head{'s' * (heads != 1)}"


def check(student, reference, exercise, args, what=""):
    """The student's (out, weights) agree with the reference's on `args`."""
    return agrees(student, reference, exercise, FUNCTION, *args, what=f"{describe(args)}{what}")


def torch_multihead_attention(X, W_q, W_k, W_v, W_o, num_heads, mask=None):
    """torch.nn.MultiheadAttention (no biases) with these weights: (out, per-head weights)."""
    d = W_o.shape[0]
    layer = torch.nn.MultiheadAttention(d, num_heads, bias=False, batch_first=True, dtype=X.dtype)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.cat([W_q.T, W_k.T, W_v.T]))
        layer.out_proj.weight.copy_(W_o.T)
        out, weights = layer(
            X,
            X,
            X,
            need_weights=True,
            average_attn_weights=False,
            attn_mask=None if mask is None else ~mask,  # its bool mask: True = may not attend
        )
    return out, weights


def test_matches_torch_multihead_attention(student, exercise_config):
    for seed, (batch, heads, mask) in enumerate(
        (((), 1, None), ((2,), 2, None), ((2,), 4, causal()), ((3,), 8, None))
    ):
        args = arguments(batch, seed=seed, d_in=D_OUT, heads=heads)
        full = args if mask is None else (*args, mask)
        expected = torch_multihead_attention(*full)
        what = f"{describe(full)}, compared with torch.nn.MultiheadAttention with the same weights"
        same_result(
            student.call(FUNCTION, *full).value,
            expected,
            tolerance_for(exercise_config, torch.float64),
            what,
        )


def test_leading_batch_dims(student, reference, exercise_config):
    for seed, batch in enumerate(BATCHES):
        check(student, reference, exercise_config, arguments(batch, seed=10 + seed))


def test_head_counts(student, reference, exercise_config):
    for seed, heads in enumerate((1, 2, 4, 8)):
        check(student, reference, exercise_config, arguments((2,), seed=20 + seed, heads=heads))


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    batch_consistent(
        student,
        reference,
        exercise_config,
        FUNCTION,
        arguments((3,), seed=30, heads=4),
        batched=1,
        describe=describe,
    )


def test_float32_input(student, reference, exercise_config):
    args = arguments((2,), seed=40, dtype=torch.float32, heads=4)
    check(student, reference, exercise_config, args)


def test_masks(student, reference, exercise_config):
    per_head = normal(HEADS, N, N, seed=50) > -0.5
    per_head |= torch.eye(N, dtype=torch.bool)  # every query sees at least itself
    padding = torch.ones(2, 1, 1, N, dtype=torch.bool)  # item 1 ends in 2 padding tokens
    padding[1, ..., -2:] = False
    for seed, (batch, mask) in enumerate(
        (((), causal()), ((2, 7), causal()), ((2,), per_head), ((2,), padding))
    ):
        args = (*arguments(batch, seed=51 + seed), mask)
        check(student, reference, exercise_config, args)


def test_fully_masked_rows_get_zero_weights(student, reference, exercise_config):
    per_head = causal().expand(HEADS, N, N).clone()
    per_head[1, 2] = False  # in head 1, query 2 may see nothing
    for seed, (batch, mask) in enumerate(
        (((), causal(empty_first_row=True)), ((2,), per_head), ((2,), causal(empty_first_row=True)))
    ):
        args = (*arguments(batch, seed=60 + seed), mask)
        check(student, reference, exercise_config, args, " where a query may see nothing")


def test_a_single_token(student, reference, exercise_config):
    for seed, batch in enumerate(((), (2,))):
        args = arguments(batch, seed=70 + seed, n=1, heads=4)
        check(student, reference, exercise_config, args, " (a single token)")


def test_large_scores_stay_finite(student, reference, exercise_config):
    args = arguments((2,), seed=80, scale=40.0)
    check(student, reference, exercise_config, args, " with scores in the thousands")


def test_num_heads_must_divide_d_out(student):
    for seed, (d_out, heads) in enumerate(((6, 4), (8, 3))):
        args = arguments(seed=90 + seed, d_out=d_out, heads=heads)
        what = f"{describe(args)}, which cannot split d_out = {d_out} evenly"
        try:
            student.call(FUNCTION, *args)
        except NotAttempted:
            raise
        except StudentRaised as error:
            if error.type_name != "ValueError":
                fail(f"{what}: raised {error.type_name}, expected a ValueError that says why")
            continue
        fail(f"{what}: returned a result, expected a ValueError")


def test_gradients(student, reference, exercise_config):
    for seed, args in enumerate(
        (
            arguments((2,), seed=100, heads=4),
            (*arguments((2,), seed=101), causal(empty_first_row=True)),
        )
    ):
        what = describe(args)
        gradients_agree(student, reference, exercise_config, FUNCTION, args, seed=seed, what=what)


def test_inputs_unchanged(student, reference):
    args = (*arguments((2,), seed=110), causal(empty_first_row=True))
    inputs_unchanged(student, reference, FUNCTION, *args, what=describe(args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once the function runs, so a stub or a module that does not import earns nothing."""
    student.call(FUNCTION, *arguments(seed=120))
    no_forbidden_calls(submission_source, exercise_config)

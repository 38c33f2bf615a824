"""Hidden suite for exercise 12: attention_decoder_step(y_prev, s_prev, H, params), returning
(s_t, context, weights, logits).

Random inputs have d_y = 3, d_dec = 5, d_enc = 4, d_attn = 6, a vocabulary of 8 and n = 9
encoder states, with batch dims (2,) or (2, 7): all unequal, so a transposed weight, a swapped
one or a softmax over the wrong dim cannot pass by coincidence. The gradients are checked for
every tensor of `params` too, and so are in-place changes.
"""

import torch

from autograder.course import examples
from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    gradients_agree,
    inputs_unchanged,
    no_forbidden_calls,
)
from autograder.suites.inputs import describe_call

STEP = "attention_decoder_step"
NAMES = ("y_prev", "s_prev", "H", "params")
SIZES = {"d_y": 3, "d_dec": 5, "d_enc": 4, "d_attn": 6, "vocab": 8, "n": 9}
BATCHES = ((), (2,), (2, 7))


def parameter_shapes(d_y, d_dec, d_enc, d_attn, vocab):
    return {
        "W_s": (d_dec, d_attn),
        "W_h": (d_enc, d_attn),
        "v": (d_attn,),
        "W_y": (d_y, d_dec),
        "W_ss": (d_dec, d_dec),
        "W_c": (d_enc, d_dec),
        "b_s": (d_dec,),
        "W_out": (d_dec, vocab),
        "b_out": (vocab,),
    }


def arguments(batch=(), *, seed, dtype=torch.float64, scale=1.0, v_scale=1.0, H=None, **sizes):
    """(y_prev, s_prev, H, params) with the leading batch dims `batch` on the first three;
    `scale` multiplies the three inputs, `v_scale` the attention vector v."""
    d = SIZES | sizes
    n, d_y, d_dec, d_enc = d.pop("n"), d["d_y"], d["d_dec"], d["d_enc"]
    y_prev = normal(*batch, d_y, seed=seed, dtype=dtype, scale=scale)
    s_prev = normal(*batch, d_dec, seed=seed + 1, dtype=dtype, scale=scale)
    if H is None:
        H = normal(*batch, n, d_enc, seed=seed + 2, dtype=dtype, scale=scale)
    params = {
        name: normal(*shape, seed=seed + 10 + i, dtype=dtype, scale=0.6)
        for i, (name, shape) in enumerate(parameter_shapes(**d).items())
    }
    params["v"] = params["v"] * v_scale
    return y_prev, s_prev, H, params


def describe(args):
    params = args[3]
    d_attn, vocab = params["v"].shape[0], params["b_out"].shape[0]
    return f"{describe_call(STEP, NAMES, args)}, d_attn = {d_attn}, vocab = {vocab}"


def check(student, reference, exercise, args, what=""):
    """The student's (s_t, context, weights, logits) agree with the reference's on `args`."""
    agrees(student, reference, exercise, STEP, *args, what=f"{describe(args)}{what}")


def test_the_sentence_as_encoder_states(student, reference, exercise_config):
    """H is the six embeddings of "Your journey starts with one step", in float32."""
    args = arguments(seed=0, dtype=torch.float32, H=examples.inputs(), d_enc=3)
    check(student, reference, exercise_config, args, " (the course's sentence)")


def test_leading_batch_dims(student, reference, exercise_config):
    for seed, batch in enumerate(BATCHES):
        args = arguments(batch, seed=10 * seed)
        check(student, reference, exercise_config, args, f" ({len(batch)} leading batch dims)")


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    batch_consistent(
        student,
        reference,
        exercise_config,
        STEP,
        arguments((2,), seed=40),
        batched=3,  # y_prev, s_prev and H carry the batch; params do not
        describe=describe,
    )


def test_float32_input(student, reference, exercise_config):
    check(student, reference, exercise_config, arguments((2,), seed=50, dtype=torch.float32))


def test_other_sizes(student, reference, exercise_config):
    """The encoder states are larger than the decoder's, the vocabulary smaller."""
    sizes = {"d_y": 7, "d_dec": 2, "d_enc": 6, "d_attn": 3, "vocab": 4, "n": 5}
    check(student, reference, exercise_config, arguments((2, 7), seed=60, **sizes))


def test_a_single_encoder_state(student, reference, exercise_config):
    for seed, batch in enumerate(BATCHES):
        args = arguments(batch, seed=70 + 10 * seed, n=1)
        check(student, reference, exercise_config, args, " (n = 1)")


def test_a_batch_of_one(student, reference, exercise_config):
    """A leading dim of size 1 must stay: `.squeeze()` without a dim drops it."""
    args = arguments((1,), seed=140)
    check(student, reference, exercise_config, args, " (a batch of one sentence)")


def test_large_scores_stay_finite(student, reference, exercise_config):
    args = arguments((2,), seed=80, v_scale=400.0)
    check(student, reference, exercise_config, args, " with scores in the hundreds")


def test_saturated_state(student, reference, exercise_config):
    """Entries of ±1000 saturate every tanh; the context is a mix of such large states."""
    args = arguments((2,), seed=90, scale=1000.0)
    check(student, reference, exercise_config, args, " with entries in the thousands")


def test_gradients_with_respect_to_every_input_and_parameter(student, reference, exercise_config):
    for seed, batch in enumerate(((), (2, 7))):
        args = arguments(batch, seed=100 + 10 * seed)
        what = describe(args)
        gradients_agree(student, reference, exercise_config, STEP, args, seed=seed, what=what)


def test_inputs_unchanged(student, reference):
    for seed, batch in enumerate(((), (2,))):
        args = arguments(batch, seed=120 + 10 * seed)
        inputs_unchanged(student, reference, STEP, *args, what=describe(args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once the function runs, so a stub or a module that does not import earns nothing."""
    student.call(STEP, *arguments(seed=130))
    no_forbidden_calls(submission_source, exercise_config)

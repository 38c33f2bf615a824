"""Public checks for exercise 8, causal: `pytest exercises/test_ex08_causal_attention.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

QUERY = examples.QUERY_INDEX
# "journey" sees "Your" and itself: softmax of the documents' scores (1.2705, 1.8524) / √2.
JOURNEY_WEIGHTS = (0.3986, 0.6014, 0.0, 0.0, 0.0, 0.0)
JOURNEY_CONTEXT = (0.3116, 0.9549)
RETURNS = ("context", "weights")


def test_causal_mask(exercise):
    mask = expect_tensor(
        call(exercise.causal_mask, 4, what="causal_mask(4)"),
        (4, 4),
        "causal_mask(4)",
        torch.bool,
        hint="a bool tensor: torch.ones(n, n, dtype=torch.bool)",
        dtype_from=None,
    )
    expect_close(
        mask.float(),
        [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]],
        "causal_mask(4), as 0 and 1",
        0.0,
        hint="True where key j <= query i: the diagonal and everything below it",
    )


def test_documents_example(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    context, weights = call(
        exercise.causal_self_attention,
        examples.inputs(),
        W_q,
        W_k,
        W_v,
        what="causal_self_attention(inputs, W_q, W_k, W_v)",
        hint="the scores of exercise 7, then masked_fill(~causal_mask(n), -inf) before softmax",
        returns=RETURNS,
    )
    expect_tensor(weights, (6, 6), "the weights from causal_self_attention")
    expect_tensor(context, (6, 2), "the context vectors from causal_self_attention")
    expect_close(
        weights[0],
        [1.0, 0.0, 0.0, 0.0, 0.0, 0.0],
        "the weights of the first token, 'Your'",
        exercise_config.documents_atol,
        hint="the first token sees only itself",
    )
    expect_close(
        weights.triu(1),
        torch.zeros(6, 6),
        "the weights above the diagonal (later tokens)",
        0.0,
        hint="mask the scores with -inf before softmax, so the future gets weight exactly 0",
    )
    expect_close(
        weights[QUERY],
        JOURNEY_WEIGHTS,
        "the weights of the query 'journey'",
        exercise_config.documents_atol,
        hint="softmax(Q Kᵀ / √d_k) over the allowed keys only, d_k = W_k.shape[-1]",
    )
    expect_close(
        context[QUERY],
        JOURNEY_CONTEXT,
        "the context vector of 'journey'",
        exercise_config.documents_atol,
        hint="context = weights @ V",
    )


def test_later_tokens_do_not_change_earlier_outputs(exercise):
    W_q, W_k, W_v = examples.qkv_weights()
    inputs = examples.inputs()
    changed = inputs.clone()
    changed[3:] = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0], [1.5, 1.5, 1.5]])
    hint = "token i may only attend to tokens 0..i"
    what = "after changing 'with', 'one' and 'step'"
    context, weights = call(
        exercise.causal_self_attention,
        inputs,
        W_q,
        W_k,
        W_v,
        what="causal_self_attention(inputs, W_q, W_k, W_v)",
        returns=RETURNS,
    )
    context_changed, weights_changed = call(
        exercise.causal_self_attention,
        changed,
        W_q,
        W_k,
        W_v,
        what=f"causal_self_attention {what}",
        returns=RETURNS,
    )
    expect_tensor(weights, (6, 6), "the weights from causal_self_attention")
    expect_tensor(context, (6, 2), "the context vectors from causal_self_attention")
    expect_tensor(weights_changed, (6, 6), f"the weights {what}")
    expect_tensor(context_changed, (6, 2), f"the context vectors {what}")
    expect_close(
        weights_changed[:3],
        weights[:3],
        f"the weights of the first 3 tokens {what}",
        1e-6,
        hint=hint,
    )
    expect_close(
        context_changed[:3],
        context[:3],
        f"the context of the first 3 tokens {what}",
        1e-6,
        hint=hint,
    )


def test_on_a_batch(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    batch = examples.inputs().expand(2, 6, 3)
    hint = "transpose the last two dims only (.transpose(-2, -1)); the mask is (n, n)"
    context, weights = call(
        exercise.causal_self_attention,
        batch,
        W_q,
        W_k,
        W_v,
        what="causal_self_attention on a batch of 2 sequences",
        hint=hint,
        returns=RETURNS,
    )
    expect_tensor(context, (2, 6, 2), "the context vectors of a batch of 2 sequences", hint=hint)
    expect_tensor(weights, (2, 6, 6), "the weights of a batch of 2 sequences", hint=hint)
    expect_close(
        weights[1, QUERY],
        JOURNEY_WEIGHTS,
        "the weights of 'journey' in the second sequence",
        exercise_config.documents_atol,
        hint=hint,
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """Causal attention must be written out, not taken from torch.nn.functional."""
    expect_no_forbidden_calls(exercise, exercise_config)

"""Public checks for exercise 7, attention: `pytest exercises/test_ex07_scaled_attention.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

QUERY = examples.QUERY_INDEX
RETURNS = ("context", "weights")


def test_documents_example(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    context, weights = call(
        exercise.self_attention,
        examples.inputs(),
        W_q,
        W_k,
        W_v,
        what="self_attention(inputs, W_q, W_k, W_v)",
        hint="Q Kᵀ is Q @ K.transpose(-2, -1): (n, d_k) @ (d_k, n)",
        returns=RETURNS,
    )
    expect_tensor(weights, (6, 6), "the weights from self_attention")
    expect_tensor(context, (6, 2), "the context vectors from self_attention")
    expect_close(
        weights[QUERY],
        examples.QKV_WEIGHTS_2,
        "the weights of the query 'journey'",
        exercise_config.documents_atol,
        hint="softmax(Q Kᵀ / √d_k) with d_k = K.shape[-1]",
    )
    expect_close(
        context[QUERY],
        examples.QKV_CONTEXT_2,
        "the context vector of 'journey'",
        exercise_config.documents_atol,
        hint="context = weights @ V",
    )


def test_scaling_uses_the_keys_size(exercise, exercise_config):
    Q = torch.tensor([[1.0, 2.0, 0.0, 1.0]])
    K = torch.tensor([[1.0, 0.0, 1.0, 1.0], [0.0, 1.0, 0.0, 0.0]])
    V = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    what = "scaled_dot_product_attention(Q, K, V)"
    _, weights = call(exercise.scaled_dot_product_attention, Q, K, V, what=what, returns=RETURNS)
    expect_close(
        weights,
        [[0.5, 0.5]],
        "weights for two keys scoring 2 and 2",
        exercise_config.documents_atol,
    )
    K[1, 1] = 4.0  # scores 2 and 8: divided by √4 = 2, softmax([1, 4])
    _, weights = call(exercise.scaled_dot_product_attention, Q, K, V, what=what, returns=RETURNS)
    expect_close(
        weights,
        [[0.0474, 0.9526]],
        "weights for two keys scoring 2 and 8 with d_k = 4",
        exercise_config.documents_atol,
        hint="divide the scores by √d_k = 2 before softmax",
    )


def test_mask(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    mask = torch.ones(6, 6, dtype=torch.bool).tril()  # each token sees itself and earlier ones
    mask[0] = False  # and the first token sees nothing
    what = "self_attention(inputs, W_q, W_k, W_v, mask=mask)"
    hint = "mask is True where attending is allowed: masked_fill(~mask, -inf) before softmax"
    _, weights = call(
        exercise.self_attention,
        examples.inputs(),
        W_q,
        W_k,
        W_v,
        mask=mask,
        what=what,
        hint=hint,
        returns=RETURNS,
    )
    expect_tensor(weights, (6, 6), "the masked weights")
    expect_close(
        weights[0],
        torch.zeros(6),
        "the weights of a query that may see nothing",
        exercise_config.documents_atol,
        hint="a fully masked row gets all-zero weights, not NaN",
    )
    expect_close(
        weights.triu(1),
        torch.zeros(6, 6),
        "the weights where the mask is False",
        exercise_config.documents_atol,
        hint="mask is True where attending is allowed",
    )
    expect_close(
        weights[1:].sum(dim=-1),
        torch.ones(5),
        "the row sums of the masked weights",
        exercise_config.documents_atol,
    )


def test_on_a_batch(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    batch = examples.inputs().expand(2, 6, 3)
    hint = "transpose the last two dims only: K.transpose(-2, -1), not K.T"
    context, weights = call(
        exercise.self_attention,
        batch,
        W_q,
        W_k,
        W_v,
        what="self_attention on a batch of 2 sequences",
        hint=hint,
        returns=RETURNS,
    )
    expect_tensor(context, (2, 6, 2), "the context vectors of a batch of 2 sequences", hint=hint)
    expect_tensor(weights, (2, 6, 6), "the weights of a batch of 2 sequences", hint=hint)
    expect_close(
        weights[1, QUERY],
        examples.QKV_WEIGHTS_2,
        "the weights of 'journey' in the second sequence",
        exercise_config.documents_atol,
        hint=hint,
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """Attention must be written out, not taken from torch.nn.functional."""
    expect_no_forbidden_calls(exercise, exercise_config)

"""Public checks for exercise 9, heads: `pytest exercises/test_ex09_multi_head_attention.py`."""

import pytest
import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

QUERY = examples.QUERY_INDEX
# Two heads of size 2 on the documents' inputs, with example_weights() below: what the reference
# solution prints for the query "journey" (one row of weights per head, then its output).
JOURNEY_WEIGHTS = (
    (0.2706, 0.1185, 0.1105, 0.1584, 0.0360, 0.3060),
    (0.2032, 0.2362, 0.2232, 0.1015, 0.0472, 0.1886),
)
JOURNEY_OUT = (-1.2959, 0.1486, 0.9614, 1.2416)
RETURNS = ("out", "weights")


def example_weights():
    """W_q, W_k, W_v (3 × 4) and W_o (4 × 4), uniform in [-2, 2] and [-1, 1]."""
    generator = torch.Generator().manual_seed(9)
    W_q, W_k, W_v = (torch.rand(3, 4, generator=generator) * 4 - 2 for _ in range(3))
    return W_q, W_k, W_v, torch.rand(4, 4, generator=generator) * 2 - 1


def test_one_head_is_exercise_7(exercise, exercise_config):
    W_q, W_k, W_v = examples.qkv_weights()
    out, weights = call(
        exercise.multi_head_attention,
        examples.inputs(),
        W_q,
        W_k,
        W_v,
        torch.eye(2),
        num_heads=1,
        what="multi_head_attention with 1 head",
        returns=RETURNS,
    )
    expect_tensor(out, (6, 2), "the output of 1 head on 6 tokens")
    expect_tensor(weights, (1, 6, 6), "the weights of 1 head on 6 tokens")
    expect_close(
        weights[0, QUERY],
        examples.QKV_WEIGHTS_2,
        "the weights of 'journey' with 1 head",
        exercise_config.documents_atol,
        hint="with one head, head_dim = d_out and the scores are Q Kᵀ / √d_out",
    )
    expect_close(
        out[QUERY],
        examples.QKV_CONTEXT_2,
        "the output for 'journey' with 1 head and W_o = identity",
        exercise_config.documents_atol,
    )


def test_two_heads(exercise, exercise_config):
    out, weights = call(
        exercise.multi_head_attention,
        examples.inputs(),
        *example_weights(),
        2,
        what="multi_head_attention with 2 heads",
        hint="(..., n, d_out) -> (..., n, num_heads, head_dim) -> swap dims -3, -2; attend",
        returns=RETURNS,
    )
    expect_tensor(out, (6, 4), "the output of 2 heads on 6 tokens")
    expect_tensor(weights, (2, 6, 6), "the weights of 2 heads on 6 tokens")
    expect_close(
        weights[:, QUERY],
        JOURNEY_WEIGHTS,
        "the weights of 'journey' in each head",
        exercise_config.documents_atol,
        hint="head i uses columns 2i and 2i + 1 of Q and K, and divides the scores by √2",
    )
    expect_close(
        out[QUERY],
        JOURNEY_OUT,
        "the output for 'journey'",
        exercise_config.documents_atol,
        hint="the heads' contexts side by side, in head order, then @ W_o",
    )


def test_a_batch_with_a_causal_mask(exercise, exercise_config):
    X = examples.inputs().expand(2, 6, 3)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    mask[0] = False  # the first token may see nothing
    out, weights = call(
        exercise.multi_head_attention,
        X,
        *example_weights(),
        2,
        mask=mask,
        what="multi_head_attention on a batch of 2 sequences, with a causal mask",
        hint="index dims from the end (-3, -2) so batch dims pass through; the mask broadcasts",
        returns=RETURNS,
    )
    expect_tensor(out, (2, 6, 4), "the output for a batch of 2 sequences")
    expect_tensor(weights, (2, 2, 6, 6), "the weights for a batch of 2 sequences")
    expect_close(
        weights.triu(1),
        torch.zeros(2, 2, 6, 6),
        "the weights where the mask is False",
        0.0,
        hint="an (n, n) mask applies to every head: masked_fill(~mask, -inf) before softmax",
    )
    expect_close(
        weights[..., 0, :],
        torch.zeros(2, 2, 6),
        "the weights of a query that may see nothing",
        exercise_config.documents_atol,
        hint="a fully masked row gets all-zero weights, not NaN",
    )
    expect_close(
        weights[..., 1:, :].sum(dim=-1),
        torch.ones(2, 2, 5),
        "the row sums of the other queries' weights",
        exercise_config.documents_atol,
    )


def test_num_heads_must_divide_d_out(exercise):
    W_q, W_k, W_v, W_o = example_weights()
    try:
        exercise.multi_head_attention(examples.inputs(), W_q, W_k, W_v, W_o, 3)
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as error:
        pytest.fail(
            f"3 heads for d_out = 4: raised {type(error).__name__}, expected a ValueError "
            "saying that num_heads must divide d_out",
            pytrace=False,
        )
    pytest.fail("3 heads for d_out = 4: returned a result, expected a ValueError", pytrace=False)


def test_no_forbidden_calls(exercise, exercise_config):
    """Multi-head attention must be written out, not taken from torch.nn."""
    expect_no_forbidden_calls(exercise, exercise_config)

"""Hidden suite for exercise 11: lstm_step(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t).

Random cells have d_in = 5 inputs and d_h = 3 hidden units (gates 4 · 3 = 12 wide), with batch
dims (), (2,) or (2, 7): all unequal, so a transposed or swapped weight cannot give the right
shape, and splitting the gates along dim 0 breaks on a batch. Besides the reference, PyTorch's
own torch.nn.LSTMCell, run here in the trusted process with the same weights, judges the values.
"""

import pytest
import torch

from autograder.course.examples import normal
from autograder.grading.verdict import (
    agrees,
    batch_consistent,
    gradients_agree,
    inputs_unchanged,
    no_forbidden_calls,
    same_result,
    tolerance_for,
)
from autograder.suites.inputs import describe_call

STEP = "lstm_step"
NAMES = ("x_t", "h_prev", "c_prev", "W_x", "W_h", "b")
D_IN, D_H = 5, 3
BATCHES = ((), (2,), (2, 7))
BATCH_IDS = ("0-batch-dims", "1-batch-dim", "2-batch-dims")


def arguments(batch=(), *, seed, dtype=torch.float64, scale=1.0):
    """x_t, h_prev, c_prev, W_x, W_h, b; the weights and the bias scaled by `scale`."""
    shapes = [(*batch, D_IN), (*batch, D_H), (*batch, D_H), (D_IN, 4 * D_H), (D_H, 4 * D_H)]
    scales = [1.0, 0.5, 1.5, 0.6 * scale, 0.6 * scale]
    tensors = [
        normal(*shape, seed=seed + 100 * i, dtype=dtype, scale=s)
        for i, (shape, s) in enumerate(zip(shapes, scales, strict=True))
    ]
    return (*tensors, normal(4 * D_H, seed=seed + 500, dtype=dtype, scale=0.5 * scale))


def describe(args):
    return describe_call(STEP, NAMES, args)


def torch_lstm_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    """(h_t, c_t) from torch.nn.LSTMCell with these weights (it stores them transposed, and
    adds two biases: b and zeros), on inputs flattened to one batch dim and back."""
    batch = x_t.shape[:-1]
    cell = torch.nn.LSTMCell(D_IN, D_H, dtype=x_t.dtype)
    with torch.no_grad():
        cell.weight_ih.copy_(W_x.T)
        cell.weight_hh.copy_(W_h.T)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        h_t, c_t = cell(x_t.reshape(-1, D_IN), (h_prev.reshape(-1, D_H), c_prev.reshape(-1, D_H)))
    return h_t.reshape(*batch, D_H), c_t.reshape(*batch, D_H)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=str)
def test_matches_torch_lstm_cell(student, exercise_config, dtype):
    for seed, batch in enumerate(BATCHES):
        args = arguments(batch, seed=seed, dtype=dtype)
        same_result(
            student.call(STEP, *args).value,
            torch_lstm_cell(*args),
            tolerance_for(exercise_config, dtype),
            f"{describe(args)}, compared with torch.nn.LSTMCell given the same weights",
        )


@pytest.mark.parametrize("batch", BATCHES, ids=BATCH_IDS)
def test_leading_batch_dims(student, reference, exercise_config, batch):
    args = arguments(batch, seed=10 + len(batch))
    agrees(student, reference, exercise_config, STEP, *args, what=describe(args))


def test_a_batch_of_one(student, reference, exercise_config):
    """A leading dim of size 1 must stay: `.squeeze()` without a dim drops it."""
    args = arguments((1,), seed=90)
    agrees(
        student, reference, exercise_config, STEP, *args, what=f"{describe(args)} (a batch of one)"
    )


def test_batched_call_matches_per_item_calls(student, reference, exercise_config):
    args = arguments((3,), seed=20)
    batch_consistent(student, reference, exercise_config, STEP, args, batched=3, describe=describe)


def test_float32_input(student, reference, exercise_config):
    args = arguments((2,), seed=30, dtype=torch.float32)
    agrees(student, reference, exercise_config, STEP, *args, what=describe(args))


def test_saturated_gates(student, reference, exercise_config):
    """Inputs of ±1000 drive every gate to 0 or 1 and the candidate to ±1."""
    x_t, *rest = arguments((2,), seed=40)
    args = (1000.0 * x_t.sign(), *rest)
    what = f"{describe(args)} with inputs of ±1000 (saturated gates)"
    agrees(student, reference, exercise_config, STEP, *args, what=what)


def test_open_forget_gate_and_shut_input_gate(student, reference, exercise_config):
    """f ≈ 1 and i ≈ 0: the cell passes its state on as it is; only the output gate acts."""
    *rest, b = arguments((2,), seed=50)
    b = b.clone()
    b[:D_H], b[D_H : 2 * D_H] = -40.0, 40.0
    args = (*rest, b)
    what = f"{describe(args)} with the forget gate open and the input gate shut"
    agrees(student, reference, exercise_config, STEP, *args, what=what)


def test_gradients(student, reference, exercise_config):
    args = arguments((2,), seed=60)
    gradients_agree(student, reference, exercise_config, STEP, args, seed=61, what=describe(args))


def test_inputs_unchanged(student, reference):
    args = arguments((2,), seed=70)
    inputs_unchanged(student, reference, STEP, *args, what=describe(args))


def test_no_forbidden_calls(student, submission_source, exercise_config):
    """Judged once the function runs, so a stub or a module that does not import earns nothing."""
    student.call(STEP, *arguments(seed=80))
    no_forbidden_calls(submission_source, exercise_config)

"""Public checks for exercise 11, the LSTM step: `pytest exercises/test_ex11_lstm_step.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

# The documents give no LSTM numbers: examples.lstm_example() is a small cell with d_in = 3,
# d_h = 4 and its forget gate's bias raised by 1; examples.LSTM_* are the reference's outputs.
RETURNS = ("h_t", "c_t")


def test_one_step(exercise, exercise_config):
    hint = (
        "gates = x_t @ W_x + h_prev @ W_h + b split into i, f, g, o (in that order) along "
        "dim -1; c_t = σ(f) * c_prev + σ(i) * tanh(g)"
    )
    h_t, c_t = call(
        exercise.lstm_step,
        *examples.lstm_example().args,
        what="lstm_step(x_t, h_prev, c_prev, W_x, W_h, b)",
        hint=hint,
        returns=RETURNS,
    )
    expect_close(
        c_t, examples.LSTM_C_1, "c_t from lstm_step", exercise_config.documents_atol, hint=hint
    )
    expect_close(
        h_t,
        examples.LSTM_H_1,
        "h_t from lstm_step",
        exercise_config.documents_atol,
        hint="h_t = σ(o) * tanh(c_t)",
    )


def test_matches_pytorch_lstm_cell_on_a_batch(exercise, exercise_config):
    """PyTorch's cell keeps its weights transposed, (4·d_h, d_in), with two biases to add."""
    x_t, h_prev, c_prev, W_x, W_h, b = examples.lstm_example().args
    batch = torch.linspace(-1.0, 1.0, 5).unsqueeze(-1)  # 5 sequences: inputs and states scaled
    x_t, h_prev, c_prev = batch * x_t, batch * h_prev, batch.flip(0) * c_prev
    cell = torch.nn.LSTMCell(3, 4)
    with torch.no_grad():
        cell.weight_ih.copy_(W_x.T)
        cell.weight_hh.copy_(W_h.T)
        cell.bias_ih.copy_(b)
        cell.bias_hh.zero_()
        expected_h, expected_c = cell(x_t, (h_prev, c_prev))
    hint = "chunk the gates along dim -1"
    args = (x_t, h_prev, c_prev, W_x, W_h, b)
    what = "lstm_step for a batch of 5"
    h_t, c_t = call(exercise.lstm_step, *args, what=what, hint=hint, returns=RETURNS)
    expect_tensor(h_t, (5, 4), "h_t for a batch of 5", hint=hint)
    tolerance = exercise_config.tolerance["float32"]
    for name, actual, expected in (("c_t", c_t, expected_c), ("h_t", h_t, expected_h)):
        what = f"{name} for a batch of 5, against torch.nn.LSTMCell"
        expect_close(actual, expected, what, tolerance.atol, tolerance.rtol)


def test_an_open_forget_gate_keeps_the_cell(exercise, exercise_config):
    """With f ≈ 1 and i ≈ 0 the cell carries its memory on unchanged, whatever the input."""
    x_t, h_prev, c_prev, W_x, W_h, b = examples.lstm_example().args
    b[:4], b[4:8] = -30.0, 30.0  # input gate shut, forget gate open
    args = (x_t, h_prev, c_prev, W_x, W_h, b)
    what = "lstm_step with the forget gate open and the input gate shut"
    _, c_t = call(exercise.lstm_step, *args, what=what, returns=RETURNS)
    expect_close(
        c_t,
        examples.lstm_example().c_prev,
        "c_t with the forget gate open and the input gate shut",
        exercise_config.documents_atol,
        hint="c_t = f ⊙ c_prev + i ⊙ g: the forget gate multiplies the old cell",
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """The step must be written out, not taken from torch.nn.LSTMCell."""
    expect_no_forbidden_calls(exercise, exercise_config)

"""Public checks for exercise 5, the RNN step: `pytest exercises/test_ex05_rnn_step.py`."""

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor


def test_first_step(exercise, exercise_config):
    rnn = examples.rnn_example()
    what = "rnn_step(x_1, h_0, weights)"
    hint = "h_t = tanh(x_t @ W_xh + h_prev @ W_hh + b_h)"
    h_1, y_1 = call(
        exercise.rnn_step,
        rnn.xs[0],
        rnn.h0,
        *rnn.weights,
        what=what,
        hint=hint,
        returns=("h_t", "y_t"),
    )
    expect_close(
        h_1, examples.RNN_H_1, "h_1 from rnn_step", exercise_config.documents_atol, hint=hint
    )
    expect_close(
        y_1,
        examples.RNN_Y_1,
        "y_1 from rnn_step",
        exercise_config.documents_atol,
        hint="y_t = h_t W_hy + b_y, with no activation",
    )


def test_whole_sequence(exercise, exercise_config):
    rnn = examples.rnn_example()
    what = "rnn_forward(xs, h_0, weights)"
    hs, ys = call(
        exercise.rnn_forward, rnn.xs, rnn.h0, *rnn.weights, what=what, returns=("hs", "ys")
    )
    expect_tensor(hs, (5, 4), "hs from rnn_forward", hint="stack the states along dim -2")
    expect_close(
        ys,
        examples.RNN_YS,
        "ys from rnn_forward",
        exercise_config.documents_atol,
        hint="feed each new hidden state into the next step, starting from h0",
    )
    expect_close(
        hs[-1], examples.RNN_H_LAST, "the last hidden state", exercise_config.documents_atol
    )


def test_batch_of_sequences(exercise, exercise_config):
    rnn = examples.rnn_example()
    xs = rnn.xs.expand(3, 5, 3)
    h0 = rnn.h0.expand(3, 4)
    what = "rnn_forward on a batch of 3 sequences"
    hint = "time is dim -2, not dim 0"
    hs, ys = call(
        exercise.rnn_forward, xs, h0, *rnn.weights, what=what, hint=hint, returns=("hs", "ys")
    )
    expect_tensor(hs, (3, 5, 4), "hs for a batch of 3 sequences", hint=hint)
    expect_tensor(ys, (3, 5, 2), "ys for a batch of 3 sequences", hint=hint)
    expect_close(ys[2], examples.RNN_YS, "ys of the third sequence", exercise_config.documents_atol)


def test_no_forbidden_calls(exercise, exercise_config):
    """The step must be written out, not taken from torch.nn.RNN."""
    expect_no_forbidden_calls(exercise, exercise_config)

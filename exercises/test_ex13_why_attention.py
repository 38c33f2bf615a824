"""Public checks for exercise 13, why attention: `pytest exercises/test_ex13_why_attention.py`."""

import math

import torch
from torch.autograd.functional import jacobian

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_tensor


def course_rnn_states():
    """The states of the course's example RNN (exercise 5) over its 5 inputs, and a function
    that reruns the steps after t from a given h_t, returning the last state."""
    rnn = examples.rnn_example()

    def run(h, steps):
        states = []
        for x_t in rnn.xs[steps]:
            h = torch.tanh(x_t @ rnn.W_xh + h @ rnn.W_hh + rnn.b_h)
            states.append(h)
        return states

    def last_state_from(t):
        return lambda h_t: run(h_t, slice(t + 1, None))[-1] if t + 1 < len(rnn.xs) else h_t

    return torch.stack(run(rnn.h0, slice(None))), rnn.W_hh, last_state_from


def test_accuracy_by_position(exercise, exercise_config):
    # Two sequences of 3 positions over 4 tokens: the largest logit is token 2, 0, 3 in the first,
    # 2, 1, 0 in the second; the targets match both at position 0, one at position 1, none at 2.
    logits = torch.tensor(
        [
            [[0.1, 0.2, 3.0, 0.0], [2.0, 1.0, 0.0, 0.5], [0.0, 0.0, 0.1, 0.9]],
            [[0.0, 1.0, 2.0, 0.0], [0.0, 5.0, 0.0, 0.0], [1.0, -1.0, 0.0, 0.0]],
        ]
    )
    targets = torch.tensor([[2, 0, 1], [2, 3, 3]])
    what = "accuracy_by_position of 2 sequences of 3 positions"
    hint = "average over the sequences, one number per position"
    accuracy = call(exercise.accuracy_by_position, logits, targets, what=what, hint=hint)
    expect_close(accuracy, [1.0, 0.5, 0.0], what, exercise_config.documents_atol, hint=hint)
    what = "accuracy_by_position of a single sequence (no batch dim)"
    accuracy = call(exercise.accuracy_by_position, logits[1], targets[1], what=what)
    expect_close(accuracy, [1.0, 0.0, 0.0], what, exercise_config.documents_atol)


def test_accuracy_averages_every_leading_dim(exercise, exercise_config):
    generator = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 3, 4, 5, generator=generator, dtype=torch.float64)
    predicted = logits.argmax(dim=-1)
    targets = predicted.clone()
    wrong = (predicted + 1) % 5
    targets[..., 0] = wrong[..., 0]  # position 0: every one of the 6 sequences is wrong
    targets[0, :, 1] = wrong[0, :, 1]  # position 1: 3 of the 6 are wrong
    what = "accuracy_by_position of (2, 3) sequences of 4 positions"
    hint = "one number per position, averaged over all leading dims, in logits' dtype"
    accuracy = call(exercise.accuracy_by_position, logits, targets, what=what, hint=hint)
    expect_tensor(accuracy, (4,), what, torch.float64, hint=hint, dtype_from="logits'")
    expect_close(
        accuracy,
        [0.0, 0.5, 1.0, 1.0],
        "the accuracy at each position",
        exercise_config.documents_atol,
        dtype=torch.float64,
    )


def test_gradient_norms_on_the_course_rnn(exercise, exercise_config):
    hs, W_hh, last_state_from = course_rnn_states()
    what = "gradient_norms_through_time of the course's RNN (5 steps)"
    norms = call(exercise.gradient_norms_through_time, hs, W_hh, what=what)
    expect_tensor(norms, (5,), what)
    expected = [jacobian(last_state_from(t), hs[t]).norm() for t in range(5)]
    expect_close(
        norms,
        torch.stack(expected),
        "‖∂h_last/∂h_t‖ for each t, compared with torch.autograd's Jacobians",
        exercise_config.documents_atol,
        hint="a change δ of h_{t-1} moves h_t by δ W_hh diag(1 - h_t²)",
    )
    expect_close(
        norms[-1],
        math.sqrt(4),
        "the last entry, the identity's norm √d_h",
        exercise_config.documents_atol,
    )


def test_gradient_norms_shrink_with_small_weights(exercise, exercise_config):
    """With ‖W_hh‖₂ = 0.5, every step back shrinks the norm by at least half."""
    generator = torch.Generator().manual_seed(1)
    W_hh = 0.5 * torch.linalg.qr(torch.randn(6, 6, generator=generator, dtype=torch.float64))[0]
    hs = torch.tanh(torch.randn(2, 8, 6, generator=generator, dtype=torch.float64))
    what = "gradient_norms_through_time of 2 sequences"
    norms = call(exercise.gradient_norms_through_time, hs, W_hh, what=what)
    expect_tensor(norms, (2, 8), what, torch.float64)
    ratios = norms[:, :-1] / norms[:, 1:]
    expect_close(
        ratios.clamp(min=0.5),
        torch.full((2, 7), 0.5),
        "each norm divided by the next one's, where ‖W_hh‖₂ = 0.5 caps it at 0.5",
        1e-12,
        hint="each step back multiplies by W_hh diag(1 - h²), which shrinks by at most ‖W_hh‖₂",
        dtype=torch.float64,
    )
    changed = hs.clone()
    changed[:, 0] = 0.0
    what = "the norms after changing the first state (only the steps after t enter entry t)"
    changed_norms = call(exercise.gradient_norms_through_time, changed, W_hh, what=what)
    expect_close(changed_norms, norms, what, exercise_config.documents_atol, dtype=torch.float64)

"""Common mistakes in exercise 5: rnn_step(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y) and
rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "rnn_step"
step_mistake = partial(mistake, EXERCISE, "rnn_step")
forward_mistake = partial(mistake, EXERCISE, "rnn_forward")


def rnn_step(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, h_t @ W_hy + b_y


def rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h, hs, ys = h0, [], []
    for t in range(xs.shape[-2]):
        h, y = rnn_step(xs[..., t, :], h, W_xh, W_hh, b_h, W_hy, b_y)
        hs.append(h)
        ys.append(y)
    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)


def missing_tanh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = x_t @ W_xh + h_prev @ W_hh + b_h
    return h_t, h_t @ W_hy + b_y


def relu_instead_of_tanh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.relu(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, h_t @ W_hy + b_y


def sigmoid_instead_of_tanh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.sigmoid(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, h_t @ W_hy + b_y


def bias_outside_tanh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh) + b_h
    return h_t, h_t @ W_hy + b_y


def tanh_of_input_only(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh) + h_prev @ W_hh + b_h
    return h_t, h_t @ W_hy + b_y


def transposed_w_hh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh.T + b_h)
    return h_t, h_t @ W_hy + b_y


def weights_swapped(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_hh + h_prev @ W_xh + b_h)
    return h_t, h_t @ W_hy + b_y


def bias_added_twice(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h + b_h)
    return h_t, h_t @ W_hy + b_y


def no_hidden_bias(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh)
    return h_t, h_t @ W_hy + b_y


def no_output_bias(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, h_t @ W_hy


def output_through_tanh(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, torch.tanh(h_t @ W_hy + b_y)


def output_from_previous_state(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h)
    return h_t, h_prev @ W_hy + b_y


def outputs_swapped(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t, y_t = rnn_step(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y)
    return y_t, h_t


def h0_ignored(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    return rnn_forward(xs, torch.zeros_like(h0), W_xh, W_hh, b_h, W_hy, b_y)


def state_not_carried(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    steps = [rnn_step(xs[..., t, :], h0, W_xh, W_hh, b_h, W_hy, b_y) for t in range(xs.shape[-2])]
    return torch.stack([h for h, _ in steps], dim=-2), torch.stack([y for _, y in steps], dim=-2)


def states_before_each_step(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h, hs, ys = h0, [], []
    for t in range(xs.shape[-2]):
        hs.append(h)
        h, y = rnn_step(xs[..., t, :], h, W_xh, W_hh, b_h, W_hy, b_y)
        ys.append(y)
    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)


def stacks_time_on_dim_0(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    hs, ys = rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y)
    return hs.movedim(-2, 0), ys.movedim(-2, 0)  # what torch.stack(hs, dim=0) gives


def loops_over_first_dim(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h, hs, ys = h0, [], []
    for t in range(xs.shape[0]):
        h, y = rnn_step(xs[t], h, W_xh, W_hh, b_h, W_hy, b_y)
        hs.append(h)
        ys.append(y)
    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)


def last_step_only(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    hs, ys = rnn_forward(xs, h0, W_xh, W_hh, b_h, W_hy, b_y)
    return hs[..., -1, :], ys[..., -1, :]


def state_detached_between_steps(xs, h0, W_xh, W_hh, b_h, W_hy, b_y):
    h, hs, ys = h0, [], []
    for t in range(xs.shape[-2]):
        h, y = rnn_step(xs[..., t, :], h, W_xh, W_hh, b_h, W_hy, b_y)
        hs.append(h)
        ys.append(y)
        h = h.detach()
    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)


def state_squeezed(x_t, h_prev, W_xh, W_hh, b_h, W_hy, b_y):
    h_t = torch.tanh(x_t @ W_xh + h_prev @ W_hh + b_h).squeeze()
    return h_t, h_t @ W_hy + b_y


MISTAKES = [
    step_mistake(
        missing_tanh,
        "no tanh: the hidden state is linear",
        "Without the activation every step is linear, and so is the whole network. "
        "h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        relu_instead_of_tanh,
        "ReLU instead of tanh",
        "This network's update is h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h): tanh keeps the state "
        "in (-1, 1) and keeps its sign, where ReLU cuts negative values to 0.",
    ),
    step_mistake(
        sigmoid_instead_of_tanh,
        "sigmoid instead of tanh",
        "Sigmoid squashes into (0, 1), so the state can never be negative. The update is "
        "h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        bias_outside_tanh,
        "b_h added after the tanh",
        "The bias belongs inside the activation, with the two products: "
        "h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        tanh_of_input_only,
        "tanh applied to the input term only",
        "tanh wraps the whole sum, the input term, the recurrent term and the bias: "
        "h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        transposed_w_hh,
        "W_hh transposed",
        "`h_prev @ W_hh.T` carries the documents' column-vector formula W_hh h over literally. "
        "Here states are rows and W_hh is (in_features, out_features): `h_prev @ W_hh`.",
    ),
    step_mistake(
        weights_swapped,
        "W_xh and W_hh swapped",
        "W_xh maps the input (d_in) to the hidden size and W_hh the previous state (d_h): "
        "`x_t @ W_xh + h_prev @ W_hh`. Swapped, they only fit when d_in == d_h.",
    ),
    step_mistake(
        bias_added_twice,
        "b_h added twice",
        "The hidden bias enters the update once: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        no_hidden_bias,
        "b_h is missing",
        "The update adds the hidden bias inside the tanh: "
        "h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h).",
    ),
    step_mistake(
        no_output_bias,
        "b_y is missing",
        "The output is read off the new state with its own bias: y_t = h_t W_hy + b_y.",
    ),
    step_mistake(
        output_through_tanh,
        "the output goes through tanh",
        "Only the hidden state has an activation; the output is a plain linear read-out, "
        "y_t = h_t W_hy + b_y, so it can take any value.",
    ),
    step_mistake(
        output_from_previous_state,
        "the output is read off the previous state",
        "y_t comes from the state just computed: y_t = h_t W_hy + b_y, not h_{t-1} W_hy + b_y.",
    ),
    step_mistake(
        outputs_swapped,
        "returns (y_t, h_t) instead of (h_t, y_t)",
        "The step returns the new hidden state first, then the output: `return h_t, y_t`.",
    ),
    step_mistake(
        state_squeezed,
        "`.squeeze()` drops a batch of one",
        "`.squeeze()` removes every dimension of size 1, the batch of one sequence (or d_h = 1) "
        "too, so h_t and y_t come back without their batch dim. Leave the shapes as the "
        "products make them, or name the dim to remove.",
    ),
    float32_cast(EXERCISE, "rnn_step", rnn_step, "step_float32_cast"),
    no_gradient(EXERCISE, "rnn_step", rnn_step, "step_detached"),
    forward_mistake(
        h0_ignored,
        "h0 is ignored",
        "The sequence starts from zeros instead of the given initial state. Start the loop "
        "from `h = h0`.",
    ),
    forward_mistake(
        state_not_carried,
        "the state is not carried from step to step",
        "Every step starts again from h0, so the network never remembers what it read. Feed "
        "each new state into the next step: `h, y = rnn_step(xs[..., t, :], h, ...)`.",
    ),
    forward_mistake(
        states_before_each_step,
        "hs holds the state before each step",
        "hs[t] is the state after reading x_t: append h after the step, not before it (h0 is "
        "not part of the result).",
    ),
    forward_mistake(
        stacks_time_on_dim_0,
        "the steps are stacked along dim 0",
        "With batch dims, dim 0 is the batch. Time is on dim -2, in the inputs and in the "
        "results: `torch.stack(hs, dim=-2)`.",
    ),
    forward_mistake(
        loops_over_first_dim,
        "the loop runs over dim 0 instead of time",
        "`xs[t]` over `range(xs.shape[0])` walks over the batch when xs is batched. Time is "
        "dim -2: `for t in range(xs.shape[-2])` and `xs[..., t, :]`.",
    ),
    forward_mistake(
        last_step_only,
        "only the last step is returned",
        "rnn_forward returns every step's state and output, stacked along dim -2: "
        "(..., T, d_h) and (..., T, d_out).",
    ),
    float32_cast(EXERCISE, "rnn_forward", rnn_forward, "forward_float32_cast"),
    forward_mistake(
        state_detached_between_steps,
        "the state is detached between steps",
        "`h.detach()` in the loop keeps the values right but cuts the gradient through time, "
        "so W_hh and h0 could not learn from later steps. Pass h on as it is.",
        kind="gradient",
    ),
    no_gradient(EXERCISE, "rnn_forward", rnn_forward, "forward_detached"),
]


def _weights(d_in, d_h, d_out, seed):
    """W_xh, W_hh (never symmetric), b_h, W_hy, b_y."""
    shapes = [(d_in, d_h), (d_h, d_h), (d_h,), (d_h, d_out), (d_out,)]
    return tuple(normal(*s, seed=seed + i, scale=0.6) for i, s in enumerate(shapes))


def _step(batch, d_in, d_h, d_out, seed):
    x, h = normal(*batch, d_in, seed=seed), normal(*batch, d_h, seed=seed + 10, scale=0.5)
    return Probe((x, h, *_weights(d_in, d_h, d_out, seed + 20)))


def _forward(batch, steps, d_in, d_h, d_out, seed):
    xs, h0 = normal(*batch, steps, d_in, seed=seed), normal(*batch, d_h, seed=seed + 10, scale=0.5)
    return Probe((xs, h0, *_weights(d_in, d_h, d_out, seed + 20)))


PROBES = {
    "rnn_step": [
        _step((), 3, 4, 2, seed=100),
        _step((2,), 3, 4, 2, seed=200),
        _step((3,), 4, 4, 2, seed=300),  # d_in == d_h: swapped weights compute, wrongly
        _step((1,), 3, 4, 2, seed=350),  # a batch of one: `.squeeze()` drops it
    ],
    "rnn_forward": [
        _forward((), 4, 3, 5, 2, seed=400),
        _forward((2,), 4, 3, 5, 2, seed=500),
        _forward((3,), 3, 2, 5, 2, seed=600),  # batch == T: a loop over dim 0 computes, wrongly
    ],
}

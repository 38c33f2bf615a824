"""Common mistakes in exercise 11: lstm_step(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "lstm_step"
step_mistake = partial(mistake, EXERCISE, "lstm_step")
sigmoid, tanh = torch.sigmoid, torch.tanh


def blocks(x_t, h_prev, W_x, W_h, b, order="ifgo"):
    """The four blocks of the gates' pre-activations, read in `order`, returned as i, f, g, o."""
    found = dict(zip(order, (x_t @ W_x + h_prev @ W_h + b).chunk(4, dim=-1), strict=True))
    return found["i"], found["f"], found["g"], found["o"]


def lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_t), c_t


def gate_order(order):
    """The right step with the blocks read in another order."""

    def wrong(x_t, h_prev, c_prev, W_x, W_h, b):
        i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b, order)
        c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
        return sigmoid(o) * tanh(c_t), c_t

    wrong.__name__ = wrong.__qualname__ = f"gates_{order}"
    return wrong


def input_and_forget_swapped(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(i) * c_prev + sigmoid(f) * tanh(g)
    return sigmoid(o) * tanh(c_t), c_t


def candidate_sigmoid(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * sigmoid(g)
    return sigmoid(o) * tanh(c_t), c_t


def output_gate_tanh(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return tanh(o) * tanh(c_t), c_t


def no_forget_gate(x_t, h_prev, c_prev, W_x, W_h, b):
    i, _, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_t), c_t


def h_without_tanh(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * c_t, c_t


def h_from_previous_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_prev), c_t


def w_h_applied_to_cell(x_t, h_prev, c_prev, W_x, W_h, b):
    return lstm_step(x_t, c_prev, c_prev, W_x, W_h, b)


def outputs_swapped(x_t, h_prev, c_prev, W_x, W_h, b):
    h_t, c_t = lstm_step(x_t, h_prev, c_prev, W_x, W_h, b)
    return c_t, h_t


def chunk_along_dim_0(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = (x_t @ W_x + h_prev @ W_h + b).chunk(4, dim=0)
    c_t = sigmoid(f) * c_prev + sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_t), c_t


def states_squeezed(x_t, h_prev, c_prev, W_x, W_h, b):
    h_t, c_t = lstm_step(x_t, h_prev, c_prev, W_x, W_h, b)
    return h_t.squeeze(), c_t.squeeze()


def cell_updated_in_place(x_t, h_prev, c_prev, W_x, W_h, b):
    i, f, g, o = blocks(x_t, h_prev, W_x, W_h, b)
    c_prev *= sigmoid(f)
    c_prev += sigmoid(i) * tanh(g)
    return sigmoid(o) * tanh(c_prev), c_prev


UPDATE = "c_t = f ⊙ c_{t-1} + i ⊙ g, h_t = o ⊙ tanh(c_t)"
ORDER = (
    "Split the gates along dim -1 in PyTorch's order, `i, f, g, o = gates.chunk(4, dim=-1)`: "
    "input gate, forget gate, candidate, output gate."
)
MISTAKES = [
    step_mistake(
        gate_order("ifog"),
        "the gates are read in the order i, f, o, g",
        f"{ORDER} Another order trains just as well from scratch, but computes something else "
        "with these weights, and PyTorch's weights do not carry over.",
    ),
    step_mistake(
        gate_order("igfo"),
        "the gates are read in the order i, g, f, o",
        f"That is TensorFlow 1's BasicLSTMCell order. {ORDER}",
    ),
    step_mistake(
        input_and_forget_swapped,
        "the input and forget gates swapped roles",
        f"The forget gate scales the old cell and the input gate the candidate: {UPDATE}.",
    ),
    step_mistake(
        candidate_sigmoid,
        "sigmoid on the candidate g",
        "The candidate g uses tanh, so the cell can be written negative values; only the three "
        f"gates i, f, o use the sigmoid. {UPDATE}.",
    ),
    step_mistake(
        output_gate_tanh,
        "tanh on the output gate",
        "The output gate is a sigmoid, between 0 and 1, like the other two gates; tanh is for "
        f"the candidate g and the cell in h_t. {UPDATE}.",
    ),
    step_mistake(
        no_forget_gate,
        "the forget gate is not applied",
        f"With c_t = c_prev + i ⊙ g the cell never forgets: the forget gate scales it, {UPDATE}.",
    ),
    step_mistake(
        h_without_tanh,
        "h_t = o ⊙ c_t, without the tanh",
        "The cell can grow beyond [-1, 1]; the hidden state squashes it first: "
        "h_t = o ⊙ tanh(c_t).",
    ),
    step_mistake(
        h_from_previous_cell,
        "h_t is read off the previous cell",
        f"The hidden state shows the cell just computed: {UPDATE}, with c_t, not c_prev.",
    ),
    step_mistake(
        w_h_applied_to_cell,
        "W_h multiplies the cell instead of the hidden state",
        "The gates see the input and the previous hidden state, "
        "gates = x_t W_x + h_prev W_h + b; the cell only enters through c_t = f ⊙ c_prev + i ⊙ g.",
    ),
    step_mistake(
        outputs_swapped,
        "returns (c_t, h_t) instead of (h_t, c_t)",
        "The step returns the new hidden state first, then the new cell: `return h_t, c_t`.",
    ),
    step_mistake(
        chunk_along_dim_0,
        "the gates are split along dim 0",
        "Unbatched, dim 0 is the gates' dim, but with batch dims it is the batch. The gates are "
        "on the last dim: `gates.chunk(4, dim=-1)`.",
    ),
    step_mistake(
        states_squeezed,
        "`.squeeze()` drops a batch of one",
        "`.squeeze()` removes every dimension of size 1, the batch of one sequence (or d_h = 1) "
        "too, so h_t and c_t come back without their batch dim. Leave the shapes as the "
        "products make them, or name the dim to remove.",
    ),
    float32_cast(EXERCISE, "lstm_step", lstm_step, "float32_cast"),
    step_mistake(
        cell_updated_in_place,
        "c_prev is changed in place",
        "`c_prev *= f` (or another in-place operation) changes the caller's cell state. Compute "
        "a new tensor: `c_t = f * c_prev + i * g`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, "lstm_step", lstm_step, "no_gradient"),
]


def _probe(batch, d_in, d_h, seed):
    shapes = [(*batch, d_in), (*batch, d_h), (*batch, d_h), (d_in, 4 * d_h), (d_h, 4 * d_h)]
    tensors = [normal(*shape, seed=seed + i) for i, shape in enumerate(shapes)]
    return Probe((*tensors, normal(4 * d_h, seed=seed + 5, scale=0.5)))


PROBES = {
    "lstm_step": [
        _probe((), 3, 2, seed=10),
        _probe((2,), 3, 2, seed=20),  # chunks along dim 0 do not unpack into four gates
        _probe((1,), 3, 2, seed=30),  # a batch of one: `.squeeze()` drops it
    ],
}

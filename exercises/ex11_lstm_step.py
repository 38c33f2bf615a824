"""Exercise 11: one step of an LSTM.

The plain RNN of exercise 5 overwrites its whole state at every step: h_t = tanh(x_t W_xh +
h_{t-1} W_hh + b_h). Backpropagation through time multiplies one Jacobian per step, W_hh
scaled by the slope of tanh, 1 - h_t², so the gradient that reaches a token k steps back is a
product of k such factors. When W_hh shrinks vectors, or tanh saturates (1 - h_t² near 0), that
product vanishes geometrically: the network cannot learn that a word early in a sentence
matters for one much later. (When W_hh stretches them, it can explode instead.)

A long short-term memory (LSTM) adds a second state, the cell c, that is updated by addition
rather than overwritten. Each step computes four gates from the input and the previous hidden
state, with one linear map whose output is cut into four blocks,

    gates = x_t W_x + h_{t-1} W_h + b,   split along the last dim into  i, f, g, o
    i = σ(·)     input gate: how much of the candidate to write    (0 to 1)
    f = σ(·)     forget gate: how much of the old cell to keep     (0 to 1)
    g = tanh(·)  candidate: what to write                          (-1 to 1)
    o = σ(·)     output gate: how much of the cell to show         (0 to 1)

    c_t = f ⊙ c_{t-1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)

with σ the sigmoid and ⊙ the elementwise product. Along the cell path, each step multiplies
the gradient by f alone (∂c_t/∂c_{t-1} = diag(f), the gates held fixed): no weight matrix and no
squashing in between. While the forget gate stays near 1, the cell carries information, and
gradient, across many steps almost unchanged; the network learns when to keep (f ≈ 1), when to
write (i ≈ 1) and when to show (o ≈ 1). This mitigates the vanishing gradient without
abolishing it (f < 1 still shrinks it), and the LSTM still reads one token at a time, which is
what attention does away with.

Two corrections to the course documents. Gated cells do not "forget parts of the input": the
forget gate scales the cell state, the memory, entry by entry, and the input gate decides how
much of the new candidate gets in. And the output gate leaves the cell state alone: it scales
tanh(c_t) to make h_t, while c_t passes to the next step untouched.

The order of the four blocks in W_x, W_h and b is a convention; this exercise uses PyTorch's
(i, f, g, o), so your step matches torch.nn.LSTMCell with weight_ih = W_xᵀ, weight_hh = W_hᵀ,
bias_ih = b and bias_hh = 0 (PyTorch keeps two biases that are simply added). Keras uses the
same order with weights laid out as here; TensorFlow 1's BasicLSTMCell uses (i, g, f, o) and
ONNX (i, o, f, g), so their weights do not carry over without reordering the blocks.

Shapes: x_t (..., d_in), h_prev and c_prev (..., d_h), W_x (d_in, 4·d_h), W_h (d_h, 4·d_h),
b (4·d_h,) -> h_t (..., d_h), c_t (..., d_h).

Not allowed in this exercise (a check looks for them): torch.nn.LSTM, torch.nn.LSTMCell, torch.lstm,
torch.lstm_cell, torch._VF.lstm, torch._VF.lstm_cell; nor eval, exec, compile, __import__,
importlib, vars, globals, __dict__ or getattr with a computed name, which could reach them.
"""

import torch
from torch import Tensor


def lstm_step(
    x_t: Tensor, h_prev: Tensor, c_prev: Tensor, W_x: Tensor, W_h: Tensor, b: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM update, gates in PyTorch's order (i, f, g, o): returns (h_t, c_t)."""
    raise NotImplementedError("Hint: cut the gates in four, in PyTorch's order: which three blocks get a sigmoid?")

"""Exercise 5: one step of a recurrent network.

Before attention, sequences were read by recurrent networks: one token at a time, carrying a
hidden state h that summarises everything read so far. At step t the network combines the new
input with the previous state, then reads an output off the new state:

    h_t = tanh(x_t W_xh + h_{t-1} W_hh + b_h)
    y_t = h_t W_hy + b_y

The same weights are used at every step, which is how one small network reads sequences of any
length. The course documents write the same update for column vectors, W_hh h_{t-1} + W_xh x_t;
here vectors are rows and every weight matrix is (in_features, out_features), applied as x @ W,
which is PyTorch's convention for batched data. The documents also pass y_t through an output
non-linearity g; here y_t are the logits, raw scores that a later softmax, or the loss, turns
into probabilities.

`rnn_forward` unrolls the step over a whole sequence, starting from h0. Reading step by step is
also the weakness attention addresses: everything the network knows about the start of a long
sequence must survive every later tanh, and the gradient that trains it shrinks on the way back.

Shapes: x_t (..., d_in), h_prev (..., d_h), W_xh (d_in, d_h), W_hh (d_h, d_h), b_h (d_h,),
W_hy (d_h, d_out), b_y (d_out,) -> h_t (..., d_h), y_t (..., d_out).
xs (..., T, d_in) with time on dim -2, h0 (..., d_h) -> hs (..., T, d_h), ys (..., T, d_out).

Not allowed in this exercise (a check looks for them): torch.nn.RNN, torch.nn.RNNCell,
torch.rnn_tanh, torch.rnn_tanh_cell, torch._VF.rnn_tanh, torch._VF.rnn_tanh_cell; nor eval, exec,
compile, __import__, importlib, vars, globals, __dict__ or getattr with a computed name, which could
reach them.
"""

import torch
from torch import Tensor


def rnn_step(
    x_t: Tensor, h_prev: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor
) -> tuple[Tensor, Tensor]:
    """One update of the hidden state and the output read from it: returns (h_t, y_t)."""
    raise NotImplementedError("Hint: rows times (in, out) matrices: which side of W_hh does h_prev go on? y_t has no tanh.")


def rnn_forward(
    xs: Tensor, h0: Tensor, W_xh: Tensor, W_hh: Tensor, b_h: Tensor, W_hy: Tensor, b_y: Tensor
) -> tuple[Tensor, Tensor]:
    """Run `rnn_step` over xs[..., t, :] from h0: returns (hs, ys), time on dim -2."""
    raise NotImplementedError("Hint: loop over t, feed each new state into the next step, then stack along dim -2.")

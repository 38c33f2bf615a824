"""Exercise 13: why attention replaced RNNs, an experiment.

An RNN encoder-decoder reads the input with a recurrent network (exercise 5) and hands the
decoder one vector, the encoder's last state. However long the input, everything the decoder
will write must fit through those d_h numbers: that is the bottleneck. And what the encoder read
at step t reaches the last state only by passing through every later step. (The course documents
say an RNN feeds its previous output back in as its next input; what it carries from step to
step is its hidden state. A decoder also reads the token it wrote last, as in exercise 12.)

Training meets the same chain from the other end. Backpropagation through time unrolls the RNN
into one deep network whose layers share their weights, and carries the loss's gradient back
one step at a time. For a loss that sees the encoder only through its last state h_T, as the
plain encoder-decoder's does, ∂loss/∂h_t = ∂loss/∂h_T · ∂h_T/∂h_t, and ∂h_T/∂h_t is a product of
one Jacobian per step. With row vectors, as in exercise 5, h_t = tanh(x_t W_xh + h_{t-1} W_hh + b),
and a small change δ of h_{t-1} changes h_t by

    δ W_hh diag(1 - h_t²) = δ M_t,    so that a change δ of h_t reaches h_T as δ M_{t+1} ⋯ M_T

(tanh' = 1 - tanh², so the slope is read off the state itself). Textbooks use column vectors
and write the Jacobian diag(1 - h_t²) W_hhᵀ, which is M_t transposed: it has the same norm.

Each factor M_t multiplies a vector's length by at most ‖W_hh‖₂ · max(1 - h_t²), where ‖W_hh‖₂
is W_hh's largest singular value. When that bound is below 1, because W_hh is small or because
the units saturate (|h| near 1, where tanh is flat), the product decays exponentially with the
distance T - t: early inputs get almost no learning signal, the vanishing gradient. When W_hh is
large and the units stay in tanh's steep middle, the product can grow exponentially instead:
exploding gradients, which clipping the gradient's norm tames. Vanishing has no such patch; the
cure is a shorter path. Gates (the LSTM of exercise 11) add a path that is mostly additive;
attention adds a path of length one: a decoder (exercises 6 and 12) or a self-attention layer
(exercise 7) reads every h_j directly, so ∂loss/∂h_j gets a term that crosses no recurrence.

`experiments/why_attention.py` measures it on a task that needs every input: reverse a sequence
of random tokens. At length 40, with the same small training budget, the plain RNN
encoder-decoder gets 17% of the tokens right (guessing gets 10%), while the same network with
Bahdanau attention, and a single transformer block, get more than 99%. Without attention, the
gradient reaching the encoder state 39 steps before the last is about 10⁻⁵ to 10⁻⁶ of the last
state's (the exact number varies from machine to machine, even with the same seeds); with
attention it stays of the same order as the last state's. The transformer block has the easiest
job: it sees the whole input at once and only has to learn a fixed permutation of positions,
while the RNN decoders write greedily, one token at a time, each fed the one they chose last.

The two functions are the experiment's measurements. `accuracy_by_position` is the fraction of
positions where the largest logit is the target, per position, over every sequence of the
batch. On the reversal task it shows where the plain RNN fails: its first outputs, the inputs it
read last, are mostly right, the later ones mostly guesses. It has no useful gradient (argmax is
flat almost everywhere), which is why models train on cross-entropy and are scored on accuracy.

`gradient_norms_through_time` takes the states hs of a tanh RNN and its W_hh, and returns for
every t the Frobenius norm ‖∂h_last/∂h_t‖_F (the square root of the sum of the squared entries)
of the product of the M's from step t + 1 to the last: the last entry is the identity's, √d_h,
and only the states after t enter entry t.

The documents also say that attention alone has no non-linearity, so that stacked attention
layers would only re-average the same values. Not so: the weights softmax(Q Kᵀ / √d_k) depend on
the inputs non-linearly. What is true is that each output is a weighted average of value
vectors: attention moves information between positions, but cannot compute anything new from
what one position holds. The feed-forward layer of a transformer block, two linear maps with a
non-linearity between them applied to every position on its own, does that per-position work.

Shapes: logits (..., T, vocab), targets (..., T) int64 -> (T,) in logits' dtype.
hs (..., T, d_h) with time on dim -2, W_hh (d_h, d_h) -> (..., T).
"""

import torch
from torch import Tensor


def accuracy_by_position(logits: Tensor, targets: Tensor) -> Tensor:
    """The fraction of correct argmax predictions at each of the T positions: -> (T,)."""
    raise NotImplementedError("Hint: compare logits.argmax(dim=-1) with targets, then average over every dim but the last.")


def gradient_norms_through_time(hs: Tensor, W_hh: Tensor) -> Tensor:
    """‖∂h_last/∂h_t‖_F for every step t of a tanh RNN's states hs: -> (..., T)."""
    raise NotImplementedError("Hint: walk back from the identity; M_{t+1} uses h_{t+1}, and goes on the left of the product.")

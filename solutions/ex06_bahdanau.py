"""Exercise 6: Bahdanau's additive attention.

An encoder-decoder RNN squeezes the whole input sentence into the encoder's last hidden state, a
single vector, before the decoder writes a word. Long sentences do not fit through that
bottleneck. Bahdanau, Cho and Bengio (2014) let the decoder look back instead: at step t it
scores each encoder state h_i against its own previous state s_{t-1} (the argument s below),
turns the scores into weights with softmax, and reads the weighted sum of the encoder states, a
context vector made for this step.

The dot product s · h_i could be the score (Luong, Pham and Manning, 2015, use it), but it needs
s and h_i to live in the same space and to have the same size. Bahdanau's score is additive, and
learns the comparison instead:

    score_i = v · tanh(s W1 + h_i W2)

W1 and W2 project both states into a shared attention space of size d_attn, tanh combines them,
and v reads one number off the result. Then weights = softmax(scores) over the N encoder states
and context = Σ_i weights_i h_i. You may use `torch.softmax` here.

Shapes: s (..., d_dec), H (..., N, d_enc), W1 (d_dec, d_attn), W2 (d_enc, d_attn), v (d_attn,)
-> scores (..., N);  context (..., d_enc), weights (..., N).
"""

import torch
from torch import Tensor


def additive_scores(s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor) -> Tensor:
    """score_i = tanh(s W1 + h_i W2) · v for every encoder state h_i: -> (..., N)."""
    ### BEGIN SOLUTION
    # Hint: (s @ W1) needs a length-1 dimension to broadcast against the N rows of H @ W2.
    features = torch.tanh((s @ W1).unsqueeze(-2) + H @ W2)
    return features @ v
    ### END SOLUTION


def bahdanau_attention(
    s: Tensor, H: Tensor, W1: Tensor, W2: Tensor, v: Tensor
) -> tuple[Tensor, Tensor]:
    """Softmax the additive scores over the encoder states and mix them: (context, weights)."""
    ### BEGIN SOLUTION
    # Hint: weights = softmax over the last dim; context = weighted sum of the rows of H.
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    context = (weights.unsqueeze(-1) * H).sum(dim=-2)
    return context, weights
    ### END SOLUTION

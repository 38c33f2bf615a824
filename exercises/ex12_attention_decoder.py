"""Exercise 12: one step of a recurrent decoder that attends over the encoder.

A plain encoder-decoder reads the source sentence with an RNN (exercise 5) and hands the decoder
one vector: the encoder's last hidden state. Every word the decoder writes must be produced from
that single context, whatever the sentence's length, and what the encoder read early has been
squeezed through every later step. That vector is the bottleneck.

Bahdanau, Cho and Bengio (2014) keep all the encoder states H = (h_1, ..., h_n) instead, and give
every decoder step a context of its own. Before it updates its state, the decoder scores each h_j
against the state it has so far, s_prev, with the additive score of exercise 6, and mixes the
encoder states by the softmaxed scores:

    score_j = v · tanh(s_prev W_s + h_j W_h)
    weights = softmax(scores) over the n encoder positions,   context = Σ_j weights_j h_j

(W_s and W_h are exercise 6's W1 and W2.) The context then enters the recurrent update as one
more input, next to the previous output's embedding y_prev and the previous state, and the logits
over the vocabulary are read off the new state as in exercise 5:

    s_t    = tanh(y_prev W_y + s_prev W_ss + context W_c + b_s)
    logits = s_t W_out + b_out

The order matters. The state that asks is s_prev, from before this step's update: the new state
cannot ask, since it is made from the answer. The course documents write the score as
score(s_t, h_i); in Bahdanau's decoder the state compared at step t is s_{t-1}. (Luong et al.,
2015, do score with the new state, then mix the context into the output rather than the state: a
different design.) Bahdanau's read-out also looks at the context and y_prev directly; here, as in
exercise 5, the logits are read off the new state only, which the context has already shaped.
A step returns the new state and leaves s_prev as it was: the caller feeds s_t to the next step.

The weights are worth looking at: at each step they show which source words the decoder reads,
an alignment learned without ever being taught one. You may use `torch.softmax`; the recurrent
update is yours to write (torch.nn's RNN modules are forbidden). Vectors are rows and every
weight matrix is (in_features, out_features), applied as x @ W.

Shapes: y_prev (..., d_y), s_prev (..., d_dec), H (..., n, d_enc), the same leading dims;
params["W_s"] (d_dec, d_attn), params["W_h"] (d_enc, d_attn), params["v"] (d_attn,),
params["W_y"] (d_y, d_dec), params["W_ss"] (d_dec, d_dec), params["W_c"] (d_enc, d_dec),
params["b_s"] (d_dec,), params["W_out"] (d_dec, vocab), params["b_out"] (vocab,)
-> s_t (..., d_dec), context (..., d_enc), weights (..., n), logits (..., vocab).

Not allowed in this exercise (a check looks for them): torch.nn.RNN, torch.nn.RNNCell,
torch.rnn_tanh, torch.rnn_tanh_cell; nor eval, exec, compile, __import__, importlib, vars, globals,
__dict__ or getattr with a computed name, which could reach them.
"""

import torch
from torch import Tensor


def attention_decoder_step(
    y_prev: Tensor, s_prev: Tensor, H: Tensor, params: dict[str, Tensor]
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Attend over H with s_prev, then update the state: returns (s_t, context, weights, logits)."""
    raise NotImplementedError("Hint: score H against s_prev as in exercise 6; then context @ W_c joins the sum in tanh.")

"""Common mistakes in exercise 12: attention_decoder_step(y_prev, s_prev, H, params), returning
(s_t, context, weights, logits)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "attention_decoder"
STEP = "attention_decoder_step"
step_mistake = partial(mistake, EXERCISE, STEP)


def scores(s, H, p):
    return torch.tanh((s @ p["W_s"]).unsqueeze(-2) + H @ p["W_h"]) @ p["v"]


def mix(weights, H):
    return (weights.unsqueeze(-1) * H).sum(dim=-2)


def update(y_prev, s_prev, context, p):
    return torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + context @ p["W_c"] + p["b_s"])


def read_out(s, p):
    return s @ p["W_out"] + p["b_out"]


def attention_decoder_step(y_prev, s_prev, H, params):
    weights = torch.softmax(scores(s_prev, H, params), dim=-1)
    context = mix(weights, H)
    s_t = update(y_prev, s_prev, context, params)
    return s_t, context, weights, read_out(s_t, params)


def attends_with_new_state(y_prev, s_prev, H, params):
    p = params
    s_t = torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + p["b_s"])
    weights = torch.softmax(scores(s_t, H, p), dim=-1)
    return s_t, mix(weights, H), weights, read_out(s_t, p)


def softmax_over_wrong_dim(y_prev, s_prev, H, params):
    weights = torch.softmax(scores(s_prev, H, params), dim=0)
    context = mix(weights, H)
    s_t = update(y_prev, s_prev, context, params)
    return s_t, context, weights, read_out(s_t, params)


def no_softmax(y_prev, s_prev, H, params):
    weights = scores(s_prev, H, params)
    context = mix(weights, H)
    s_t = update(y_prev, s_prev, context, params)
    return s_t, context, weights, read_out(s_t, params)


def v_not_applied(y_prev, s_prev, H, params):
    p = params
    features = torch.tanh((s_prev @ p["W_s"]).unsqueeze(-2) + H @ p["W_h"])
    weights = torch.softmax(features.sum(dim=-1), dim=-1)
    context = mix(weights, H)
    s_t = update(y_prev, s_prev, context, p)
    return s_t, context, weights, read_out(s_t, p)


def encoder_projection_transposed(y_prev, s_prev, H, params):
    p = params
    projected = (p["W_h"].T @ H.T).T  # W_h h_j for column vectors, carried over
    weights = torch.softmax(torch.tanh((s_prev @ p["W_s"]).unsqueeze(-2) + projected) @ p["v"], -1)
    context = mix(weights, H)
    s_t = update(y_prev, s_prev, context, p)
    return s_t, context, weights, read_out(s_t, p)


def context_not_in_state(y_prev, s_prev, H, params):
    p = params
    weights = torch.softmax(scores(s_prev, H, p), dim=-1)
    s_t = torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + p["b_s"])
    return s_t, mix(weights, H), weights, read_out(s_t, p)


def context_squeezes_every_size_1_dim(y_prev, s_prev, H, params):
    weights = torch.softmax(scores(s_prev, H, params), dim=-1)
    context = (weights.unsqueeze(-2) @ H).squeeze()
    s_t = update(y_prev, s_prev, context, params)
    return s_t, context, weights, read_out(s_t, params)


def state_without_tanh(y_prev, s_prev, H, params):
    p = params
    weights = torch.softmax(scores(s_prev, H, p), dim=-1)
    context = mix(weights, H)
    s_t = y_prev @ p["W_y"] + s_prev @ p["W_ss"] + context @ p["W_c"] + p["b_s"]
    return s_t, context, weights, read_out(s_t, p)


def logits_from_previous_state(y_prev, s_prev, H, params):
    s_t, context, weights, _ = attention_decoder_step(y_prev, s_prev, H, params)
    return s_t, context, weights, read_out(s_prev, params)


def state_overwritten_in_place(y_prev, s_prev, H, params):
    s_t, context, weights, logits = attention_decoder_step(y_prev, s_prev, H, params)
    s_prev.copy_(s_t)
    return s_t, context, weights, logits


def bias_accumulated_in_place(y_prev, s_prev, H, params):
    p = params
    weights = torch.softmax(scores(s_prev, H, p), dim=-1)
    context = mix(weights, H)
    pre_activation = p["b_s"]
    pre_activation += y_prev @ p["W_y"] + s_prev @ p["W_ss"] + context @ p["W_c"]
    s_t = torch.tanh(pre_activation)
    return s_t, context, weights, read_out(s_t, p)


def _params_in_float32(y_prev, s_prev, H, params):
    return attention_decoder_step(y_prev, s_prev, H, {k: v.float() for k, v in params.items()})


UPDATE = "s_t = tanh(y_prev W_y + s_prev W_ss + context W_c + b_s)"
MISTAKES = [
    step_mistake(
        attends_with_new_state,
        "the encoder states are scored against the new state s_t",
        "You updated the state first, then attended with it. In Bahdanau's decoder the state "
        "that asks is s_prev: score_j = v · tanh(s_prev W_s + h_j W_h), and the context this "
        f"gives enters the update, {UPDATE}.",
    ),
    step_mistake(
        softmax_over_wrong_dim,
        "softmax along the wrong dimension",
        "Softmax along dim 0 normalises over the batch as soon as there is one. Each decoder "
        "state's weights are over its n encoder positions, the last dimension: `dim=-1`.",
    ),
    step_mistake(
        no_softmax,
        "the raw scores are used as weights",
        "Scores can be negative and do not sum to 1: weights = softmax(scores) over the n "
        "encoder positions, then context = Σ_j weights_j h_j.",
    ),
    step_mistake(
        v_not_applied,
        "the attention features are summed instead of multiplied by v",
        "v is learned: it weighs the d_attn features before they are added up. The score is "
        "score_j = v · tanh(s_prev W_s + h_j W_h), `features @ v`.",
    ),
    step_mistake(
        encoder_projection_transposed,
        "`.T` on batched encoder states",
        "(W_h.T @ H.T).T is the column-vector formula W_h h_j carried over: right for one "
        "sentence, but `.T` reverses every dim of a batch. Rows times weights: `H @ W_h`.",
    ),
    step_mistake(
        context_not_in_state,
        "the context does not enter the new state",
        "The point of attention is that each step's context shapes what the decoder does "
        f"next: add context W_c inside the tanh, {UPDATE}.",
    ),
    step_mistake(
        context_squeezes_every_size_1_dim,
        "`.squeeze()` drops a batch of one",
        "`(weights.unsqueeze(-2) @ H).squeeze()` removes every dimension of size 1, the batch "
        "of one sentence (or d_enc = 1) too, so the context has the wrong shape. Name the one "
        "to remove: `.squeeze(-2)`.",
    ),
    step_mistake(
        state_without_tanh,
        "no tanh in the state update",
        f"Without tanh the state is linear in its inputs and can grow without bound: {UPDATE}.",
    ),
    step_mistake(
        logits_from_previous_state,
        "the logits are read off s_prev",
        "The output of this step comes from the state this step computed: "
        "logits = s_t W_out + b_out, with s_t the new state.",
    ),
    float32_cast(EXERCISE, STEP, _params_in_float32, "float32_cast"),
    step_mistake(
        state_overwritten_in_place,
        "s_prev is overwritten with the new state",
        "`s_prev.copy_(s_t)` (or `s_prev[:] = ...`) changes the caller's tensor. A step returns "
        "the new state and leaves s_prev alone: the caller feeds s_t into the next step.",
        kind="in_place",
    ),
    step_mistake(
        bias_accumulated_in_place,
        "params['b_s'] is changed in place",
        "`total = params['b_s']` names the caller's bias, it does not copy it, so `total += ...` "
        "adds this step's sum into b_s (and cannot broadcast a batch into it). Write the sum "
        "as one expression: `... + context @ W_c + b_s`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, STEP, attention_decoder_step, "no_gradient"),
]


def _probe(batch, n, *, d_attn=6, seed):
    """d_y = 3, d_dec = 5, d_enc = 4 and vocab = 7; `n` encoder states; `batch` leading dims."""
    y_prev, s_prev = (normal(*batch, d, seed=seed + i) for i, d in enumerate((3, 5)))
    H = normal(*batch, n, 4, seed=seed + 2)
    shapes = {
        "W_s": (5, d_attn),
        "W_h": (4, d_attn),
        "v": (d_attn,),
        "W_y": (3, 5),
        "W_ss": (5, 5),
        "W_c": (4, 5),
        "b_s": (5,),
        "W_out": (5, 7),
        "b_out": (7,),
    }
    params = {
        name: normal(*shape, seed=seed + 10 + i, scale=0.6)
        for i, (name, shape) in enumerate(shapes.items())
    }
    return Probe((y_prev, s_prev, H, params))


PROBES = {
    STEP: [
        _probe((), 8, seed=1),
        _probe((3,), 2, seed=30),
        # n == d_enc == d_attn: `.T` on the batched H computes (wrong) values instead of failing.
        _probe((2,), 4, d_attn=4, seed=60),
        _probe((1,), 3, seed=90),  # a batch of one: `.squeeze()` drops it
    ]
}

"""Common mistakes in exercise 6: additive_scores(s, H, W1, W2, v) and
bahdanau_attention(s, H, W1, W2, v)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "bahdanau"
scores_mistake = partial(mistake, EXERCISE, "additive_scores")
attention_mistake = partial(mistake, EXERCISE, "bahdanau_attention")


def additive_scores(s, H, W1, W2, v):
    return torch.tanh((s @ W1).unsqueeze(-2) + H @ W2) @ v


def bahdanau_attention(s, H, W1, W2, v):
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    return (weights.unsqueeze(-1) * H).sum(dim=-2), weights


def v_not_applied(s, H, W1, W2, v):
    return torch.tanh((s @ W1).unsqueeze(-2) + H @ W2).sum(dim=-1)


def tanh_missing(s, H, W1, W2, v):
    return ((s @ W1).unsqueeze(-2) + H @ W2) @ v


def tanh_after_v(s, H, W1, W2, v):
    return torch.tanh(((s @ W1).unsqueeze(-2) + H @ W2) @ v)


def state_not_unsqueezed(s, H, W1, W2, v):
    return torch.tanh(s @ W1 + H @ W2) @ v


def softmax_in_scores(s, H, W1, W2, v):
    return torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)


def softmax_over_wrong_dim(s, H, W1, W2, v):
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=0)
    return (weights.unsqueeze(-1) * H).sum(dim=-2), weights


def context_sums_over_dim_0(s, H, W1, W2, v):
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    return (weights.unsqueeze(-1) * H).sum(dim=0), weights


def context_squeezes_every_size_1_dim(s, H, W1, W2, v):
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    return (weights.unsqueeze(-2) @ H).squeeze(), weights


def no_softmax(s, H, W1, W2, v):
    scores = additive_scores(s, H, W1, W2, v)
    return (scores.unsqueeze(-1) * H).sum(dim=-2), scores


def context_of_projected_states(s, H, W1, W2, v):
    weights = torch.softmax(additive_scores(s, H, W1, W2, v), dim=-1)
    return (weights.unsqueeze(-1) * (H @ W2)).sum(dim=-2), weights


def outputs_swapped(s, H, W1, W2, v):
    context, weights = bahdanau_attention(s, H, W1, W2, v)
    return weights, context


MISTAKES = [
    scores_mistake(
        v_not_applied,
        "the features are summed instead of multiplied by v",
        "v is learned: it weighs each of the d_attn features before they are added up. The "
        "score is the dot product score_i = v · tanh(s W1 + h_i W2), `features @ v`.",
    ),
    scores_mistake(
        tanh_missing,
        "no tanh between the projections and v",
        "Without tanh the score is linear in s and h_i, and the two projections collapse into "
        "one. score_i = v · tanh(s W1 + h_i W2).",
    ),
    scores_mistake(
        tanh_after_v,
        "tanh applied after v",
        "tanh acts on the d_attn features, before v reads one number off them: "
        "score_i = v · tanh(s W1 + h_i W2), not tanh(v · (s W1 + h_i W2)).",
    ),
    scores_mistake(
        state_not_unsqueezed,
        "s W1 has no length-1 dimension to broadcast",
        "s W1 is (..., d_attn) and H W2 is (..., N, d_attn): without a sequence dimension the "
        "decoder states line up with the encoder states, right only without batch dims. "
        "Use `(s @ W1).unsqueeze(-2)`.",
    ),
    scores_mistake(
        softmax_in_scores,
        "the scores are already softmaxed",
        "additive_scores returns the raw scores v · tanh(s W1 + h_i W2); softmax turns them into "
        "weights in bahdanau_attention.",
    ),
    float32_cast(EXERCISE, "additive_scores", additive_scores, "scores_float32_cast"),
    no_gradient(EXERCISE, "additive_scores", additive_scores, "scores_detached"),
    attention_mistake(
        softmax_over_wrong_dim,
        "softmax along the wrong dimension",
        "Softmax along dim 0 normalises over the batch as soon as there is one. The weights of "
        "one decoder state are over its N encoder states, the last dimension: `dim=-1`.",
    ),
    attention_mistake(
        context_sums_over_dim_0,
        "the context sums over dim 0",
        "The context is Σ_i weights_i h_i, a sum over the N encoder states, which are dim -2 of "
        "H; dim 0 is the batch when there is one. Use `.sum(dim=-2)`.",
    ),
    attention_mistake(
        context_squeezes_every_size_1_dim,
        "`.squeeze()` drops a batch of one",
        "`(weights.unsqueeze(-2) @ H).squeeze()` removes every dimension of size 1, the batch "
        "of one decoder state (or d_enc = 1) too, so the context has the wrong shape. Name the "
        "one to remove: `.squeeze(-2)`.",
    ),
    attention_mistake(
        no_softmax,
        "the raw scores are used as weights",
        "Scores can be negative and do not sum to 1: weights = softmax(scores) over the N "
        "encoder states, then context = Σ_i weights_i h_i.",
    ),
    attention_mistake(
        context_of_projected_states,
        "the context mixes the projected states H W2",
        "W2 only serves the comparison. The context mixes the encoder states themselves: "
        "context = Σ_i weights_i h_i, of size d_enc.",
    ),
    attention_mistake(
        outputs_swapped,
        "returns (weights, context) instead of (context, weights)",
        "bahdanau_attention returns the context vector first, then the weights.",
    ),
    float32_cast(EXERCISE, "bahdanau_attention", bahdanau_attention, "float32_cast"),
    no_gradient(EXERCISE, "bahdanau_attention", bahdanau_attention, "detached_result"),
]

D_DEC, D_ENC, D_ATTN, N = 3, 4, 6, 5


def _probe(batch, seed, n=N):
    shapes = [(*batch, D_DEC), (*batch, n, D_ENC), (D_DEC, D_ATTN), (D_ENC, D_ATTN), (D_ATTN,)]
    return Probe(tuple(normal(*shape, seed=seed + i) for i, shape in enumerate(shapes)))


PROBES = {
    function: [
        _probe((), seed=1),
        _probe((N,), seed=10),  # batch == N: an unsqueeze-less s W1 broadcasts, wrongly
        _probe((2, 3), seed=20),
        _probe((1,), seed=30),  # a batch of one: `.squeeze()` drops it
    ]
    for function in ("additive_scores", "bahdanau_attention")
}

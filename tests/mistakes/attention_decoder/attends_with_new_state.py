"""Mistake in ex12_attention_decoder: updates the state first (without the context), then scores
the encoder states against the new state s_t instead of s_prev.
"""

import torch
from torch import Tensor


def attention_decoder_step(
    y_prev: Tensor, s_prev: Tensor, H: Tensor, params: dict[str, Tensor]
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Attend over H with s_prev, then update the state: returns (s_t, context, weights, logits)."""
    p = params
    s_t = torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + p["b_s"])
    scores = torch.tanh((s_t @ p["W_s"]).unsqueeze(-2) + H @ p["W_h"]) @ p["v"]
    weights = torch.softmax(scores, dim=-1)
    context = (weights.unsqueeze(-1) * H).sum(dim=-2)
    logits = s_t @ p["W_out"] + p["b_out"]
    return s_t, context, weights, logits

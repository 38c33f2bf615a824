"""Mistake in ex12_attention_decoder: computes the context but leaves it out of the state update."""

import torch
from torch import Tensor


def attention_decoder_step(
    y_prev: Tensor, s_prev: Tensor, H: Tensor, params: dict[str, Tensor]
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Attend over H with s_prev, then update the state: returns (s_t, context, weights, logits)."""
    p = params
    scores = torch.tanh((s_prev @ p["W_s"]).unsqueeze(-2) + H @ p["W_h"]) @ p["v"]
    weights = torch.softmax(scores, dim=-1)
    context = (weights.unsqueeze(-1) * H).sum(dim=-2)
    s_t = torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + p["b_s"])
    logits = s_t @ p["W_out"] + p["b_out"]
    return s_t, context, weights, logits

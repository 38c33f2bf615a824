"""Mistake in ex12_attention_decoder: the context squeezes the matrix product without naming a
dim, so a batch of one sentence loses its batch dim.
"""

import torch
from torch import Tensor


def attention_decoder_step(
    y_prev: Tensor, s_prev: Tensor, H: Tensor, params: dict[str, Tensor]
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Attend over H with s_prev, then update the state: returns (s_t, context, weights, logits)."""
    p = params
    scores = torch.tanh((s_prev @ p["W_s"]).unsqueeze(-2) + H @ p["W_h"]) @ p["v"]
    weights = torch.softmax(scores, dim=-1)
    context = (weights.unsqueeze(-2) @ H).squeeze()
    s_t = torch.tanh(y_prev @ p["W_y"] + s_prev @ p["W_ss"] + context @ p["W_c"] + p["b_s"])
    logits = s_t @ p["W_out"] + p["b_out"]
    return s_t, context, weights, logits

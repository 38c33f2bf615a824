"""Mistake in ex12_attention_decoder: starts the state's sum from params["b_s"] and adds to it with
+=, which changes the caller's bias (and cannot broadcast a batch into it).
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
    context = (weights.unsqueeze(-1) * H).sum(dim=-2)
    pre_activation = p["b_s"]
    pre_activation += y_prev @ p["W_y"] + s_prev @ p["W_ss"] + context @ p["W_c"]
    s_t = torch.tanh(pre_activation)
    logits = s_t @ p["W_out"] + p["b_out"]
    return s_t, context, weights, logits

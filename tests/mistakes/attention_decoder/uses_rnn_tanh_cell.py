"""Mistake in ex12_attention_decoder: takes the state update from the forbidden torch.rnn_tanh_cell
(right values).
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
    inputs = torch.cat([y_prev, context], dim=-1)
    w_ih = torch.cat([p["W_y"], p["W_c"]]).T
    s_t = torch.rnn_tanh_cell(
        inputs.reshape(-1, inputs.shape[-1]),
        s_prev.reshape(-1, s_prev.shape[-1]),
        w_ih,
        p["W_ss"].T,
        p["b_s"],
        torch.zeros_like(p["b_s"]),
    ).reshape(s_prev.shape)
    logits = s_t @ p["W_out"] + p["b_out"]
    return s_t, context, weights, logits

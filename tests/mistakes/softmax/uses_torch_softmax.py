"""Mistake in ex03_softmax: calls the forbidden torch.softmax (right values, NaN rows zeroed)."""

import torch
from torch import Tensor


def softmax(scores: Tensor, dim: int = -1) -> Tensor:
    """Softmax of `scores` along `dim`, stable for large entries, 0 weight for -inf entries."""
    return torch.softmax(scores, dim=dim).nan_to_num(nan=0.0)

"""Mistake in ex03_softmax: subtracts the maximum of the whole tensor, not of each slice: slices
far below it underflow.
"""

import torch
from torch import Tensor


def softmax(scores: Tensor, dim: int = -1) -> Tensor:
    """Softmax of `scores` along `dim`, stable for large entries, 0 weight for -inf entries."""
    shift = scores.amax()
    # In an all -inf slice the maximum is -inf too; shifting by it would give -inf - -inf = NaN.
    shift = torch.where(shift == float("-inf"), 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    # Only an all -inf slice sums to 0 (otherwise the largest term is exp(0) = 1): give it 0s.
    return exps / torch.where(total == 0, 1.0, total)

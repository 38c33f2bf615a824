"""Mistake in ex03_softmax: subtracts the maximum in place (scores -= shift), changing the
caller's tensor.
"""

import torch
from torch import Tensor


def softmax(scores: Tensor, dim: int = -1) -> Tensor:
    """Softmax of `scores` along `dim`, stable for large entries, 0 weight for -inf entries."""
    shift = scores.amax(dim=dim, keepdim=True)
    # In an all -inf slice the maximum is -inf too; shifting by it would give -inf - -inf = NaN.
    shift = torch.where(shift == float("-inf"), 0.0, shift)
    scores -= shift
    exps = torch.exp(scores)
    total = exps.sum(dim=dim, keepdim=True)
    # Only an all -inf slice sums to 0 (otherwise the largest term is exp(0) = 1): give it 0s.
    return exps / torch.where(total == 0, 1.0, total)

"""Exercise 3: a numerically stable softmax.

Softmax turns any real scores into positive weights that sum to 1:

    softmax(ω)_i = exp(ω_i) / Σ_j exp(ω_j),

so the scores of x² become [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581]. Unlike dividing by
the sum, it never gives a negative weight or divides by zero, and it stretches differences: a
higher score gets an exponentially larger share.

Written as the formula, it breaks on large inputs: exp(1000) is inf in float32 and float64, and
inf / inf is NaN. The fix costs one line: subtracting the same constant c from every score does
not change the result (the factor exp(-c) cancels), so subtract the largest score of the slice.
Every exponent is then at most 0, so nothing overflows, and the largest term is exactly 1, so the
sum cannot underflow to 0.

Two conventions matter later, when attention masks positions out:
- a score of -inf means "not allowed": its weight is exactly 0;
- a slice whose scores are all -inf has nothing to attend to: its weights are all 0, not NaN,
  and so are their gradients. Replacing NaN in the result afterwards is not enough: the NaN is
  still in the backward pass, and from there it reaches every weight trained through softmax.

Shapes: scores (...) -> the same shape, each slice along `dim` summing to 1 (or all 0).
Torch's own softmax and log-softmax are not allowed here, in any form (a method such as
scores.softmax(...) too); every other torch operation is fine.
"""

import torch
from torch import Tensor


def softmax(scores: Tensor, dim: int = -1) -> Tensor:
    """Softmax of `scores` along `dim`, stable for large entries, 0 weight for -inf entries."""
    ### BEGIN SOLUTION
    # Hint: subtract the maximum along dim before exp; a slice of only -inf must give zeros.
    shift = scores.amax(dim=dim, keepdim=True)
    # In an all -inf slice the maximum is -inf too; shifting by it would give -inf - -inf = NaN.
    shift = torch.where(shift == float("-inf"), 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    # Only an all -inf slice sums to 0 (otherwise the largest term is exp(0) = 1): give it 0s.
    return exps / torch.where(total == 0, 1.0, total)
    ### END SOLUTION

"""Returns the right weights as a non-contiguous tensor (a transposed view of a copy).

Not a cheat: a valid answer in an unusual memory layout. A grader that copied the raw storage
instead of the logical values, or required contiguity, would wrongly fail a correct student.
"""

import torch


def softmax(scores, dim=-1):
    shift = scores.amax(dim=dim, keepdim=True)
    shift = torch.where(shift == float("-inf"), 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    weights = exps / torch.where(total == 0, 1.0, total)
    if weights.dim() < 2:
        return weights.unsqueeze(0).expand(2, -1)[1]  # stride-0 storage, a view
    return weights.transpose(0, -1).contiguous().transpose(0, -1)

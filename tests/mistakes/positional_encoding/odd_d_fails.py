"""Mistake in ex10_positional_encoding: fills the odd features with as many cosines as there are
sines: a shape error when d is odd.
"""

import torch
from torch import Tensor


def sinusoidal_positions(n: int, d: int) -> Tensor:
    """The n × d table of sines (even features) and cosines (odd features), float32."""
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (torch.arange(0, d, 2) / d)
    P = torch.zeros(n, d)
    P[:, 0::2] = torch.sin(angles)
    P[:, 1::2] = torch.cos(angles)
    return P


def add_positions(X: Tensor, P: Tensor) -> Tensor:
    """X plus the first n = X.shape[-2] rows of the table P, in X's dtype."""
    return X + P[: X.shape[-2]].to(X.dtype)

"""Mistake in ex10_positional_encoding: exp(2i · ln(10000) / d) without its minus sign: the angles
are multiplied by 10000^(2i/d) instead of divided.
"""

import math

import torch
from torch import Tensor


def sinusoidal_positions(n: int, d: int) -> Tensor:
    """The n × d table of sines (even features) and cosines (odd features), float32."""
    feature = torch.arange(d)
    pair_start = feature - feature % 2  # 2i, for feature 2i and for feature 2i + 1
    frequency = torch.exp(pair_start * math.log(10000.0) / d)
    angles = torch.arange(n).unsqueeze(-1) * frequency  # (n, d)
    return torch.where(feature % 2 == 0, torch.sin(angles), torch.cos(angles))


def add_positions(X: Tensor, P: Tensor) -> Tensor:
    """X plus the first n = X.shape[-2] rows of the table P, in X's dtype."""
    return X + P[: X.shape[-2]].to(X.dtype)

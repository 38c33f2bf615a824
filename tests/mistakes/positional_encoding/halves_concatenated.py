"""Mistake in ex10_positional_encoding: all the sines, then all the cosines, instead of interleaving
them.
"""

import torch
from torch import Tensor


def sinusoidal_positions(n: int, d: int) -> Tensor:
    """The n × d table of sines (even features) and cosines (odd features), float32."""
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (torch.arange(0, d, 2) / d)
    return torch.cat([torch.sin(angles), torch.cos(angles[:, : d // 2])], dim=-1)


def add_positions(X: Tensor, P: Tensor) -> Tensor:
    """X plus the first n = X.shape[-2] rows of the table P, in X's dtype."""
    return X + P[: X.shape[-2]].to(X.dtype)

"""Mistake in ex10_positional_encoding: the exponent uses each feature's own index j, 10000^(j/d),
so the cosine of a pair gets a lower frequency than its sine.
"""

import torch
from torch import Tensor


def sinusoidal_positions(n: int, d: int) -> Tensor:
    """The n × d table of sines (even features) and cosines (odd features), float32."""
    feature = torch.arange(d)
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (feature / d)  # (n, d)
    return torch.where(feature % 2 == 0, torch.sin(angles), torch.cos(angles))


def add_positions(X: Tensor, P: Tensor) -> Tensor:
    """X plus the first n = X.shape[-2] rows of the table P, in X's dtype."""
    return X + P[: X.shape[-2]].to(X.dtype)

"""Inputs and descriptions shared by the hidden suites."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor


def normal(
    *shape: int, seed: int, dtype: torch.dtype = torch.float64, scale: float = 1.0
) -> Tensor:
    """Seeded standard-normal entries times `scale`: the same tensor on every run."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=dtype) * scale


def describe_call(function: str, names: Sequence[str], args: Sequence[object]) -> str:
    """`function` with its inputs' dtype and shapes, for a message (never their values)."""
    dtype = str(args[0].dtype).removeprefix("torch.")  # type: ignore[attr-defined]
    tensors = [(name, a) for name, a in zip(names, args, strict=False) if isinstance(a, Tensor)]
    shapes = ", ".join(f"{name} {tuple(a.shape)}" for name, a in tensors)
    return f"{function} on {dtype} inputs {shapes}"

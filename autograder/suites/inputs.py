"""Descriptions of the calls the hidden suites make, for their messages."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor


def describe_call(function: str, names: Sequence[str], args: Sequence[object]) -> str:
    """`function` with its inputs' dtype and shapes, for a message (never their values)."""
    dtype = str(args[0].dtype).removeprefix("torch.")  # type: ignore[attr-defined]
    tensors = [(name, a) for name, a in zip(names, args, strict=False) if isinstance(a, Tensor)]
    shapes = ", ".join(f"{name} {tuple(a.shape)}" for name, a in tensors)
    return f"{function} on {dtype} inputs {shapes}"

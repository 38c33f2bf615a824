"""Run one call of an exercise function, with the gradients and input checks the suites need.

The same code runs a student's function inside a worker and the reference in the trusted
process, so both are measured the same way. It only computes: the verdict is the trusted side's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class CallResult:
    """What one call produced.

    `grads[i]` is the gradient of Σ_k ⟨output_k, projections[k]⟩ with respect to positional
    argument i (None where the argument is not a floating tensor, or gradients were not asked
    for). `inputs_after`, when asked for, holds every input as it was after the call, keyed
    by `input_label` (positional arguments by number, keyword arguments by name).
    """

    value: Any
    grads: tuple[Tensor | None, ...] = ()
    inputs_after: dict[str, Any] | None = None


def input_label(position: int | str) -> str:
    """How messages name an input: "argument 2" for positions (from 0), else its name."""
    return f"argument {position + 1}" if isinstance(position, int) else position


def output_tensors(value: Any) -> Iterator[Tensor]:
    """The tensors of a result, depth first (a tuple (context, weights) gives two)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from output_tensors(item)


def _copy(value: Any) -> Any:
    return value.detach().clone() if isinstance(value, Tensor) else value


def execute_call(
    function: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    projections: Sequence[Tensor] | None = None,
    return_inputs: bool = False,
) -> CallResult:
    """Call `function(*args, **kwargs)` on copies of the inputs; with projections, also
    differentiate the output; with `return_inputs`, also return the inputs after the call."""
    args = [_copy(a) for a in args]
    kwargs = {name: _copy(value) for name, value in kwargs.items()}
    wants_grad = projections is not None
    if wants_grad:
        for a in args:
            if isinstance(a, Tensor) and a.is_floating_point():
                a.requires_grad_(True)
    value = function(*args, **kwargs)
    grads: tuple[Tensor | None, ...] = ()
    if wants_grad:
        outputs = list(output_tensors(value))
        if len(outputs) != len(projections):
            raise TypeError(
                f"returned {len(outputs)} tensors where {len(projections)} were expected"
            )
        grads = _gradients(outputs, projections, args)
    inputs_after = None
    if return_inputs:
        inputs_after = {input_label(i): _copy(a) for i, a in enumerate(args)}
        inputs_after.update({input_label(name): _copy(v) for name, v in kwargs.items()})
    return CallResult(_detach(value), grads, inputs_after)


def _gradients(outputs: list[Tensor], projections: Sequence[Tensor], args: list[Any]) -> tuple:
    inputs = [a for a in args if isinstance(a, Tensor) and a.requires_grad]
    connected = [o for o in outputs if o.requires_grad]
    if not connected:
        return tuple(None for _ in args)
    loss = sum(
        (o * p.to(o.dtype)).sum()
        for o, p in zip(outputs, projections, strict=True)
        if o.requires_grad
    )
    found = iter(torch.autograd.grad(loss, inputs, allow_unused=True))
    return tuple(next(found) if isinstance(a, Tensor) and a.requires_grad else None for a in args)


def _detach(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, tuple | list):
        return type(value)(_detach(v) for v in value)
    return value

"""Run one call of an exercise function, with the gradients and input checks the suites need.

The same code runs a student's function inside a worker and the reference in the trusted
process, so both are measured the same way. It only computes: the verdict is the trusted side's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class CallResult:
    """What one call produced.

    `grads[i]` is the gradient of Σ_k ⟨output_k, projections[k]⟩ with respect to positional
    argument i (None where the argument is not a floating tensor, or gradients were not asked
    for); for a dict, tuple or list argument it has the argument's structure, a gradient or
    None in place of each entry (`{"W": grad, "b": grad}`). `inputs_after`, when asked for,
    holds every input as it was after the call, keyed by `input_label` (positional arguments
    by number, keyword arguments by name).
    """

    value: Any
    grads: tuple[Any, ...] = ()
    inputs_after: dict[str, Any] | None = None


def input_label(position: int | str) -> str:
    """How messages name an input: "argument 2" for positions (from 0), else its name."""
    return f"argument {position + 1}" if isinstance(position, int) else position


def argument_name(index: int, names: Sequence[str] | None) -> str:
    """How messages name positional argument `index`: by `names` where given, else by number."""
    return names[index] if names is not None and index < len(names) else input_label(index)


def output_tensors(value: Any) -> Iterator[Tensor]:
    """The tensors of a result, depth first (a tuple (context, weights) gives two)."""
    if isinstance(value, Tensor):
        yield value
    elif isinstance(value, tuple | list):
        for item in value:
            yield from output_tensors(item)


def tensor_leaves(value: Any, label: str) -> Iterator[tuple[str, Tensor]]:
    """The tensors of an input, depth first through dicts, tuples and lists, each with how
    messages name it: `params['W_s']`, `pair[1]`."""
    if isinstance(value, Tensor):
        yield label, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from tensor_leaves(item, f"{label}[{key!r}]")
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            yield from tensor_leaves(item, f"{label}[{index}]")


def _tensors(value: Any) -> Iterator[Tensor]:
    return (tensor for _, tensor in tensor_leaves(value, ""))


def changed_inputs(
    args: Sequence[Any],
    kwargs: Mapping[str, Any],
    inputs_after: Mapping[str, Any],
    names: Sequence[str] | None = None,
) -> Iterator[str]:
    """The tensors of a call's inputs, through dicts, tuples and lists, that `inputs_after` (a
    `CallResult`'s) does not hold as they were (values, shape and dtype), named as messages name
    them (`params['b']`), positional arguments first. `names`, if given, name the positional
    arguments."""
    given = [(input_label(i), argument_name(i, names), a) for i, a in enumerate(args)]
    given += [(input_label(k), input_label(k), v) for k, v in kwargs.items()]
    for key, label, before in given:
        after = dict(tensor_leaves(inputs_after.get(key), label))
        for leaf, tensor in tensor_leaves(before, label):
            if not _unchanged(after.get(leaf), tensor):
                yield leaf


def _unchanged(after: Any, before: Tensor) -> bool:
    return (
        isinstance(after, Tensor)
        and after.dtype == before.dtype
        and after.shape == before.shape
        and torch.equal(after, before)
    )


def is_gradient(value: Any) -> bool:
    """Whether `value` has the form of one `CallResult.grads` entry."""
    if value is None or isinstance(value, Tensor):
        return True
    if isinstance(value, dict):
        return all(is_gradient(item) for item in value.values())
    return isinstance(value, tuple | list) and all(is_gradient(item) for item in value)


def _map_inputs(value: Any, tensor: Callable[[Tensor], Any], other: Callable[[Any], Any]) -> Any:
    """`value` rebuilt with `tensor(t)` for each tensor and `other(x)` for anything else inside
    it; dicts, tuples and lists become new ones."""
    if isinstance(value, Tensor):
        return tensor(value)
    if isinstance(value, dict):
        return {key: _map_inputs(item, tensor, other) for key, item in value.items()}
    if isinstance(value, tuple | list):
        items = [_map_inputs(item, tensor, other) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return other(value)


def deep_copy(value: Any) -> Any:
    """`value` with every tensor in it, through dicts, tuples and lists, detached and cloned."""
    return _map_inputs(value, lambda t: t.detach().clone(), lambda x: x)


def execute_call(
    function: Callable[..., Any],
    args: Sequence[Any],
    kwargs: dict[str, Any],
    projections: Sequence[Tensor] | None = None,
    return_inputs: bool = False,
) -> CallResult:
    """Call `function(*args, **kwargs)` on copies of the inputs; with projections, also
    differentiate the output; with `return_inputs`, also return the inputs after the call."""
    args = [deep_copy(a) for a in args]
    kwargs = {name: deep_copy(value) for name, value in kwargs.items()}
    wants_grad = projections is not None
    if wants_grad:
        for a in args:
            for tensor in _tensors(a):
                if tensor.is_floating_point():
                    tensor.requires_grad_(True)
    # The inputs' tensors as given: the function may put others into a dict it was passed.
    given = [_map_inputs(a, lambda t: t, lambda x: None) for a in args]
    value = function(*args, **kwargs)
    grads: tuple[Any, ...] = ()
    if wants_grad:
        outputs = list(output_tensors(value))
        if len(outputs) != len(projections):
            raise TypeError(
                f"returned {len(outputs)} tensors where {len(projections)} were expected"
            )
        grads = _gradients(outputs, projections, given)
    inputs_after = None
    if return_inputs:
        inputs_after = {input_label(i): deep_copy(a) for i, a in enumerate(args)}
        inputs_after.update({input_label(name): deep_copy(v) for name, v in kwargs.items()})
    return CallResult(_detach(value), grads, inputs_after)


def _gradients(outputs: list[Tensor], projections: Sequence[Tensor], args: list[Any]) -> tuple:
    inputs = [t for a in args for t in _tensors(a) if t.requires_grad]
    connected = [o for o in outputs if o.requires_grad]
    if not connected:
        return tuple(None for _ in args)
    loss = sum(
        (o * p.to(o.dtype)).sum()
        for o, p in zip(outputs, projections, strict=True)
        if o.requires_grad
    )
    found = iter(torch.autograd.grad(loss, inputs, allow_unused=True))
    return tuple(
        _map_inputs(a, lambda t: next(found) if t.requires_grad else None, lambda x: None)
        if any(t.requires_grad for t in _tensors(a))
        else None
        for a in args
    )


def _detach(value: Any) -> Any:
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, tuple | list):
        return type(value)(_detach(v) for v in value)
    return value

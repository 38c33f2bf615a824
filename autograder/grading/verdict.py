"""The trusted side's verdict on what a student's function returned.

Everything here runs in the grading process on tensors it built itself from a worker's bytes.
Checks are exact about type, dtype and shape, treat any NaN the reference does not produce as
wrong, and never put expected values in a message: a failure names the property that failed
("wrong values on a batched input of shape (2, 5, 4)"), so hidden tests stay hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import pytest
import torch
from torch import Tensor

from autograder.course.config import Exercise, Tolerance
from autograder.course.forbidden import ForbiddenUse, find_forbidden
from autograder.grading.student import ModuleProxy
from autograder.grading.submission import ModuleSource
from autograder.sandbox.calls import argument_name, changed_inputs, output_tensors, tensor_leaves
from autograder.sandbox.spec import describe_line
from autograder.sandbox.wire import Opaque


def fail(message: str) -> NoReturn:
    """Fail the current hidden test with a message for the student (no traceback)."""
    pytest.fail(message, pytrace=False)


def _type_name(value: Any) -> str:
    return value.type_name if isinstance(value, Opaque) else type(value).__name__


def tolerance_for(exercise: Exercise, dtype: torch.dtype) -> Tolerance:
    """The exercise's tolerance for results of this dtype (float32 rules for anything else)."""
    return exercise.tolerance["float64" if dtype == torch.float64 else "float32"]


def same_tensor(actual: Any, expected: Tensor, tolerance: Tolerance, what: str) -> None:
    """`actual` must be a tensor like `expected`: same dtype and shape, values within tolerance."""
    if not isinstance(actual, Tensor):
        fail(f"{what}: returned {_type_name(actual)}, expected a torch.Tensor")
    if actual.dtype != expected.dtype:
        fail(
            f"{what}: returned dtype {actual.dtype}, expected {expected.dtype} (the input's dtype)"
        )
    if actual.shape != expected.shape:
        fail(f"{what}: returned shape {tuple(actual.shape)}, expected {tuple(expected.shape)}")
    unexpected_nan = torch.isnan(actual) & ~torch.isnan(expected)
    if unexpected_nan.any():
        fail(f"{what}: the result contains NaN where a number belongs")
    if not torch.allclose(
        actual, expected, atol=tolerance.atol, rtol=tolerance.rtol, equal_nan=True
    ):
        fail(f"{what}: wrong values")


def same_result(actual: Any, expected: Any, tolerance: Tolerance, what: str) -> None:
    """Compare results that may be tuples of tensors, such as (context, weights)."""
    if isinstance(expected, Tensor):
        same_tensor(actual, expected, tolerance, what)
        return
    if not isinstance(actual, tuple | list) or len(actual) != len(expected):
        fail(f"{what}: returned {_type_name(actual)}, expected a tuple of {len(expected)} tensors")
    for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
        same_result(a, e, tolerance, f"{what}, item {index} of the returned tuple")


def agrees(
    student: ModuleProxy,
    reference: ModuleProxy,
    exercise: Exercise,
    function: str,
    *args: Any,
    what: str,
    **kwargs: Any,
) -> Any:
    """Call `function` on both sides with the same inputs and compare; returns the reference's."""
    expected = reference.call(function, *args, **kwargs).value
    dtype = next(output_tensors(expected)).dtype
    same_result(
        student.call(function, *args, **kwargs).value,
        expected,
        tolerance_for(exercise, dtype),
        what,
    )
    return expected


def gradients_agree(
    student: ModuleProxy,
    reference: ModuleProxy,
    exercise: Exercise,
    function: str,
    args: Sequence[Any],
    *,
    seed: int,
    what: str,
    **kwargs: Any,
) -> None:
    """Gradients of a fixed random projection of the output match the reference's, for every
    input tensor, those inside dict, tuple and list arguments too (`params['W_s']`), each named
    as the reference names its parameters."""
    outputs = list(output_tensors(reference.call(function, *args, **kwargs).value))
    generator = torch.Generator().manual_seed(seed)
    projections = [torch.randn(o.shape, generator=generator, dtype=o.dtype) for o in outputs]
    expected = reference.call(function, *args, projections=projections, **kwargs).grads
    actual = student.call(function, *args, projections=projections, **kwargs).grads
    names = reference.parameter_names(function)
    for index, (a, e) in enumerate(zip(actual, expected, strict=True)):
        label = argument_name(index, names)
        found = dict(tensor_leaves(a, label))
        for leaf, grad in tensor_leaves(e, label):
            name = f"{what}: the gradient with respect to {leaf}"
            if not isinstance(found.get(leaf), Tensor):
                fail(
                    f"{name} is missing: the result is not connected to this input "
                    "(detach or no_grad?)"
                )
            same_tensor(found[leaf], grad, tolerance_for(exercise, grad.dtype), name)


def inputs_unchanged(
    student: ModuleProxy,
    reference: ModuleProxy,
    function: str,
    *args: Any,
    what: str,
    **kwargs: Any,
) -> None:
    """The function must leave every input, positional or keyword, as it found it, and the
    tensors inside dict, tuple and list inputs too; a changed input is named as the reference
    names its parameters."""
    after = student.call(function, *args, return_inputs=True, **kwargs).inputs_after or {}
    changed = changed_inputs(args, kwargs, after, names=reference.parameter_names(function))
    if (leaf := next(changed, None)) is not None:
        fail(f"{what}: {leaf} was modified in place; compute a new tensor instead")


def documents_tolerance(exercise: Exercise) -> Tolerance:
    """For the values the course documents print with four decimals."""
    return Tolerance(atol=exercise.documents_atol, rtol=0.0)


def _place(source: ModuleSource, use: ForbiddenUse) -> str:
    """Where `use` is, as the student wrote it: a module's file:line:column, or a notebook's
    code cell and line."""
    if source.cells:
        return f"{source.file}, {describe_line(source.cells, use.line)}"
    return use.at(source.file)


def no_forbidden_calls(source: ModuleSource | None, exercise: Exercise) -> None:
    """The submitted module must not use the calls course.toml forbids for this exercise."""
    if source is None:
        fail(f"{exercise.filename} was not submitted")
    try:
        uses = find_forbidden(source.text, exercise.forbidden)
    except SyntaxError as error:
        where = f" (line {error.lineno})" if error.lineno else ""
        fail(f"{source.file} does not parse{where}: {error.msg}")
    if uses:
        found = "; ".join(use.describe(_place(source, use)) for use in uses[:5])
        fail(f"this exercise asks you to build the operation yourself: {found}")


def _stack(parts: list[Any]) -> Any:
    """Per-item results (tensors, or tuples of tensors) stacked into one batched result."""
    if isinstance(parts[0], Tensor):
        return torch.stack(parts)
    return tuple(torch.stack(items) for items in zip(*parts, strict=True))


def batch_consistent(
    student: ModuleProxy,
    reference: ModuleProxy,
    exercise: Exercise,
    function: str,
    args: Sequence[Any],
    *,
    batched: int,
    describe: Callable[[Sequence[Any]], str],
) -> None:
    """A batched call equals its per-item calls; the first `batched` arguments carry the batch."""
    whole = student.call(function, *args).value
    parts = [
        agrees(student, reference, exercise, function, *item, what=describe(item))
        for item in (
            (*(a[i] for a in args[:batched]), *args[batched:]) for i in range(len(args[0]))
        )
    ]
    tolerance = tolerance_for(exercise, args[0].dtype)
    same_result(
        whole, _stack(parts), tolerance, f"{describe(args)}, compared with its per-item calls"
    )

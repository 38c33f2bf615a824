"""Assertions for the public tests that explain a failure instead of dumping a traceback.

Every failure says what was checked, what was expected, what came back and, where one is given,
a hint. They fail with `pytest.fail(..., pytrace=False)`: the message is the whole story.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch

from autograder.course.config import Exercise
from autograder.course.forbidden import find_forbidden
from autograder.course.stubs import FunctionNode, is_stub


def _fail(what: str, problem: str, hint: str | None) -> None:
    message = f"{what}: {problem}"
    if hint:
        message += f"\n  hint: {hint}"
    pytest.fail(message, pytrace=False)


def _show(t: torch.Tensor) -> str:
    return str(t.detach().cpu().tolist() if t.numel() <= 36 else t)


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    return f"{type(value).__name__} {value!r}"[:200]


def expect_tensor(
    value: Any,
    shape: tuple[int, ...],
    what: str,
    dtype: torch.dtype = torch.float32,
    hint: str | None = None,
) -> torch.Tensor:
    """`value` must be a tensor of this exact shape and dtype."""
    if not isinstance(value, torch.Tensor):
        _fail(what, f"expected a torch.Tensor of shape {shape}, got {_describe(value)}", hint)
    if tuple(value.shape) != tuple(shape):
        _fail(what, f"expected shape {tuple(shape)}, got shape {tuple(value.shape)}", hint)
    if value.dtype != dtype:
        _fail(what, f"expected dtype {dtype} (the input's), got {value.dtype}", hint)
    return value


def expect_close(
    value: Any, expected: Any, what: str, atol: float, rtol: float = 0.0, hint: str | None = None
) -> None:
    """`value` must be a tensor with `expected`'s shape and dtype, equal to it within atol/rtol."""
    expected = torch.as_tensor(expected, dtype=torch.float32)
    if isinstance(value, torch.Tensor):
        expected = expected.to(value.dtype) if value.is_floating_point() else expected
    value = expect_tensor(value, tuple(expected.shape), what, expected.dtype, hint)
    value = value.detach()
    if torch.isnan(value).any():
        _fail(what, f"the result contains NaN: {_show(value)}", hint)
    if not torch.allclose(value, expected, atol=atol, rtol=rtol):
        difference = (value - expected).abs()
        worst = tuple(int(i) for i in torch.unravel_index(difference.argmax(), difference.shape))
        _fail(
            what,
            f"values differ\n  expected: {_show(expected)}\n  got:      {_show(value)}\n"
            f"  largest difference {difference.max().item():.4g} at index {worst} "
            f"(allowed {atol:g})",
            hint,
        )


def expect_unchanged(before: torch.Tensor, after: torch.Tensor, what: str) -> None:
    """An input must not be modified by the function it was passed to."""
    if not torch.equal(before, after):
        _fail(what, "the function modified its input in place; compute a new tensor instead", None)


def stubbed_functions(module: ModuleType, functions: tuple[str, ...]) -> list[str]:
    """The functions whose body still only raises NotImplementedError."""
    stubs = []
    for name in functions:
        function = getattr(module, name, None)
        try:
            tree = ast.parse(inspect.getsource(function)) if function is not None else None
        except (OSError, TypeError, SyntaxError):
            continue
        if tree and isinstance(tree.body[0], FunctionNode) and is_stub(tree.body[0]):
            stubs.append(name)
    return stubs


def expect_no_forbidden_calls(module: ModuleType, exercise: Exercise) -> None:
    """The module must not use the calls course.toml forbids for this exercise."""
    stubs = stubbed_functions(module, exercise.functions)
    if stubs:
        raise NotImplementedError(f"{', '.join(stubs)} still to write")
    path = Path(module.__file__ or "")
    # UTF-8 (`load_exercise` checked), maybe with the byte-order mark the grader drops too
    uses = find_forbidden(path.read_text(encoding="utf-8-sig"), exercise.forbidden)
    if uses:
        lines = "\n  ".join(use.describe(use.at(path.name)) for use in uses)
        _fail(path.name, f"this exercise asks you to build the operation yourself\n  {lines}", None)

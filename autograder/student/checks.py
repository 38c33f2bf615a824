"""Assertions for the public tests that explain a failure instead of dumping a traceback.

Every failure says what was checked, what was expected, what came back and, where one is given,
a hint. They fail with `pytest.fail(..., pytrace=False)`: the message is the whole story. The
tests call the student's functions through `call`, so that an exception is explained too.
"""

from __future__ import annotations

import ast
import inspect
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

import pytest
import torch

from autograder.course.config import Exercise
from autograder.course.forbidden import find_forbidden
from autograder.course.stubs import FunctionNode, is_stub

MAX_SHOWN = 36  # entries of a tensor a message shows value by value


def _fail(what: str, problem: str, hint: str | None) -> NoReturn:
    message = f"{what}: {problem}"
    if hint:
        message += f"\n  hint: {hint}"
    pytest.fail(message, pytrace=False)


def _rounded(value: Any, digits: int) -> str:
    """`value`, a number or nested lists of them, with floats to `digits` significant digits."""
    if isinstance(value, list | tuple):
        return f"[{', '.join(_rounded(item, digits) for item in value)}]"
    return f"{value:.{digits}g}" if isinstance(value, float) else repr(value)


def _show(t: torch.Tensor, digits: int = 4) -> str:
    """The values of `t` to `digits` significant digits (torch's summary of a large tensor)."""
    return _rounded(t.detach().cpu().tolist(), digits) if t.numel() <= MAX_SHOWN else str(t)


def _nan_summary(t: torch.Tensor) -> str:
    """A result with NaN in it: its values when they are few, else how many entries are NaN
    and the first one's index."""
    if t.numel() <= MAX_SHOWN:
        return _show(t)
    nan = torch.isnan(t)
    first = tuple(int(i) for i in nan.nonzero()[0])
    return f"{int(nan.sum())} of its {t.numel()} entries, the first at index {first}"


def _digits_to_tell_apart(a: torch.Tensor, b: torch.Tensor) -> int:
    """The fewest significant digits, at least 4, that show each `a[i]` and `b[i]` differently."""
    pairs = list(zip(a.tolist(), b.tolist(), strict=True))
    digits = 4
    while digits < 17 and any(f"{x:.{digits}g}" == f"{y:.{digits}g}" for x, y in pairs):
        digits += 1
    return digits


def _describe(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, tuple | list) and any(isinstance(v, torch.Tensor) for v in value):
        items = ", ".join(_describe(item) for item in value)
        return f"a {type(value).__name__} of {len(value)}: {items}"[:300]
    shown = _rounded(value, 4) if isinstance(value, tuple | list | float) else repr(value)
    return f"{type(value).__name__} {shown}"[:200]


def _where(error: Exception, function: Callable[..., Any]) -> str:
    """The line of the student's file that raised `error`, from its traceback."""
    code = getattr(inspect.unwrap(function), "__code__", None)
    filename = code.co_filename if code else None
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    frame = frames[-1]
    line = f": {frame.line}" if frame.line else ""
    return f"\n  at {Path(frame.filename).name}, line {frame.lineno}{line}"


def call(
    function: Callable[..., Any],
    *args: Any,
    what: str,
    hint: str | None = None,
    returns: tuple[str, ...] = (),
    **kwargs: Any,
) -> Any:
    """`function(*args, **kwargs)` for the check `what`. If the student's function raises, the
    check fails saying what it raised, where, and `hint`; NotImplementedError goes through (the
    plugin reports a stub as not attempted). `returns` names the items of a tuple result."""
    try:
        result = function(*args, **kwargs)
    except NotImplementedError:
        raise
    except Exception as error:
        message = f": {error}" if str(error) else ""
        problem = f"raised {type(error).__name__}{message}{_where(error, function)}"
    else:
        if returns and not (isinstance(result, tuple | list) and len(result) == len(returns)):
            _fail(what, f"expected a tuple ({', '.join(returns)}), got {_describe(result)}", None)
        return result
    _fail(what, problem, hint)  # outside the except: shown once, not as a chain


def expect_tensor(
    value: Any,
    shape: tuple[int, ...],
    what: str,
    dtype: torch.dtype = torch.float32,
    hint: str | None = None,
    dtype_from: str | None = "the input's",
) -> torch.Tensor:
    """`value` must be a tensor of this exact shape and dtype; `dtype_from` says whose dtype
    that is (None: the function's own, not an input's)."""
    if not isinstance(value, torch.Tensor):
        problem = f"expected a torch.Tensor of shape {tuple(shape)}, got {_describe(value)}"
        _fail(what, problem, hint)
    if tuple(value.shape) != tuple(shape):
        _fail(what, f"expected shape {tuple(shape)}, got shape {tuple(value.shape)}", hint)
    if value.dtype != dtype:
        source = f" ({dtype_from})" if dtype_from else ""
        _fail(what, f"expected dtype {dtype}{source}, got {value.dtype}", hint)
    return value


def expect_close(
    value: Any,
    expected: Any,
    what: str,
    atol: float,
    rtol: float = 0.0,
    hint: str | None = None,
    dtype: torch.dtype = torch.float32,
) -> None:
    """`value` must be a tensor of `expected`'s shape and of `dtype`, the input's (float32 for the
    documents' examples), equal to `expected` within atol/rtol. `hint` is about wrong values: a
    wrong type, shape or dtype is failed without it."""
    expected = torch.as_tensor(expected, dtype=dtype)
    value = expect_tensor(value, tuple(expected.shape), what, dtype).detach()
    if torch.isnan(value).any():
        _fail(what, f"the result contains NaN: {_nan_summary(value)}", hint)
    far = ~torch.isclose(value, expected, atol=atol, rtol=rtol)
    if far.any():
        difference = (value - expected).abs()
        worst = tuple(int(i) for i in torch.unravel_index(difference.argmax(), difference.shape))
        digits = _digits_to_tell_apart(expected[far], value[far])
        _fail(
            what,
            f"values differ\n  expected: {_show(expected, digits)}\n"
            f"  got:      {_show(value, digits)}\n"
            f"  largest difference {difference.max().item():.4g} at index {worst} "
            f"(allowed {atol:g})",
            hint,
        )


def expect_unchanged(before: torch.Tensor, after: torch.Tensor, what: str, name: str) -> None:
    """An input, the function's parameter `name`, must not be modified by the function."""
    if not torch.equal(before, after):
        _fail(what, f"{name} was modified in place; compute a new tensor instead", None)


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

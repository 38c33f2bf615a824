"""What a catalogue entry is: a named mistake, its explanation, and the wrong result it computes.

A `Mistake` targets one function of one exercise. Its `implementation` has that function's
signature and computes what a student who made the mistake computes; `kind` says what gives the
mistake away: its values ("value"), its dtype ("dtype"), an input changed in place ("in_place")
or its gradients ("gradient"). A `Probe` is one fixed input the detector calls both on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

Kind = Literal["value", "dtype", "in_place", "gradient"]


@dataclass(frozen=True)
class Mistake:
    """One common wrong implementation of one exercise function."""

    id: str  # "softmax.no_max_shift": the exercise id, then the implementation's name
    exercise: str  # the exercise id in course.toml
    name: str  # a short phrase: "softmax along the wrong dimension"
    explanation: str  # for the student: what they did, why it is wrong, what the formula says
    implementation: Callable[..., Any]  # the function's signature, computing the wrong result
    function: str  # the exercise function it concerns
    kind: Kind = "value"

    def diagnosis(self) -> str:
        """The text shown under a failed test."""
        return f"{self.name}. {self.explanation}"


@dataclass(frozen=True)
class Probe:
    """Fixed arguments for one call: `function(*args, **kwargs)`."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


def mistake(
    exercise: str,
    function: str,
    implementation: Callable[..., Any],
    name: str,
    explanation: str,
    kind: Kind = "value",
) -> Mistake:
    """A catalogue entry whose id is `exercise.<implementation's name>`."""
    return Mistake(
        f"{exercise}.{implementation.__name__}",
        exercise,
        name,
        explanation,
        implementation,
        function,
        kind,
    )


def _named(function: Callable[..., Any], name: str) -> Callable[..., Any]:
    function.__name__ = function.__qualname__ = name
    return function


def _floats(values: tuple[Any, ...]) -> list[Any]:
    return [v.float() if torch.is_tensor(v) and v.is_floating_point() else v for v in values]


def _detached(value: Any) -> Any:
    if torch.is_tensor(value):
        return value.detach()
    return tuple(_detached(v) for v in value)


def float32_cast(exercise: str, function: str, right: Callable[..., Any], slug: str) -> Mistake:
    """The right computation done in float32, so float64 inputs come back as float32."""
    wrong = _named(lambda *args, **kwargs: right(*_floats(args), **kwargs), slug)
    return mistake(
        exercise,
        function,
        wrong,
        "the result is float32 for float64 inputs",
        f"Something in your {function} converts to float32 (`.float()`, or a tensor made with "
        "`torch.tensor`, `torch.zeros` or `torch.ones` without `dtype=`), so float64 inputs lose "
        "their precision. Keep the input's dtype: `torch.zeros_like(x)`, `dtype=x.dtype`.",
        kind="dtype",
    )


def no_gradient(exercise: str, function: str, right: Callable[..., Any], slug: str) -> Mistake:
    """The right values, cut off from the inputs: no gradient flows back."""
    wrong = _named(lambda *args, **kwargs: _detached(right(*args, **kwargs)), slug)
    return mistake(
        exercise,
        function,
        wrong,
        "no gradient flows back to the inputs",
        f"Your {function} returns the right values, but detached from its inputs (`.detach()`, "
        "`torch.no_grad()`, `.item()` or a new `torch.tensor(...)`), so training could not "
        "learn anything through it. Build the result from the inputs with tensor operations.",
        kind="gradient",
    )

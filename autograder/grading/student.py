"""The `student` and `reference` objects the hidden suites call: `student.softmax(x)`.

Both answer the same two ways: attribute calls return the value, `.call(...)` returns a full
`CallResult` (value, gradients, inputs after the call). The student's calls go to a worker
process (`autograder.sandbox`); `InProcessModule` runs a trusted module, the reference, here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from types import ModuleType
from typing import Any

from torch import Tensor

from autograder.grading.errors import NotAttempted, StudentRaised
from autograder.sandbox.calls import CallResult, execute_call


class ModuleProxy:
    """Calls functions of one exercise module by name."""

    def call(
        self,
        function: str,
        *args: Any,
        projections: list[Tensor] | None = None,
        return_inputs: bool = False,
        **kwargs: Any,
    ) -> CallResult:
        """Call `function(*args, **kwargs)`; see `execute_call` for the two options."""
        raise NotImplementedError

    def parameter_names(self, function: str) -> tuple[str, ...] | None:
        """The names of `function`'s positional parameters, for messages; None from a side not
        trusted to say (a student's worker)."""
        return None

    def __getattr__(self, function: str) -> Callable[..., Any]:
        if function.startswith("_"):
            raise AttributeError(function)
        return lambda *args, **kwargs: self.call(function, *args, **kwargs).value


class InProcessModule(ModuleProxy):
    """A trusted module run in this process: the reference, or a project test's fixture."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module

    def call(
        self,
        function: str,
        *args: Any,
        projections: list[Tensor] | None = None,
        return_inputs: bool = False,
        **kwargs: Any,
    ) -> CallResult:
        target = getattr(self.module, function, None)
        if not callable(target):
            raise StudentRaised(
                function, "AttributeError", f"the module has no function {function}"
            )
        try:
            return execute_call(target, args, kwargs, projections, return_inputs)
        except NotImplementedError as error:
            raise NotAttempted(function, str(error)) from None
        except Exception as error:
            raise StudentRaised(function, type(error).__name__, str(error)) from None

    def parameter_names(self, function: str) -> tuple[str, ...] | None:
        try:
            parameters = inspect.signature(getattr(self.module, function)).parameters.values()
        except (AttributeError, TypeError, ValueError):
            return None
        positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        return tuple(p.name for p in parameters if p.kind in positional)

"""Record the calls the hidden suites make, to send each submission's calls in one batch.

The suites' inputs are seeded, so the calls a suite makes to `student` are the same for every
submission. `record_plans` runs a suite once with the reference standing in for the student and
keeps the exercise's calls, as the bytes a worker is sent. Grading a submission then sends
an exercise's whole plan at once (`RemoteModule.prefetch`): its worker answers every call while
the tests of other exercises run, and the tests take the answers that match their calls. A call
that matches none (a suite whose calls depend on the student's answers) simply goes out live.

`CachedModule` keeps the reference's answers for the grader's lifetime, since they too are the
same for every submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from autograder.course.config import Course
from autograder.grading.session import SubmissionContext, SuiteTest, run_tests
from autograder.grading.student import ModuleProxy
from autograder.grading.submission import ModuleSource
from autograder.sandbox import wire
from autograder.sandbox.calls import CallResult, deep_copy

CallKey = tuple[Any, ...]


@dataclass(frozen=True)
class PlannedCall:
    """One call a suite makes to `student`: its key and the request a worker is sent."""

    key: CallKey
    function: str
    payload: bytes


Plan = list[PlannedCall]  # in the order the suite makes them


def request_payload(
    function: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    projections: Sequence[Tensor] | None,
) -> bytes:
    """What a worker is sent for one call."""
    request = {"function": function, "args": list(args), "kwargs": kwargs}
    return wire.encode({**request, "projections": projections})


def _fingerprint(value: Any) -> Any:
    if isinstance(value, Tensor):
        raw = value.detach().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        return ("tensor", str(value.dtype), tuple(value.shape), raw)
    if isinstance(value, tuple | list):
        return (type(value).__name__, *map(_fingerprint, value))
    if isinstance(value, dict):
        return ("dict", *((key, _fingerprint(v)) for key, v in value.items()))
    return (type(value).__name__, repr(value))  # repr: so that NaN equals NaN


def call_key(
    function: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    projections: Sequence[Tensor] | None,
) -> CallKey:
    """Equal keys mean equal calls (the same request bytes); far cheaper than encoding."""
    return (function, _fingerprint(args), _fingerprint(kwargs), _fingerprint(projections))


class CachedModule(ModuleProxy):
    """A trusted module whose answers are computed once per distinct call.

    Each caller gets its own copy, so a test that changes a result cannot change another's.
    Exceptions are not cached: the reference does not raise on the suites' inputs.
    """

    def __init__(self, inner: ModuleProxy) -> None:
        self.inner = inner
        self._answers: dict[CallKey, CallResult] = {}

    def call(
        self,
        function: str,
        *args: Any,
        projections: list[Tensor] | None = None,
        return_inputs: bool = False,
        **kwargs: Any,
    ) -> CallResult:
        key = call_key(function, args, kwargs, projections)
        if key not in self._answers:
            self._answers[key] = self.inner.call(
                function, *args, projections=projections, return_inputs=True, **kwargs
            )
        kept = self._answers[key]
        return CallResult(
            deep_copy(kept.value),
            deep_copy(kept.grads),
            deep_copy(kept.inputs_after) if return_inputs else None,
        )

    def parameter_names(self, function: str) -> tuple[str, ...] | None:
        return self.inner.parameter_names(function)


class Recorder(ModuleProxy):
    """Answers like `inner`, and keeps every call's payload in `plan`."""

    def __init__(self, inner: ModuleProxy) -> None:
        self.inner = inner
        self.plan: Plan = []

    def call(
        self,
        function: str,
        *args: Any,
        projections: list[Tensor] | None = None,
        return_inputs: bool = False,
        **kwargs: Any,
    ) -> CallResult:
        key = call_key(function, args, kwargs, projections)
        payload = request_payload(function, args, kwargs, projections)
        self.plan.append(PlannedCall(key, function, payload))
        return self.inner.call(
            function, *args, projections=projections, return_inputs=return_inputs, **kwargs
        )

    def parameter_names(self, function: str) -> tuple[str, ...] | None:
        return self.inner.parameter_names(function)


def record_plans(
    tests: list[SuiteTest],
    course: Course,
    references: Mapping[str, ModuleProxy],
    sources: Mapping[str, ModuleSource],
    exercises: list[str],
) -> dict[str, Plan]:
    """The calls to `student` of each of `exercises`, recorded with the reference as the
    student."""
    recorders = {exercise_id: Recorder(references[exercise_id]) for exercise_id in exercises}
    context = SubmissionContext(course, references, lambda e: recorders[e.id], sources)
    run_tests(tests, context, exercises)
    return {exercise_id: recorder.plan for exercise_id, recorder in recorders.items()}

"""Recognise a catalogued mistake from what a student's function does on fixed probes.

Reference-free: the student's function and every mistake of the catalogue for it are called on
the same few probes (float64, unequal sizes, batches, masks and extreme values, per exercise),
and a mistake is recognised when the two agree on every probe: the same values (allclose, same
dtype and shape, NaN where it has NaN), or an error of the same type where the mistake cannot
compute either. By kind, a mistake is also given away by its dtype, by the inputs it changes in
place, or by its gradients (one more call, with projections). The first match in catalogue order
wins. At most len(probes) + 1 <= 6 calls of the student per function; none when the catalogue
has nothing for it. Runs in the trusted process, on the plain data `student.call` returns.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import torch
from torch import Tensor

from autograder.course.config import Exercise
from autograder.grading.errors import NotAttempted, StudentRaised, WorkerFailed
from autograder.grading.student import InProcessModule, ModuleProxy
from autograder.mistakes.base import Mistake, Probe
from autograder.mistakes.catalogue import mistakes_for, probes_for
from autograder.sandbox.calls import CallResult, changed_inputs, execute_call, output_tensors

ATOL, RTOL = 1e-8, 1e-6  # the probes are float64
GRADIENT_SEED = 7
NOT_DIAGNOSED = ("test_no_forbidden_calls",)  # its message names the call: nothing to add


@dataclass(frozen=True)
class Outcome:
    """What one call did: returned `value` or raised `raised` (a type name); which inputs it
    changed in place; the gradients, when asked for."""

    value: Any = None
    raised: str | None = None
    changed: frozenset[str] = frozenset()
    grads: tuple[Tensor | None, ...] = ()


class _Stop(Exception):
    """The student's worker failed or timed out: stop calling it."""


def diagnose(student: ModuleProxy, exercise: Exercise, function: str) -> Mistake | None:
    """The catalogued mistake `function` of the student's module makes, or None."""
    try:
        found = _matching(student, exercise.id, function)
    except _Stop:
        return None
    return found[0] if found else None


def diagnose_module(
    module: ModuleType, exercise: Exercise, function: str | None = None
) -> Mistake | None:
    """`diagnose` for a module imported in this process (the public tests' path); without a
    function, the first mistake recognised in the exercise's functions."""
    student = InProcessModule(module)
    if function is not None:
        return diagnose(student, exercise, function)
    return next(iter(diagnose_exercise(student, exercise).values()), None)


def matching(student: ModuleProxy, exercise: Exercise, function: str) -> list[Mistake]:
    """Every catalogued mistake the student's `function` agrees with, in catalogue order."""
    try:
        return _matching(student, exercise.id, function)
    except _Stop:
        return []


def diagnose_exercise(student: ModuleProxy, exercise: Exercise) -> dict[str, Mistake]:
    """The mistake recognised in each function of the exercise (functions with none left out),
    in course order; stops at the first worker failure or timeout."""
    found = {}
    for function in exercise.functions:
        try:
            mistakes = _matching(student, exercise.id, function)
        except _Stop:
            break
        if mistakes:
            found[function] = mistakes[0]
    return found


def diagnose_failures(
    student: ModuleProxy, exercise: Exercise, failed: Iterable[str]
) -> dict[str, Mistake]:
    """For the names of an exercise's failed tests, the mistake to show under each.

    A test parametrised by a function (`test_gradients[self_attention]`) gets that function's
    mistake, else the nearest one of a function listed before it (which it may call); any other
    test gets the exercise's first. No student call unless some test is to be diagnosed.
    """
    names = [name for name in failed if name.split("[")[0] not in NOT_DIAGNOSED]
    found = diagnose_exercise(student, exercise) if names else {}
    if not found:
        return {}
    shown = {}
    for name in names:
        function = _function_of(name, exercise.functions)
        if function is None:
            shown[name] = next(iter(found.values()))
            continue
        callees = exercise.functions[: exercise.functions.index(function) + 1]
        mistake = next((found[f] for f in reversed(callees) if f in found), None)
        if mistake is not None:
            shown[name] = mistake
    return shown


def _function_of(test_name: str, functions: tuple[str, ...]) -> str | None:
    parameters = test_name.partition("[")[2].rstrip("]").split("-")
    return next((p for p in parameters if p in functions), None)


# --- matching -------------------------------------------------------------------------------


def _matching(student: ModuleProxy, exercise_id: str, function: str) -> list[Mistake]:
    candidates = mistakes_for(exercise_id, function)
    probes = probes_for(exercise_id, function)
    if not candidates or not probes:
        return []
    expected = _expected(exercise_id, function)
    outcomes = []
    for index, probe in enumerate(probes):
        try:
            outcome = _student(student, function, probe)
        except NotAttempted:
            return []
        outcomes.append(outcome)
        candidates = [m for m in candidates if _agrees(m, outcome, expected[m.id][index])]
        if not candidates:
            return []
    candidates = [m for m in candidates if _conclusive(m, expected[m.id])]
    if any(m.kind == "gradient" for m in candidates):
        candidates = _check_gradients(student, function, probes[0], outcomes[0], candidates)
    return candidates


def _agrees(mistake: Mistake, student: Outcome, expected: Outcome) -> bool:
    try:
        return _compare(mistake, student, expected)
    except Exception:  # whatever a student's value does when compared, it is no match
        return False


def _compare(mistake: Mistake, student: Outcome, expected: Outcome) -> bool:
    if student.raised or expected.raised:
        return student.raised == expected.raised
    if mistake.kind == "dtype":
        return _same_layout(student.value, expected.value)
    if mistake.kind == "in_place" and student.changed != expected.changed:
        return False
    return _same(student.value, expected.value)


def _conclusive(mistake: Mistake, expected: list[Outcome]) -> bool:
    """A mistake is only recognised from a probe where it computes (and changes an input)."""
    computes = any(o.raised is None for o in expected)
    return computes and (mistake.kind != "in_place" or any(o.changed for o in expected))


def _check_gradients(
    student: ModuleProxy, function: str, probe: Probe, seen: Outcome, candidates: list[Mistake]
) -> list[Mistake]:
    generator = torch.Generator().manual_seed(GRADIENT_SEED)
    projections = [
        torch.randn(t.shape, generator=generator, dtype=t.dtype) for t in output_tensors(seen.value)
    ]
    try:
        grads = _student(student, function, probe, projections).grads
    except NotAttempted:
        return []
    return [
        m
        for m in candidates
        if m.kind != "gradient" or _same_grads(grads, _trusted(m, probe, projections).grads)
    ]


# --- calls ----------------------------------------------------------------------------------


@functools.cache
def _expected(exercise_id: str, function: str) -> dict[str, list[Outcome]]:
    """Every mistake's outcome on every probe: computed once per process."""
    probes = probes_for(exercise_id, function)
    return {
        m.id: [_trusted(m, probe) for probe in probes] for m in mistakes_for(exercise_id, function)
    }


def _trusted(mistake: Mistake, probe: Probe, projections: list[Tensor] | None = None) -> Outcome:
    try:
        with warnings.catch_warnings():  # a mistake may well use what torch deprecates (`.T`)
            warnings.simplefilter("ignore")
            result = execute_call(
                mistake.implementation,
                probe.args,
                dict(probe.kwargs),
                projections,
                return_inputs=projections is None,
            )
    except Exception as error:
        return Outcome(raised=type(error).__name__)
    return _outcome(probe, result)


def _student(
    student: ModuleProxy, function: str, probe: Probe, projections: list[Tensor] | None = None
) -> Outcome:
    """Call the student once; NotAttempted propagates, worker failures become `_Stop`."""
    try:
        if projections is None:
            result = student.call(function, *probe.args, return_inputs=True, **probe.kwargs)
        else:
            result = student.call(function, *probe.args, projections=projections, **probe.kwargs)
    except NotAttempted:
        raise
    except StudentRaised as error:
        return Outcome(raised=error.type_name)
    except WorkerFailed as error:  # a crash or a timeout: more calls would only cost time
        raise _Stop from error
    return _outcome(probe, result)


def _outcome(probe: Probe, result: CallResult) -> Outcome:
    changed = frozenset()
    if result.inputs_after is not None:
        changed = frozenset(changed_inputs(probe.args, probe.kwargs, result.inputs_after))
    return Outcome(value=result.value, changed=changed, grads=tuple(result.grads))


# --- comparisons ----------------------------------------------------------------------------


def _same(actual: Any, expected: Any, layout_only: bool = False) -> bool:
    """Same structure, dtypes and shapes, and (unless `layout_only`) values, NaN for NaN."""
    if expected is None:  # no gradient for this entry
        return actual is None
    if isinstance(expected, Tensor):
        if not isinstance(actual, Tensor) or (actual.dtype, actual.shape) != (
            expected.dtype,
            expected.shape,
        ):
            return False
        if layout_only:
            return True
        if not expected.is_floating_point():
            return torch.equal(actual, expected)
        return torch.allclose(actual, expected, atol=ATOL, rtol=RTOL, equal_nan=True)
    if isinstance(expected, tuple | list):
        return (
            isinstance(actual, tuple | list)
            and len(actual) == len(expected)
            and all(_same(a, e, layout_only) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(expected, dict):  # a gradient with respect to a dict of tensors
        return (
            isinstance(actual, dict)
            and actual.keys() == expected.keys()
            and all(_same(actual[k], e, layout_only) for k, e in expected.items())
        )
    return False


def _same_layout(actual: Any, expected: Any) -> bool:
    return _same(actual, expected, layout_only=True)


def _same_grads(actual: tuple[Any, ...], expected: tuple[Any, ...]) -> bool:
    try:
        return len(actual) == len(expected) and all(
            (a is None and e is None) or (e is not None and _same(a, e))
            for a, e in zip(actual, expected, strict=True)
        )
    except Exception:
        return False

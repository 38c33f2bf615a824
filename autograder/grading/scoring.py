"""Score an exercise from its hidden tests' outcomes: each test's points and its status."""

from __future__ import annotations

from collections.abc import Iterable

from autograder.course.config import Exercise
from autograder.grading.session import TestOutcome
from autograder.reports.common import truncate
from autograder.reports.model import (
    TOLERANCE,
    ExerciseResult,
    ExerciseStatus,
    TestResult,
    Visibility,
    summarise,
)

# Hidden tests' results are shown to students once grades are published.
VISIBILITY: Visibility = "after_published"
# An exercise's message in a report: at most 20 notebook cells that raised, about 560
# characters each (remote.py caps them), or why the exercise was not submitted, and a file set
# aside.
MAX_EXERCISE_MESSAGE_CHARS = 16_000


def status_from_tests(tests: Iterable[TestResult]) -> ExerciseStatus:
    """complete / partial / failed for an exercise that was graded by these tests.

    not_attempted, not_submitted and error are decided by `exercise_result`, not by scores.
    """
    tests = list(tests)
    score, max_score = summarise(tests)
    if tests and all(t.status == "passed" for t in tests) and score >= max_score - TOLERANCE:
        return "complete"
    return "partial" if score > TOLERANCE else "failed"


def _weights(exercise: Exercise, outcomes: list[TestOutcome]) -> list[float]:
    """Each test's `test_points` weight in course.toml (default 1): its share of the points."""
    return [exercise.test_points.get(o.name.split("[")[0], 1.0) for o in outcomes]


def exercise_result(
    exercise: Exercise, outcomes: list[TestOutcome], submitted: bool, output: str, message: str = ""
) -> ExerciseResult:
    """Score one exercise from its tests' outcomes."""
    message = truncate(message, MAX_EXERCISE_MESSAGE_CHARS)
    if not submitted:
        return ExerciseResult(
            id=exercise.id,
            title=exercise.title,
            score=0.0,
            max_score=exercise.points,
            status="not_submitted",
            message=message or f"{exercise.filename} was not submitted",
        )
    weights = _weights(exercise, outcomes)
    total = sum(weights)
    tests = tuple(
        TestResult(
            name=o.name,
            score=points if o.status == "passed" else 0.0,
            max_score=points,
            status=o.status,
            message=o.message,
            visibility=VISIBILITY,
            diagnosis=o.diagnosis,
        )
        for o, points in zip(outcomes, (exercise.points * w / total for w in weights), strict=True)
    )
    passed = sum(w for o, w in zip(outcomes, weights, strict=True) if o.status == "passed")
    if outcomes and all(o.not_attempted for o in outcomes):
        status = "not_attempted"
    elif tests and all(t.status in ("error", "timeout") for t in tests):
        status = "error"
    else:
        status = status_from_tests(tests) if tests else "error"
    return ExerciseResult(
        id=exercise.id,
        title=exercise.title,
        # one division, not a sum of shares, so that full marks are exactly the points
        score=exercise.points * passed / total if total else 0.0,
        max_score=exercise.points,
        status=status,
        message=message,
        output=output,
        tests=tests,
    )

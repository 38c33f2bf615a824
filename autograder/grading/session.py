"""Collect the hidden suites once with pytest; run their tests for each submission.

A suite module `autograder/suites/test_<exercise id>.py` grades the exercise with that id. Its
tests are plain pytest test functions, parametrised with `pytest.mark.parametrize`, that ask
for any of four fixtures: `student` (the submission's module, run in a worker), `reference`,
`exercise_config` (its course.toml entry) and `submission_source` (the module's code, a
`ModuleSource`, or None if it was not submitted).

pytest collects and parametrises them once per grader. Grading a submission then calls each
collected test function directly with those fixtures: pytest's per-test protocol (setup and
teardown hooks, reports) cost about as much as the tests themselves, for nothing a suite uses.
So that this stays exact, collection refuses any test that asks for another fixture or carries
a mark other than parametrize.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from autograder.course.config import Course, Exercise
from autograder.grading.errors import (
    AnswerTooLarge,
    NotAttempted,
    StudentRaised,
    SuiteError,
    WorkerFailed,
    WorkerTimeout,
)
from autograder.grading.student import ModuleProxy
from autograder.grading.submission import ModuleSource
from autograder.reports.common import truncate
from autograder.reports.model import TestStatus
from autograder.sandbox.pool import SandboxError

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"
FIXTURES = ("student", "reference", "exercise_config", "submission_source")
# A test's message, and its diagnosis, in a report: the longest the suites and the catalogue
# write are about 300 characters, a student's exception about 1,250 (remote.py caps its parts).
MAX_MESSAGE_CHARS = 2_000


@dataclass(frozen=True)
class TestOutcome:
    """How one hidden test ended: status is passed, failed, error or timeout."""

    exercise: str
    name: str
    status: TestStatus
    message: str
    not_attempted: bool = False
    raised: tuple[str, str] | None = None  # (function, exception type) if a student call raised
    diagnosis: str | None = None  # the common mistake the failure looks like, if one fits
    __test__ = False

    def __post_init__(self) -> None:
        """Cap the message and the diagnosis, whatever made them (a diagnosis may quote the
        student's source)."""
        object.__setattr__(self, "message", truncate(self.message, MAX_MESSAGE_CHARS))
        if self.diagnosis is not None:
            object.__setattr__(self, "diagnosis", truncate(self.diagnosis, MAX_MESSAGE_CHARS))


@dataclass(frozen=True)
class SuiteTest:
    """One collected (and parametrised) test: its function, fixtures and parameters."""

    exercise: str
    name: str
    function: Callable[..., Any]
    fixtures: tuple[str, ...]
    params: Mapping[str, Any]


def exercise_of(path: Path) -> str:
    """The exercise a suite module grades: `test_softmax.py` -> `softmax`."""
    return path.stem.removeprefix("test_")


def _describe_failure(test: SuiteTest, error: BaseException) -> TestOutcome:
    """How `test` ended when it raised `error`."""
    status, message = _status_and_message(error)
    raised = (error.function, error.type_name) if isinstance(error, StudentRaised) else None
    not_attempted = isinstance(error, NotAttempted)
    return TestOutcome(test.exercise, test.name, status, message, not_attempted, raised)


def _status_and_message(error: BaseException) -> tuple[TestStatus, str]:
    if isinstance(error, AnswerTooLarge):
        return "failed", str(error)
    if isinstance(error, WorkerTimeout):
        return "timeout", str(error)
    if isinstance(error, WorkerFailed):
        return "error", str(error)
    if isinstance(error, NotAttempted):
        return "failed", str(error)
    if isinstance(error, StudentRaised | AssertionError):
        return "failed", str(error).split("\nassert ")[0]
    if isinstance(error, pytest.fail.Exception):
        return "failed", str(error)
    # Anything else is a fault of the suite itself, not of the student: say so plainly.
    return "error", f"the grader's test broke ({type(error).__name__}); please report it"


class _Collector:
    """A pytest plugin that keeps the collected items."""

    def __init__(self) -> None:
        self.items: list[pytest.Item] = []
        self.errors: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.items = list(session.items)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.errors.append(f"{report.nodeid}: {report.longreprtext}")


def _suite_test(item: pytest.Item) -> SuiteTest:
    if not isinstance(item, pytest.Function):
        raise SuiteError(f"{item.nodeid}: only test functions are supported")
    params = dict(item.callspec.params) if hasattr(item, "callspec") else {}
    arguments = inspect.signature(item.function).parameters
    fixtures = tuple(name for name in arguments if name not in params)
    unknown = [name for name in fixtures if name not in FIXTURES]
    marks = [m.name for m in item.iter_markers() if m.name != "parametrize"]
    if unknown or marks:
        problem = f"fixtures {unknown}" if unknown else f"marks {marks}"
        raise SuiteError(f"{item.nodeid}: uses {problem}; suites may use only {FIXTURES}")
    return SuiteTest(exercise_of(item.path), item.name, item.function, fixtures, params)


def collect_suites(course: Course) -> list[SuiteTest]:
    """Every test of every exercise's hidden suite, in course order."""
    paths = [SUITES_DIR / f"test_{e.id}.py" for e in course.exercises]
    missing = [p.name for p in paths if not p.is_file()]
    if missing:
        raise SuiteError(f"no hidden suite {', '.join(missing)} in {SUITES_DIR}")
    collector = _Collector()
    args = [*map(str, paths), "--collect-only", "-p", "no:terminal"]
    # Installed plugins (the students' one, hypothesis, anyio...) have no business here, and
    # the two exception plugins end with rounds of gc.collect(): together, most of the time.
    args += ["--disable-plugin-autoload", "-p", "no:cacheprovider"]
    args += ["-p", "no:unraisableexception", "-p", "no:threadexception"]
    args += ["--rootdir", str(SUITES_DIR), "-c", str(SUITES_DIR / "pytest.ini")]
    with contextlib.redirect_stdout(io.StringIO()):
        pytest.main(args, plugins=[collector])
    if collector.errors:
        raise SuiteError("the hidden suites do not collect:\n" + "\n".join(collector.errors))
    return [_suite_test(item) for item in collector.items]


@dataclass
class SubmissionContext:
    """What the tests of one submission are given."""

    course: Course
    references: Mapping[str, ModuleProxy]
    students: Callable[[Exercise], ModuleProxy]
    sources: Mapping[str, ModuleSource]

    def fixtures(self, exercise: Exercise) -> dict[str, Callable[[], Any]]:
        return {
            "student": lambda: self.students(exercise),
            "reference": lambda: self.references[exercise.id],
            "exercise_config": lambda: exercise,
            "submission_source": lambda: self.sources.get(exercise.module),
        }


def run_tests(
    tests: list[SuiteTest], context: SubmissionContext, exercises: list[str]
) -> list[TestOutcome]:
    """Run the tests of `exercises` for one submission. A sandbox failure stops the run."""
    outcomes = []
    # The grader's own objects outlive every submission: keep the collector from walking them.
    gc.freeze()
    try:
        for test in tests:
            if test.exercise not in exercises:
                continue
            fixtures = context.fixtures(context.course.exercise(test.exercise))
            try:
                test.function(**{name: fixtures[name]() for name in test.fixtures}, **test.params)
            except (SandboxError, KeyboardInterrupt):
                raise
            except BaseException as error:  # pytest.fail's exception is not an Exception
                outcomes.append(_describe_failure(test, error))
            else:
                outcomes.append(TestOutcome(test.exercise, test.name, "passed", ""))
    finally:
        gc.unfreeze()
    return outcomes

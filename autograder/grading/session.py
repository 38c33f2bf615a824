"""Run the hidden suites for one submission inside pytest, and collect each test's outcome.

`GradingSession` is a pytest plugin object: it gives the suites their fixtures (`student`,
`reference`, `exercise_config`, `submission_source`) and records how every test ended. A suite
module `autograder/suites/test_<exercise id>.py` grades the exercise with that id.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.course.config import Course, Exercise
from autograder.grading.errors import NotAttempted, StudentRaised, WorkerFailed, WorkerTimeout
from autograder.grading.student import ModuleProxy
from autograder.sandbox.pool import SandboxError

SUITES_DIR = Path(__file__).resolve().parents[1] / "suites"


@dataclass(frozen=True)
class TestOutcome:
    """How one hidden test ended: status is passed, failed, error or timeout."""

    exercise: str
    name: str
    status: str
    message: str
    not_attempted: bool = False
    __test__ = False


def exercise_of(path: Path) -> str:
    """The exercise a suite module grades: `test_softmax.py` -> `softmax`."""
    return path.stem.removeprefix("test_")


def _describe_failure(error: BaseException) -> tuple[str, str, bool]:
    if isinstance(error, WorkerTimeout):
        return "timeout", str(error), False
    if isinstance(error, WorkerFailed):
        return "error", str(error), False
    if isinstance(error, NotAttempted):
        return "failed", str(error), True
    if isinstance(error, StudentRaised | AssertionError):
        return "failed", str(error).split("\nassert ")[0], False
    if isinstance(error, pytest.fail.Exception):
        return "failed", str(error), False
    # Anything else is a fault of the suite itself, not of the student: say so plainly.
    return "error", f"the grader's test broke ({type(error).__name__}); please report it", False


class GradingSession:
    """Fixtures for the hidden suites, and the outcomes they produced."""

    def __init__(
        self,
        course: Course,
        references: dict[str, ModuleProxy],
        students: Callable[[Exercise], ModuleProxy],
        sources: dict[str, str | None],
    ) -> None:
        self.course = course
        self.references = references
        self.students = students
        self.sources = sources
        self.outcomes: list[TestOutcome] = []
        self.sandbox_failure: SandboxError | None = None

    def _exercise(self, request: pytest.FixtureRequest) -> Exercise:
        return self.course.exercise(exercise_of(request.path))

    @pytest.fixture
    def exercise_config(self, request: pytest.FixtureRequest) -> Exercise:
        return self._exercise(request)

    @pytest.fixture
    def student(self, request: pytest.FixtureRequest) -> ModuleProxy:
        return self.students(self._exercise(request))

    @pytest.fixture
    def reference(self, request: pytest.FixtureRequest) -> ModuleProxy:
        return self.references[self._exercise(request).id]

    @pytest.fixture
    def submission_source(self, request: pytest.FixtureRequest) -> str | None:
        return self.sources.get(self._exercise(request).module)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo
    ) -> pytest.TestReport:
        """Record the outcome, reported without pytest's (costly, unused) traceback rendering."""
        if call.excinfo is None or call.excinfo.errisinstance(pytest.skip.Exception):
            status, message, not_attempted = "passed", "", False
        else:
            status, message, not_attempted = _describe_failure(call.excinfo.value)
            if isinstance(call.excinfo.value, SandboxError):
                self.sandbox_failure = call.excinfo.value
                item.session.shouldstop = "the sandbox failed"
        if call.when == "call" or (call.when == "setup" and status != "passed"):
            self.outcomes.append(
                TestOutcome(exercise_of(item.path), item.name, status, message, not_attempted)
            )
        return pytest.TestReport(
            item.nodeid,
            item.location,
            {},
            "passed" if status == "passed" else "failed",
            message or None,
            call.when,
            [],
            call.duration,
            call.start,
            call.stop,
        )


# Plugins a grading session has no use for; several wrap every test (logging, warnings, the
# unraisable-exception hook, which also runs gc.collect), so they cost time on every call.
_UNUSED_PLUGINS = (
    "cacheprovider", "hypothesispytest", "attention_course", "terminal", "logging", "warnings",
    "unraisableexception", "threadexception", "faulthandler", "timeout", "doctest", "junitxml",
    "pastebin", "nose", "stepwise", "lfplugin", "legacypath", "tmpdir", "monkeypatch",
    "recwarn", "setuponly", "setupplan", "debugging",
)  # fmt: skip


def run_suites(session: GradingSession, exercises: list[str] | None = None) -> list[TestOutcome]:
    """Run the hidden suites (all, or those of `exercises`) and return every test's outcome."""
    paths = [
        str(SUITES_DIR / f"test_{e.id}.py")
        for e in session.course.exercises
        if (exercises is None or e.id in exercises) and (SUITES_DIR / f"test_{e.id}.py").is_file()
    ]
    args = [*paths, "--rootdir", str(SUITES_DIR), "-c", str(SUITES_DIR / "pytest.ini"), "-s"]
    for plugin in _UNUSED_PLUGINS:
        args += ["-p", f"no:{plugin}"]
    # The grader's own objects outlive every session: keep the collector from walking them.
    gc.freeze()
    try:
        pytest.main(args, plugins=[session])
    finally:
        gc.unfreeze()
    return session.outcomes

"""The pytest plugin behind `pytest exercises`: student modules, "not attempted", a scoreboard.

Installed with the package as a pytest11 entry point, so its options exist before pytest reads
its arguments (a conftest's options would not: `--exercises-dir FOLDER` would be taken for a test
path, and FOLDER's own conftest loaded). Each public test file
`test_exNN_name.py` checks the module `exNN_name.py`, taken from the folder given by
`--exercises-dir` (by default the test file's own folder), so the same public tests check a
student's work, the reference solutions, or any folder laid out like `exercises/`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest
from rich.console import Console
from rich.table import Table

from autograder.course.config import COURSE_FILE, ConfigError, Course, Exercise, load_course
from autograder.course.names import missing_function_message
from autograder.student.loader import ExerciseImportError, load_exercise, unimportable

NOT_ATTEMPTED = "not attempted"
_STATUS_STYLE = {"done": "green", "in progress": "yellow", "failing": "red", NOT_ATTEMPTED: "dim"}
_course_key = pytest.StashKey["Course | None"]()
_board_key = pytest.StashKey["dict[str, ExerciseTally]"]()


@dataclass
class ExerciseTally:
    """How the public checks of one exercise went."""

    exercise: Exercise
    passed: int = 0
    failed: int = 0
    not_attempted: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.not_attempted

    @property
    def status(self) -> str:
        if self.total and self.passed == self.total:
            return "done"
        if self.failed:
            return "failing"
        return "in progress" if self.passed else NOT_ATTEMPTED

    @property
    def points(self) -> float:
        return self.exercise.points * self.passed / self.total if self.total else 0.0


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("course", "attention course")
    group.addoption(
        "--exercises-dir",
        type=Path,
        default=None,
        help="check the modules in this folder (laid out like exercises/), not the tests' own",
    )
    group.addoption(
        "--scoreboard-json",
        type=Path,
        default=None,
        help="also write the scoreboard as JSON to this file",
    )


def _find_course(start: Path) -> Course | None:
    for folder in (start, *start.parents):
        if (folder / COURSE_FILE).is_file():
            return load_course(folder / COURSE_FILE)
    return None


def pytest_configure(config: pytest.Config) -> None:
    folder = config.getoption("exercises_dir")
    if folder is not None and not folder.is_dir():
        raise pytest.UsageError(f"--exercises-dir {folder}: no such folder")
    starts = [Path(arg.split("::")[0]) for arg in config.args] + [config.rootpath]
    start = next((path.resolve() for path in starts if path.exists()), config.rootpath)
    try:
        config.stash[_course_key] = _find_course(start if start.is_dir() else start.parent)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    config.stash[_board_key] = {}


def _module_name(path: Path) -> str:
    return path.stem.removeprefix("test_")


def _exercise_for(config: pytest.Config, path: Path) -> Exercise | None:
    course = config.stash.get(_course_key, None)
    return course.by_module(_module_name(path)) if course else None


@pytest.fixture
def exercise(request: pytest.FixtureRequest) -> Iterator[ModuleType]:
    """The module this test file checks (`test_ex03_softmax.py` checks `ex03_softmax.py`).
    For the whole test it cannot import another exercise's module, as when it is graded."""
    folder = request.config.getoption("exercises_dir") or request.path.parent
    module = _module_name(request.path)
    course = request.config.stash.get(_course_key, None)
    others = course.other_modules(module) if course else frozenset()
    with unimportable(others):
        yield _load(folder, module, others)


def _load(folder: Path, module: str, others: frozenset[str]) -> ModuleType:
    try:
        return load_exercise(folder, module, others)
    except ExerciseImportError as error:
        problem = str(error)
    pytest.fail(problem, pytrace=False)  # outside the except: shown once, not as a chain


@pytest.fixture
def exercise_config(request: pytest.FixtureRequest) -> Exercise:
    """This exercise's entry in course.toml."""
    config = _exercise_for(request.config, request.path)
    if config is None:
        pytest.fail(
            f"course.toml has no exercise with module {_module_name(request.path)}", pytrace=False
        )
    return config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Course tests explain themselves: keep tracebacks short when any is collected."""
    if getattr(config.option, "tbstyle", None) == "auto" and any(
        _exercise_for(config, i.path) for i in items
    ):
        config.option.tbstyle = "short"


def _tally(item: pytest.Item, report: pytest.TestReport, not_attempted: bool) -> None:
    if report.when == "teardown" or (report.when == "setup" and not report.failed):
        return
    exercise = _exercise_for(item.config, item.path)
    if exercise is None:
        return
    tally = item.config.stash[_board_key].setdefault(exercise.id, ExerciseTally(exercise))
    if not_attempted:
        tally.not_attempted += 1
    elif report.passed:
        tally.passed += 1
    else:
        tally.failed += 1


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    not_attempted = call.excinfo is not None and call.excinfo.errisinstance(NotImplementedError)
    if not_attempted:
        hint = str(call.excinfo.value) or "the function is still a stub"
        report.longrepr = f"not attempted yet ({hint})"
        report.user_properties.append(("course_outcome", NOT_ATTEMPTED))
    elif report.when == "call" and report.failed:
        missing = _missing_function(item, call)
        if missing:
            report.longrepr = missing
        mistake = _likely_mistake(item)
        if mistake:
            report.sections.append(("likely mistake", mistake))
    _tally(item, report, not_attempted)
    return report


def _missing_function(item: pytest.Item, call: pytest.CallInfo) -> str | None:
    """What the grader would say of a course function the module does not define (pytest
    says only "module ... has no attribute ...")."""
    module = getattr(item, "funcargs", {}).get("exercise")
    exercise = _exercise_for(item.config, item.path)
    error = call.excinfo.value if call.excinfo else None
    if (
        module is None
        or exercise is None
        or not isinstance(error, AttributeError)
        or error.obj is not module
        or error.name not in exercise.functions
    ):
        return None
    path = Path(module.__file__ or "")
    source = path.read_bytes().decode("utf-8-sig")  # the loader has already checked it decodes
    return missing_function_message(path.name, source, error.name, exercise.functions)


_diagnoses_key = pytest.StashKey["dict[str, str | None]"]()


def _likely_mistake(item: pytest.Item) -> str | None:
    """The common mistake a failing exercise looks like, once per exercise and session.

    The catalogue ships with the course repository, not with the student release (its
    entries are one edit away from the solutions): without it, nothing is said."""
    try:
        from autograder.mistakes import NOT_DIAGNOSED, diagnose_module
    except ImportError:
        return None
    module = getattr(item, "funcargs", {}).get("exercise")
    exercise = _exercise_for(item.config, item.path)
    if module is None or exercise is None or item.name.split("[")[0] in NOT_DIAGNOSED:
        return None
    found = item.config.stash.setdefault(_diagnoses_key, {})
    if exercise.id not in found:
        mistake = diagnose_module(module, exercise)
        found[exercise.id] = mistake.diagnosis() if mistake else None
    return found[exercise.id]


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    properties = getattr(report, "user_properties", ())  # collection reports have none
    if report.failed and ("course_outcome", NOT_ATTEMPTED) in properties:
        return NOT_ATTEMPTED, "n", "NOT ATTEMPTED"
    return None


def _scoreboard(course: Course, tallies: dict[str, ExerciseTally]) -> list[ExerciseTally]:
    return [tallies.get(e.id, ExerciseTally(e)) for e in course.exercises if e.id in tallies]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    course = config.stash.get(_course_key, None)
    tallies = config.stash.get(_board_key, {})
    if course is None or not tallies:
        return
    board = _scoreboard(course, tallies)
    table = Table(title=f"{course.name}: public checks", title_justify="left")
    for column in ("#", "exercise", "status", "checks", "points"):
        table.add_column(column, justify="right" if column in ("#", "checks", "points") else "left")
    for tally in board:
        style = _STATUS_STYLE[tally.status]
        table.add_row(
            str(tally.exercise.number),
            tally.exercise.title,
            f"[{style}]{tally.status}[/{style}]",
            f"{tally.passed}/{tally.total}",
            f"{tally.points:g}/{tally.exercise.points:g}",
        )
    earned = sum(t.points for t in board)
    possible = sum(t.exercise.points for t in board)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminalreporter.hasmarkup, width=100)
    console.print(table)
    console.print(
        f"Public checks: {earned:g}/{possible:g} points. Hidden tests grade your submission, "
        "on many more inputs: passing every public check is not yet full marks."
    )
    terminalreporter.write_line("")
    terminalreporter.write(buffer.getvalue())
    path = config.getoption("scoreboard_json")
    if path is not None:
        rows = [
            {
                "id": t.exercise.id,
                "status": t.status,
                "passed": t.passed,
                "total": t.total,
                "points": t.points,
                "max_points": t.exercise.points,
            }
            for t in board
        ]
        path.write_text(
            json.dumps({"points": earned, "max_points": possible, "exercises": rows}, indent=2)
        )

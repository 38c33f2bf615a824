"""The pytest plugin behind `pytest exercises`: student modules, "not attempted", a scoreboard.

Installed with the package as a pytest11 entry point, so its options exist before pytest reads
its arguments (a conftest's options would not: `--exercises-dir FOLDER` would be taken for a test
path, and FOLDER's own conftest loaded). Each public test file
`test_exNN_name.py` checks the module `exNN_name.py`, taken from the folder given by
`--exercises-dir` (by default the test file's own folder), so the same public tests check a
student's work, the reference solutions, or any folder laid out like `exercises/`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from autograder.course.config import COURSE_FILE, ConfigError, Course, Exercise, load_course
from autograder.course.names import call_chain, missing_function_message
from autograder.course.stubs import KEPT_STUB_RAISE
from autograder.student import scoreboard
from autograder.student.checks import stubbed_functions
from autograder.student.loader import ExerciseImportError, load_exercise, unimportable
from autograder.student.scoreboard import NOT_ATTEMPTED, ExerciseTally
from autograder.student.time_limit import CheckTimeout, time_limit

_course_key = pytest.StashKey["Course | None"]()
_board_key = pytest.StashKey["dict[str, ExerciseTally]"]()
_timed_out_key = pytest.StashKey["set[str]"]()  # modules whose checks ran out of time
OUTPUT_LIMIT = 5_000  # characters of a check's captured output shown: a loop's prints never end


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
        problem = "not a folder" if folder.exists() else "no such folder"
        raise pytest.UsageError(f"--exercises-dir {folder}: {problem}")
    board = config.getoption("scoreboard_json")
    if board is not None and (board.is_dir() or not board.parent.is_dir()):
        raise pytest.UsageError(f"--scoreboard-json {board}: not a file in an existing folder")
    starts = [Path(arg.split("::")[0]) for arg in config.args] + [config.rootpath]
    start = next((path.resolve() for path in starts if path.exists()), config.rootpath)
    try:
        course = _find_course(start if start.is_dir() else start.parent)
    except ConfigError as error:
        raise pytest.UsageError(str(error)) from None
    if course is not None:
        _refuse_module_arguments(course, config.args)
    config.stash[_course_key] = course
    config.stash[_board_key] = {}


def _refuse_module_arguments(course: Course, args: list[str]) -> None:
    """`pytest exercises/ex03_softmax.py` would collect nothing: point at the module's checks."""
    for arg in args:
        path = Path(arg.split("::")[0])
        if path.suffix == ".py" and course.by_module(path.stem):
            checks = path.with_name(f"test_{path.name}")
            raise pytest.UsageError(f"{arg} is your code, not its checks: run pytest {checks}")


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
    if module in request.config.stash.setdefault(_timed_out_key, set()):
        pytest.fail(f"not run: an earlier check of {module}.py ran out of time", pytrace=False)
    with unimportable(others, f"{module}.py"):
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
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _exercise_time_limit(item):  # importing the module runs its top-level code
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _exercise_time_limit(item):
        return (yield)


def _exercise_time_limit(item: pytest.Item) -> contextlib.AbstractContextManager[None]:
    exercise = _exercise_for(item.config, item.path)
    return time_limit(exercise.time_limit_s) if exercise else contextlib.nullcontext()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    report = yield
    error = call.excinfo.value if call.excinfo else None
    unfinished = _unfinished_stub(item, call) if isinstance(error, NotImplementedError) else None
    not_attempted = isinstance(error, NotImplementedError) and unfinished is None
    if not_attempted:
        hint = str(error) or "the function is still a stub"
        report.longrepr = f"not attempted yet ({hint})"
        report.user_properties.append(("course_outcome", NOT_ATTEMPTED))
    elif report.failed and (stopped := _timed_out(item, call)):
        report.longrepr = stopped
        item.config.stash.setdefault(_timed_out_key, set()).add(_module_name(item.path))
    elif report.when == "call" and report.failed:
        problem = unfinished or _missing_function(item, call)
        if problem:
            report.longrepr = problem
        mistake = _likely_mistake(item)
        if mistake:
            report.sections.append(("likely mistake", mistake))
    if _exercise_for(item.config, item.path):
        report.sections = [(title, _capped(text)) for title, text in report.sections]
    _tally(item, report, not_attempted)
    return report


def _capped(text: str) -> str:
    if len(text) <= OUTPUT_LIMIT:
        return text
    return f"{text[:OUTPUT_LIMIT]}\n... [{len(text) - OUTPUT_LIMIT} more characters not shown]"


def _student_frames(
    item: pytest.Item, call: pytest.CallInfo
) -> tuple[ModuleType, list[tuple[str, int]]] | None:
    """The exercise's module, and the calls of its code through which the call's error was
    raised, outermost first, each as (function, line); None if none of them was in its code."""
    module = getattr(item, "funcargs", {}).get("exercise")
    if module is None or call.excinfo is None:
        return None
    path = Path(module.__file__ or "")
    frames = [entry for entry in call.excinfo.traceback if Path(entry.path) == path]
    if not frames:
        return None
    return module, [(entry.name, entry.lineno + 1) for entry in frames]


def _unfinished_stub(item: pytest.Item, call: pytest.CallInfo) -> str | None:
    """Why a function with code in it still raises NotImplementedError: its stub's `raise`
    line was kept (the check is failed, not "not attempted")."""
    found = _student_frames(item, call)
    if found is None:
        return None
    module, calls = found
    function, line = calls[-1]
    if function not in _exercise_functions(item) or stubbed_functions(module, (function,)):
        return None
    file = Path(module.__file__ or "").name
    return f"{function} raises NotImplementedError at line {line} of {file}: {KEPT_STUB_RAISE}"


def _timed_out(item: pytest.Item, call: pytest.CallInfo) -> str | None:
    """Where the check was stopped, if it ran past the time limit."""
    if call.excinfo is None or not call.excinfo.errisinstance(CheckTimeout):
        return None
    found = _student_frames(item, call)
    where = ""
    if found:
        where = f" in {call_chain([(function, f'line {line}') for function, line in found[1]])}"
    return f"{call.excinfo.value}; stopped{where}: is there a loop that never ends?"


def _exercise_functions(item: pytest.Item) -> tuple[str, ...]:
    exercise = _exercise_for(item.config, item.path)
    return exercise.functions if exercise else ()


def _missing_function(item: pytest.Item, call: pytest.CallInfo) -> str | None:
    """What the grader would say of a course function the module does not define (pytest
    says only "module ... has no attribute ...")."""
    module = getattr(item, "funcargs", {}).get("exercise")
    error = call.excinfo.value if call.excinfo else None
    if (
        module is None
        or not isinstance(error, AttributeError)
        or error.obj is not module
        or error.name not in _exercise_functions(item)
    ):
        return None
    path = Path(module.__file__ or "")
    source = path.read_bytes().decode("utf-8-sig")  # the loader has already checked it decodes
    return missing_function_message(path.name, source, error.name, _exercise_functions(item))


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
        found[exercise.id] = None
        with contextlib.suppress(CheckTimeout), time_limit(exercise.time_limit_s):
            mistake = diagnose_module(module, exercise)  # calls the student's functions
            found[exercise.id] = mistake.diagnosis() if mistake else None
    return found[exercise.id]


def pytest_report_teststatus(report: pytest.TestReport) -> tuple[str, str, str] | None:
    properties = getattr(report, "user_properties", ())  # collection reports have none
    if report.failed and ("course_outcome", NOT_ATTEMPTED) in properties:
        return NOT_ATTEMPTED, "n", "NOT ATTEMPTED"
    return None


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    course = config.stash.get(_course_key, None)
    tallies = config.stash.get(_board_key, {})
    if course is None or not tallies:
        return
    terminalreporter.write_line("")
    terminalreporter.write(scoreboard.render(course, tallies, markup=terminalreporter.hasmarkup))
    path = config.getoption("scoreboard_json")
    if path is not None:
        path.write_text(scoreboard.to_json(course, tallies))

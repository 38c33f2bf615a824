"""What the hidden part of an nbgrader grade cell calls: the exercise's score under this
project's hidden suite, for the code the notebook ran.

`hidden_score(executed_cells(), exercise)` grades the code cells the kernel has run before the
grade cell with the hidden suite, through `autograder grade` in a fresh process: the trusted side
(hidden suites, reference solutions, comparisons) never runs in the student's kernel, whose
state the student's cells control, and student code runs only in the grader's sandboxed
workers. It returns the exercise's points, a number nbgrader takes as partial credit, and
prints one line: how many hidden tests passed, never a test's name, message or values, since
the feedback must not show them.

nbgrader gives a grade cell 0 points as soon as it writes anything to stderr (`has_failed`,
`determine_grade`), and torch warns there freely: `captured_stderr` takes what is written to
`sys.stderr` or to file descriptor 2, and every warning, while grading runs.

Only autograde, on the instructors' side, runs this module: the students' release does not ship
`autograder.grading`. The score a kernel prints is only as trustworthy as the kernel, which the
student's own cells control; `autograder grade-all`, outside any kernel, is the authoritative
score (`grade-all --nbgrader-course` records it in nbgrader's gradebook).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from autograder.course.config import COURSE_FILE, Course, Exercise, load_course
from autograder.reports.model import ExerciseResult, read_json
from autograder.reports.nbgrader_gradebook import cell_score

HIDDEN_TIMEOUT_S = 540.0  # under the Execute timeout of the generated nbgrader_config.py


def find_exercise(course: Course, name: str) -> Exercise:
    """The exercise with this id or module name (grade cells pass the module: a bare
    `"softmax"` in a notebook counts as a use of `torch.softmax`)."""
    return course.by_module(name) or course.exercise(name)


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Collect, instead of writing them, everything written to `sys.stderr` or to file
    descriptor 2 and every warning raised inside; the list is filled on exit."""
    collected: list[str] = []
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    text = io.StringIO()
    with tempfile.TemporaryFile() as sink, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stderr(text):
                yield collected
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            written = sink.read().decode("utf-8", "replace")
            notes = [f"{w.category.__name__}: {w.message}" for w in caught]
            for item in (text.getvalue(), written, *dict.fromkeys(notes)):
                if item.strip():
                    collected.append(item.rstrip("\n"))


def executed_cells() -> list[str]:
    """The code cells this IPython kernel ran before the current one, in order; none outside
    IPython."""
    try:
        from IPython import get_ipython

        return list(get_ipython().history_manager.input_hist_raw[1:-1])  # type: ignore[union-attr]
    except Exception:
        return []


def hidden_score(
    cells: Sequence[str],
    exercise_id: str,
    *,
    course: Course | None = None,
    timeout_s: float = HIDDEN_TIMEOUT_S,
) -> float:
    """The exercise's points for the code `cells` under its hidden suite (0 to its points),
    graded as a notebook by `autograder grade` in a fresh process. Never raises; prints one
    line, how many hidden tests passed (and which cell the grader could not run, if any), no
    test's name, message or values."""
    try:
        course = course or load_course()
        exercise = find_exercise(course, exercise_id)
        with captured_stderr(), tempfile.TemporaryDirectory(prefix="autograder-hidden-") as tmp:
            result = _grade_in_subprocess(course, exercise, cells, Path(tmp), timeout_s)
    except BaseException:  # an interrupt too: a traceback would show the hidden cell's code
        result = None
    if result is None:
        print("The hidden tests could not run; your instructor will grade this exercise.")
        return 0.0
    print(summary(result))
    return cell_score(result.score, exercise)


def summary(result: ExerciseResult) -> str:
    """One line for the student: how many hidden tests passed and, when some did not, the first
    cell the grader's sandbox could not run (a plot, say): never a test's name or message."""
    tests = result.tests
    passed = sum(t.status == "passed" for t in tests)
    line = f"Hidden tests: {passed} of {len(tests)} passed."
    if result.status == "not_attempted":
        return f"{line} Not attempted yet."
    cell_errors = result.message.splitlines()
    if passed < len(tests) and cell_errors:
        more = f" (and {len(cell_errors) - 1} more)" if len(cell_errors) > 1 else ""
        return f"{line} In the grader, {cell_errors[0]}{more}."
    return line


def _grade_in_subprocess(
    course: Course, exercise: Exercise, cells: Sequence[str], folder: Path, timeout_s: float
) -> ExerciseResult | None:
    """`autograder grade` on `cells` as the exercise's notebook, in `folder`; None if it could
    not grade."""
    path = folder / f"{exercise.module}.ipynb"
    code_cells = [{"cell_type": "code", "source": cell} for cell in cells]
    path.write_text(json.dumps({"cells": code_cells}), encoding="utf-8")
    report_path = folder / "report.json"
    command = [sys.executable, "-m", "autograder", "--course", str(course.root / COURSE_FILE)]
    command += ["grade", str(path), "--format", "json", "--out", str(report_path)]
    result = subprocess.run(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout_s,
        check=False,
    )
    if result.returncode != 0 or not report_path.is_file():
        return None
    return read_json(report_path).exercises.get(exercise.id)

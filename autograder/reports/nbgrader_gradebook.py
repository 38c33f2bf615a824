"""Native reports written into an nbgrader course's gradebook, through nbgrader's own API.

Each exercise is one nbgrader assignment, named after its module (`ex03_softmax`), with one
grade cell (`autograder.build.nbgrader_course`). A report's score for an exercise becomes a
student's auto score on that cell, so nbgrader's `export` sees it as if `nbgrader autograde` had
produced it; formgrader and feedback show it on the notebooks autograde wrote in `autograded/`,
and have none to show without them. nbgrader is imported only when a gradebook is opened.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course.config import Course, Exercise
from autograder.reports.model import Report

CONFIG_FILE = "nbgrader_config.py"


class GradebookError(RuntimeError):
    """A score cannot be written to the gradebook; the message says why."""


def assignment_name(exercise: Exercise) -> str:
    """The nbgrader assignment (and notebook) of an exercise: its module name."""
    return exercise.module


def grade_cell_id(exercise: Exercise) -> str:
    """The grade_id of the exercise's one grade cell."""
    return f"{exercise.id}_tests"


@dataclass
class GradebookSummary:
    """What `write_reports` did: scores written, and what it could not write and why."""

    written: int = 0
    skipped: list[str] = field(default_factory=list)


def course_directory(course_dir: Path) -> Any:
    """nbgrader's CourseDirectory for `course_dir`, configured by its nbgrader_config.py."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    config = Config()
    if (course_dir / CONFIG_FILE).is_file():
        config = PyFileConfigLoader(CONFIG_FILE, path=str(course_dir)).load_config()
    if "root" in config.get("CourseDirectory", {}):
        return CourseDirectory(config=config)
    return CourseDirectory(config=config, root=str(course_dir))


@contextmanager
def _open_gradebook(course_dir: Path | str) -> Iterator[tuple[Any, str]]:
    """nbgrader's Gradebook of the course at `course_dir`, and its database URL."""
    from nbgrader.api import Gradebook
    from sqlalchemy.exc import SAWarning

    directory = course_directory(Path(course_dir).resolve())
    with warnings.catch_warnings(), Gradebook(directory.db_url, directory.course_id) as gradebook:
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings; they are harmless.
        warnings.simplefilter("ignore", SAWarning)
        yield gradebook, directory.db_url


def _exercise(course: Course, assignment: str) -> Exercise:
    exercise = course.by_module(assignment)
    if exercise is None:
        known = ", ".join(assignment_name(e) for e in course.exercises)
        raise GradebookError(f"no exercise has the module {assignment!r} (known: {known})")
    return exercise


def _score(report: Report, exercise: Exercise) -> float:
    """The report's score for `exercise` (0 if absent), clamped to the exercise's points."""
    result = report.exercises.get(exercise.id)
    score = result.score if result is not None else 0.0
    if not math.isfinite(score):
        raise GradebookError(f"the report's score for {exercise.id!r} is {score!r}")
    return cell_score(score, exercise)


def cell_score(score: float, exercise: Exercise) -> float:
    """A score as the exercise's grade cell takes it: within 0 and its points, to 6 decimals."""
    return round(min(max(score, 0.0), exercise.points), 6)


def _record(gradebook: Any, db_url: str, exercise: Exercise, student: str, score: float) -> None:
    from nbgrader.api import MissingEntry

    assignment, cell = assignment_name(exercise), grade_cell_id(exercise)
    try:
        gradebook.find_grade_cell(cell, assignment, assignment)
    except MissingEntry:
        raise GradebookError(
            f"{db_url}: the gradebook has no grade cell {cell!r} in assignment {assignment!r}: "
            f"run `nbgrader generate_assignment {assignment}` in the course directory first"
        ) from None
    gradebook.update_or_create_student(student)
    gradebook.update_or_create_submission(assignment, student)
    grade = gradebook.find_grade(cell, assignment, assignment, student)
    grade.auto_score = score
    grade.needs_manual_grade = False


def write_reports(
    course_dir: Path | str,
    course: Course,
    reports: Iterable[tuple[str, str, Report]],
) -> GradebookSummary:
    """Write many (student, assignment, report) into the gradebook in one session.

    An empty assignment means a report of the whole course: each exercise goes to its own
    assignment. Each score is committed on its own, so one that cannot be written (its
    assignment not generated yet, an unknown module) is listed in `skipped` and costs no other.
    """
    summary = GradebookSummary()
    with _open_gradebook(course_dir) as (gradebook, db_url):
        for student, assignment, report in reports:
            try:
                exercises = [_exercise(course, assignment)] if assignment else course.exercises
            except GradebookError as error:
                summary.skipped.append(f"{student}/{assignment}: {error}")
                continue
            for exercise in exercises:
                try:
                    _record(gradebook, db_url, exercise, student, _score(report, exercise))
                    gradebook.db.commit()
                    summary.written += 1
                except GradebookError as error:
                    gradebook.db.rollback()
                    summary.skipped.append(f"{student}/{assignment_name(exercise)}: {error}")
    return summary

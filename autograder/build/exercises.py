"""Generate `exercises/` from `solutions/` and `course.toml`, or report how it has drifted."""

from __future__ import annotations

from pathlib import Path

from autograder.build.generated import Drift, check_generated, write_changed
from autograder.build.stubs import check_marked, stub_file
from autograder.course.config import Course, Exercise
from autograder.course.forbidden import forbidden_note


def solution_source(course: Course, exercise: Exercise) -> str:
    """The reference solution's text, each of the exercise's functions checked to hold a
    solution region (`check_marked`); a clear error if it is missing."""
    path = course.solutions_dir / exercise.filename
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: no reference solution for exercise {exercise.id!r} "
            f"(course.toml names module {exercise.module!r})"
        )
    source = path.read_text(encoding="utf-8")
    check_marked(source, exercise.functions, str(path))
    return source


def generated_exercises(course: Course) -> dict[Path, str]:
    """Every file `autograder build` writes into the exercises folder, with its content."""
    files = {}
    for exercise in course.exercises:
        source = solution_source(course, exercise)
        filename = str(course.solutions_dir / exercise.filename)
        note = forbidden_note(exercise.forbidden)
        files[course.exercises_dir / exercise.filename] = stub_file(source, filename, note)
    return files


def check_exercises(course: Course) -> list[Drift]:
    """How the checked-in exercises differ from what `autograder build` would write."""
    return check_generated(generated_exercises(course), "differs from its solution's stub")


def write_exercises(course: Course) -> list[Path]:
    """Write every generated exercise file; returns the paths that changed."""
    return write_changed(generated_exercises(course))

"""Generate `exercises/` from `solutions/` and `course.toml`, or report how it has drifted."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.build.stubs import stub_file
from autograder.course.config import Course


@dataclass(frozen=True)
class Drift:
    """A generated file whose checked-in copy is missing or differs."""

    path: Path
    reason: str


def generated_exercises(course: Course) -> dict[Path, str]:
    """Every file `autograder build` writes into the exercises folder, with its content."""
    files = {}
    for exercise in course.exercises:
        solution = course.solutions_dir / exercise.filename
        if not solution.is_file():
            raise FileNotFoundError(
                f"{solution}: no reference solution for exercise {exercise.id!r} "
                f"(course.toml names module {exercise.module!r})"
            )
        files[course.exercises_dir / exercise.filename] = stub_file(solution)
    return files


def check_exercises(course: Course) -> list[Drift]:
    """How the checked-in exercises differ from what `autograder build` would write."""
    drift = []
    for path, content in generated_exercises(course).items():
        if not path.is_file():
            drift.append(Drift(path, "missing"))
        elif path.read_text(encoding="utf-8") != content:
            drift.append(Drift(path, "differs from its solution's stub"))
    return drift


def write_exercises(course: Course) -> list[Path]:
    """Write every generated exercise file; returns the paths that changed."""
    changed = []
    for path, content in generated_exercises(course).items():
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed

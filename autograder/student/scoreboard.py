"""The scoreboard `pytest exercises` ends with: how each exercise's public checks went, as a
table for the terminal and as JSON (`--scoreboard-json`)."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from autograder.course.config import Course, Exercise

NOT_ATTEMPTED = "not attempted"
_STATUS_STYLE = {"done": "green", "in progress": "yellow", "failing": "red", NOT_ATTEMPTED: "dim"}


@dataclass
class ExerciseTally:
    """How the public checks of one exercise went."""

    exercise: Exercise
    passed: int = 0
    failed: int = 0
    not_attempted: int = 0

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


def points_text(value: float) -> str:
    """Points to two decimals, rounded down so that nothing short of full marks reads as
    them: 10 -> "10", 7.5 -> "7.5", 5/3 -> "1.66", 99.996 -> "99.99"."""
    hundredths = math.floor(round(value * 100, 6))  # round first: 0.29 * 100 is 28.999...
    return f"{hundredths / 100:.2f}".rstrip("0").rstrip(".")


def _board(course: Course, tallies: dict[str, ExerciseTally]) -> list[ExerciseTally]:
    """The exercises that were checked, in course order."""
    return [tallies[e.id] for e in course.exercises if e.id in tallies]


def render(course: Course, tallies: dict[str, ExerciseTally], *, markup: bool) -> str:
    """The scoreboard as terminal text (colours with `markup`)."""
    board = _board(course, tallies)
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
            f"{points_text(tally.points)}/{points_text(tally.exercise.points)}",
        )
    earned = sum(t.points for t in board)
    possible = sum(t.exercise.points for t in board)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=markup, width=100)
    console.print(table)
    console.print(
        f"Public checks: {points_text(earned)}/{points_text(possible)} points. Hidden tests "
        "grade your submission, on many more inputs: passing every public check is not yet "
        "full marks."
    )
    return buffer.getvalue()


def to_json(course: Course, tallies: dict[str, ExerciseTally]) -> str:
    """The scoreboard as JSON: total points, then each exercise's status, checks and points."""
    board = _board(course, tallies)
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
    earned = sum(t.points for t in board)
    possible = sum(t.exercise.points for t in board)
    return json.dumps({"points": earned, "max_points": possible, "exercises": rows}, indent=2)

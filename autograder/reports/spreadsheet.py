"""The CSV adapter: one row of scores per (student, assignment), for a spreadsheet or an LMS
gradebook import.

Names come from folder names, which students choose: a cell shows them on one line (control
codes, line breaks and invisible characters as `?`), and never starts like a formula.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from autograder.course.config import Course
from autograder.reports.common import printable
from autograder.reports.model import Report

_FORMULA_START = ("=", "+", "-", "@")


def text_cell(value: str) -> str:
    """A text cell shown as written, on one line, that a spreadsheet will not run as a formula
    (`'` before a leading = + - @)."""
    shown = printable(value)
    return "'" + shown if shown.startswith(_FORMULA_START) else shown


def number_cell(value: float) -> str:
    """A score to six decimals, without trailing zeros: 7.5 -> "7.5", 1/3 -> "0.333333"."""
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def render(course: Course, rows: Iterable[tuple[str, str, Report]]) -> str:
    """The CSV of `rows` (student, assignment, report). Columns: student, assignment, score,
    max_score, then each exercise id in course order with that exercise's score (empty if the
    report has no such exercise)."""
    ids = [exercise.id for exercise in course.exercises]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "assignment", "score", "max_score", *ids])
    for student, assignment, report in rows:
        scores = [
            number_cell(report.exercises[i].score) if i in report.exercises else "" for i in ids
        ]
        totals = [number_cell(report.score), number_cell(report.max_score)]
        writer.writerow([text_cell(student), text_cell(assignment), *totals, *scores])
    return buffer.getvalue()

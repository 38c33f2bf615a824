"""Gradescope autograder ``results.json``.

Spec: https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format
"""

from __future__ import annotations

import json
from typing import Any

from .common import (
    exercise_summary,
    md_code_block,
    md_inline,
    md_test_details,
    notices,
    score_text,
    truncate,
)
from .model import ExerciseResult, Report, TestResult, round_score


def to_gradescope(
    report: Report, *, visibility: str = "visible", stdout_visibility: str = "hidden"
) -> dict[str, Any]:
    """Gradescope results as a dict. Tests keep the visibility the report gives them."""
    tests: list[dict[str, Any]] = []
    for i, ex in enumerate(report.exercises.values(), start=1):
        tests.extend(_test(ex, test, f"{i}.{j}") for j, test in enumerate(ex.tests, start=1))
        if not ex.tests:  # e.g. not submitted or unparsable: still list it, with its points
            tests.append(_placeholder(ex, str(i)))
    return {
        "score": round_score(report.score),
        "execution_time": round(report.duration_s),
        "output": _overview(report),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": visibility,
        "stdout_visibility": stdout_visibility,
        "tests": tests,
        "extra_data": {
            "schema": report.schema,
            "submission": report.submission,
            "student": report.student,
            "gradable": report.gradable,
            "grader_warnings": list(report.warnings),  # for staff: not in the students' output
            "exercises": {
                key: {
                    "status": ex.status,
                    "score": round_score(ex.score),
                    "max_score": round_score(ex.max_score),
                }
                for key, ex in report.exercises.items()
            },
        },
    }


def render(report: Report) -> str:
    return json.dumps(to_gradescope(report), indent=2, allow_nan=False) + "\n"


def _test(ex: ExerciseResult, test: TestResult, number: str) -> dict[str, Any]:
    return {
        "number": number,
        "name": f"{ex.title}: {test.name}",
        "name_format": "text",
        "score": round_score(test.score),
        "max_score": round_score(test.max_score),
        "status": "passed" if test.status == "passed" else "failed",
        "output": md_test_details(test),
        "output_format": "md",
        "visibility": test.visibility,
        "tags": [ex.id],
    }


def _placeholder(ex: ExerciseResult, number: str) -> dict[str, Any]:
    output = f"**{md_inline(exercise_summary(ex).capitalize())}**"
    if ex.message:
        output += "\n\n" + md_code_block(ex.message)
    return {
        "number": number,
        "name": ex.title,
        "name_format": "text",
        "score": round_score(ex.score),
        "max_score": round_score(ex.max_score),
        "status": "passed" if ex.status == "complete" else "failed",
        "output": output,
        "output_format": "md",
        "visibility": "visible",
        "tags": [ex.id],
    }


def _overview(report: Report) -> str:
    parts = [f"**Total: {score_text(report.score, report.max_score)}**"]
    for title, items in notices(report):  # students read this
        parts.append(f"**{title}**\n\n" + "\n".join(f"- {md_inline(i)}" for i in items))
    lines = [
        f"- {md_inline(ex.title)}: {md_inline(exercise_summary(ex))}"
        for ex in report.exercises.values()
    ]
    parts.append("**Exercises**\n\n" + "\n".join(lines))
    for ex in report.exercises.values():
        if ex.tests and ex.message:  # placeholders already carry the message of test-less ones
            parts.append(f"**{md_inline(ex.title)}:**\n\n{md_code_block(ex.message)}")
        if ex.output:
            parts.append(
                f"**Output of {md_inline(ex.title)}:**\n\n{md_code_block(truncate(ex.output))}"
            )
    return "\n\n".join(parts)

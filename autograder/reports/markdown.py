"""Markdown feedback for the student: scores, what passed, what failed and why, their output."""

from __future__ import annotations

from .common import (
    UNGRADABLE,
    exercise_summary,
    failure_names,
    failure_summary,
    failures,
    hidden_summary,
    likely_mistakes,
    md_code_block,
    md_inline,
    notices,
    said_in,
    score_text,
    student_tests,
    truncate,
)
from .model import ExerciseResult, Report


def render(report: Report) -> str:
    parts = [f"# Feedback: {md_inline(report.submission or 'submission')}"]
    if report.student:
        parts.append(f"Student: {md_inline(report.student)}")
    parts.append(f"**Total score: {score_text(report.score, report.max_score)}**")
    if not report.gradable:
        parts.append(f"**{md_inline(UNGRADABLE)}**")
    for title, items in notices(report):
        parts.append(f"## {title}\n\n" + "\n".join(f"- {md_inline(i)}" for i in items))
    parts.extend(_exercise(ex) for ex in report.exercises.values())
    return "\n\n".join(parts) + "\n"


def _exercise(ex: ExerciseResult) -> str:
    parts = [f"## {md_inline(ex.title)}: {md_inline(exercise_summary(ex))}"]
    if ex.message:
        parts.append(md_code_block(ex.message))
    passed, not_passed, hidden = student_tests(ex)
    if passed:
        lines = [f"- ✓ {md_inline(t.name)} ({score_text(t.score, t.max_score)})" for t in passed]
        parts.append("Passed:\n\n" + "\n".join(lines))
    parts.extend(f"**Likely mistake:** {md_inline(m)}" for m in likely_mistakes(not_passed))
    if not_passed:
        parts.append("Not passed:")
    for group in failures(not_passed):
        names, summary = md_inline(failure_names(group)), md_inline(failure_summary(group))
        parts.append(f"- ✗ **{names}**: {summary}")
        if group[0].message and not said_in(group[0].message, ex.message):
            parts.append(md_code_block(group[0].message))
    if hidden:
        parts.append(md_inline(hidden_summary(hidden)))
    if ex.output:
        parts.append("Your output:\n\n" + md_code_block(truncate(ex.output)))
    return "\n\n".join(parts)

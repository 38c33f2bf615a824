"""The student feedback as one standalone HTML page: inline CSS, no scripts, no external links.

Every string from the report goes through ``_e`` (clean_text + html.escape).
"""

from __future__ import annotations

import html

from .common import (
    UNGRADABLE,
    clean_text,
    exercise_summary,
    failure_names,
    failure_summary,
    failures,
    hidden_summary,
    likely_mistakes,
    notices,
    said_in,
    score_text,
    student_tests,
    truncate,
)
from .model import ExerciseResult, Report, TestResult

_CSS = """
body { font-family: system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1f2328; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .25rem; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
.complete { color: #1a7f37; } .partial { color: #9a6700; }
.failed, .error, .not_attempted, .not_submitted, .notice { color: #cf222e; }
"""


def _e(text: str) -> str:
    return html.escape(clean_text(text))


def render(report: Report) -> str:
    title = f"Feedback: {report.submission or 'submission'}"
    body = [f"<h1>{_e(title)}</h1>"]
    if report.student:
        body.append(f"<p>Student: {_e(report.student)}</p>")
    body.append(
        f"<p><strong>Total score: {_e(score_text(report.score, report.max_score))}</strong></p>"
    )
    if not report.gradable:
        body.append(f'<p class="notice"><strong>{_e(UNGRADABLE)}</strong></p>')
    for heading, items in notices(report):
        body.append(
            f"<h2>{_e(heading)}</h2>\n<ul>{''.join(f'<li>{_e(i)}</li>' for i in items)}</ul>"
        )
    body.extend(_exercise(ex) for ex in report.exercises.values())
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _exercise(ex: ExerciseResult) -> str:
    summary = f'<span class="{_e(ex.status)}">{_e(exercise_summary(ex))}</span>'
    parts = [f"<section>\n<h2>{_e(ex.title)}: {summary}</h2>"]
    if ex.message:
        parts.append(f"<pre>{_e(ex.message)}</pre>")
    passed, not_passed, hidden = student_tests(ex)
    if passed:
        items = "".join(
            f"<li>✓ {_e(t.name)} ({_e(score_text(t.score, t.max_score))})</li>" for t in passed
        )
        parts.append(f"<p>Passed:</p>\n<ul>{items}</ul>")
    parts.extend(
        f"<p><strong>Likely mistake:</strong> {_e(m)}</p>" for m in likely_mistakes(not_passed)
    )
    if not_passed:
        items = "".join(_failure(group, ex.message) for group in failures(not_passed))
        parts.append(f"<p>Not passed:</p>\n<ul>{items}</ul>")
    if hidden:
        parts.append(f"<p>{_e(hidden_summary(hidden))}</p>")
    if ex.output:
        parts.append(f"<p>Your output:</p>\n<pre>{_e(truncate(ex.output))}</pre>")
    return "\n".join(parts) + "\n</section>"


def _failure(group: list[TestResult], said_above: str) -> str:
    """Tests that failed alike: their names, then what they say, once (unless the exercise's
    message, `said_above`, says it)."""
    test = group[0]
    parts = [f"<li>✗ <strong>{_e(failure_names(group))}</strong>: {_e(failure_summary(group))}"]
    if test.message and not said_in(test.message, said_above):
        parts.append(f"<pre>{_e(test.message)}</pre>")
    return "\n".join(parts) + "</li>"

"""Formatting shared by every adapter: labels, numbers, text cleaning, Markdown snippets."""

from __future__ import annotations

import re

from .model import ExerciseResult, Report, TestResult

EXERCISE_STATUS_LABELS = {
    "complete": "complete",
    "partial": "partially complete",
    "failed": "failed",
    "not_attempted": "not attempted",
    "not_submitted": "not submitted",
    "error": "could not be graded",
}
TEST_STATUS_LABELS = {
    "passed": "passed",
    "failed": "failed",
    "error": "error",
    "timeout": "timed out",
}
UNGRADABLE = "This submission could not be graded."
OUTPUT_LIMIT = 5_000  # characters of captured output shown per exercise by adapters

# ANSI escape sequences (colours, cursor moves) and characters not allowed in XML 1.0.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_INVALID = re.compile(r"[^\t\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Characters that show as nothing (Unicode 15): the invisible format characters (category Cf:
# bidi overrides and isolates, which reorder the text shown after them, zero-width spaces and
# joiners, tag characters) and the other default-ignorable ones but variation selectors
# (fillers). Shown as U+FFFD too, so that nothing is hidden or rearranged: `alice\u3164` never
# passes for `alice`.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufeff\uffa0"
    "\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e00ff\U000e01f0-\U000e0fff]"
)
# Variation selectors choose how the character before them looks (the emoji in "✔️"): report
# text keeps them; a name shown on one line (`printable`) does not, nothing may hide in it.
_SELECTORS = re.compile("[\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")
_NEWLINES = re.compile("[\r\u2028\u2029]")  # a line or paragraph break in other spellings
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")


def points(value: float) -> str:
    """7.5 -> "7.5", 10.0 -> "10", 1/3 -> "0.33"."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def score_text(score: float, max_score: float) -> str:
    return f"{points(score)} / {points(max_score)}"


def clean_text(text: str) -> str:
    """Printable text: ANSI codes dropped, line breaks made newlines, other controls and invisible
    format characters (bidi overrides, zero-width spaces) -> U+FFFD.

    The result is valid in XML 1.0, HTML and Markdown (tab and newline are kept), and shows in
    the order it was written.
    """
    text = _ANSI.sub("", text).replace("\r\n", "\n")
    text = _NEWLINES.sub("\n", text)
    return _INVISIBLE.sub("\ufffd", _INVALID.sub("\ufffd", text))


def printable(text: str) -> str:
    """`text` as one line for a terminal or a log: each control code (escape, newline), line
    break and invisible character shown as `?`."""
    shown = _SELECTORS.sub("?", _INVISIBLE.sub("?", text))
    return "".join(c if c.isprintable() else "?" for c in shown)


def said_in(message: str, text: str) -> bool:
    """Whether `message` is whole lines of `text`: an exercise's message (a module that does not
    import) already says what its tests failed with."""
    return bool(message) and f"\n{message}\n" in f"\n{text}\n"


def truncate(text: str, limit: int = OUTPUT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n... [{len(text) - limit} more characters not shown]"


def exercise_summary(ex: ExerciseResult) -> str:
    """e.g. "partially complete, 7.5 / 10"."""
    return f"{EXERCISE_STATUS_LABELS[ex.status]}, {score_text(ex.score, ex.max_score)}"


def failures(tests: list[TestResult]) -> list[list[TestResult]]:
    """Not-passed tests grouped by what they say (status and message), in order of first
    appearance: a module that does not import fails every test alike, said once."""
    groups: dict[tuple[str, str], list[TestResult]] = {}
    for test in tests:
        groups.setdefault((test.status, test.message), []).append(test)
    return list(groups.values())


def likely_mistakes(tests: list[TestResult]) -> list[str]:
    """The distinct likely mistakes of `tests`, in order: one exercise's failing tests mostly
    share one, which feedback then says once."""
    return list(dict.fromkeys(t.diagnosis for t in tests if t.diagnosis))


def failure_names(group: list[TestResult]) -> str:
    """e.g. "test_a" or "test_a, test_b (2 tests)"."""
    names = ", ".join(t.name for t in group)
    return names if len(group) == 1 else f"{names} ({len(group)} tests)"


def failure_summary(group: list[TestResult]) -> str:
    """e.g. "timed out, 0 / 2" for tests that failed alike."""
    score, max_score = (sum(t.score for t in group), sum(t.max_score for t in group))
    return f"{TEST_STATUS_LABELS[group[0].status]}, {score_text(score, max_score)}"


def student_tests(
    ex: ExerciseResult,
) -> tuple[list[TestResult], list[TestResult], list[TestResult]]:
    """(passed, not passed, hidden) as student feedback shows them.

    Tests whose visibility is "hidden" are never itemised to students, only counted.
    """
    shown = [t for t in ex.tests if t.visibility != "hidden"]
    hidden = [t for t in ex.tests if t.visibility == "hidden"]
    return (
        [t for t in shown if t.status == "passed"],
        [t for t in shown if t.status != "passed"],
        hidden,
    )


def hidden_summary(hidden: list[TestResult]) -> str:
    """e.g. "2 hidden tests: 1 / 3"."""
    score = sum(t.score for t in hidden)
    max_score = sum(t.max_score for t in hidden)
    plural = "test" if len(hidden) == 1 else "tests"
    return f"{len(hidden)} hidden {plural}: {score_text(score, max_score)}"


def notices(report: Report) -> list[tuple[str, tuple[str, ...]]]:
    """What a student's feedback shows above the scores: ("Grading errors", [...]) if there are
    any. Never the grader's warnings, which are about its sandbox, for whoever runs it (`grade`
    prints them on stderr; the JSON report and JUnit's system-err keep them)."""
    return [("Grading errors", report.errors)] if report.errors else []


# --- Markdown -------------------------------------------------------------------------------


def md_inline(text: str) -> str:
    """Text safe to put inline in Markdown: one line, markup characters backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(clean_text(text).split()))


def md_code_block(text: str) -> str:
    """A fenced block nothing in ``text`` can close: the fence is longer than any backtick run."""
    text = clean_text(text).removesuffix("\n")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def md_test_details(test: TestResult) -> str:
    """Why a test failed: its message in a block, then the likely mistake, if known."""
    parts = []
    if test.message:
        parts.append(md_code_block(test.message))
    if test.diagnosis:
        parts.append(f"**Likely mistake:** {md_inline(test.diagnosis)}")
    return "\n\n".join(parts)

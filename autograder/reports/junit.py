"""JUnit XML, for CI dashboards: one <testsuite> per exercise.

Exercises without tests (not submitted, unparsable...) get one synthetic testcase named
"(exercise)" so they are not shown as empty, green suites; grader-level errors and warnings
go into an extra suite named "autograder". The report has no per-test durations, so
testcase times are 0 and only the <testsuites> time is real.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from .common import TEST_STATUS_LABELS, clean_text, exercise_summary
from .model import ExerciseResult, Report, TestResult, round_score

SYNTHETIC_TEST = "(exercise)"
SUMMARY_CHARS = 200
_OUTCOMES = {"failures": "failure", "errors": "error", "skipped": "skipped"}  # count -> tag


def render(report: Report) -> str:
    # Named after the student, when known: a CI that merges a class's files tells them apart.
    name = f"attention-autograder: {report.student}" if report.student else "attention-autograder"
    root = _element("testsuites", name=name, time=f"{report.duration_s:.3f}")
    root.extend(_suite(ex) for ex in report.exercises.values())
    if report.errors or report.warnings:
        root.append(_grader_suite(report))
    for key in ("tests", *_OUTCOMES):
        root.set(key, str(sum(int(suite.get(key, "0")) for suite in root)))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _element(tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """An element whose attributes and text are all cleaned of XML-invalid characters."""
    element = ET.Element(tag, {k: clean_text(v) for k, v in attrs.items()})
    if text:
        element.text = clean_text(text)
    return element


def _add_properties(parent: ET.Element, **values: str | None) -> None:
    """A <properties> block with the non-empty values, if there are any."""
    items = [_element("property", name=k, value=v) for k, v in values.items() if v]
    if items:
        ET.SubElement(parent, "properties").extend(items)


def _testsuite(name: str, cases: list[ET.Element], **properties: str | None) -> ET.Element:
    suite = _element("testsuite", name=name, tests=str(len(cases)), time="0")
    for key, tag in _OUTCOMES.items():
        suite.set(key, str(sum(case.find(tag) is not None for case in cases)))
    _add_properties(suite, **properties)
    suite.extend(cases)
    return suite


def _suite(ex: ExerciseResult) -> ET.Element:
    cases = [_case(ex.id, test) for test in ex.tests]
    if not ex.tests and ex.status != "complete":
        cases.append(_synthetic_case(ex))
    suite = _testsuite(
        ex.id,
        cases,
        title=ex.title,
        status=ex.status,
        score=str(round_score(ex.score)),
        max_score=str(round_score(ex.max_score)),
        message=ex.message,
    )
    if ex.output:
        suite.append(_element("system-out", ex.output))
    return suite


def _case(classname: str, test: TestResult) -> ET.Element:
    case = _element("testcase", classname=classname, name=test.name, time="0")
    _add_properties(
        case,
        score=str(round_score(test.score)),
        max_score=str(round_score(test.max_score)),
        visibility=test.visibility,
        diagnosis=test.diagnosis,
    )
    if test.status != "passed":
        details = test.message
        if test.diagnosis:
            details += f"\nLikely mistake: {test.diagnosis}"
        tag = "failure" if test.status == "failed" else "error"
        summary = _summary(test.message) or TEST_STATUS_LABELS[test.status]
        case.append(_element(tag, details.strip(), message=summary, type=test.status))
    return case


def _summary(text: str) -> str:
    """A failure's `message` attribute: the first line of its text (which follows in full),
    cut to `SUMMARY_CHARS`."""
    line = text.split("\n", 1)[0]
    return line if len(line) <= SUMMARY_CHARS else line[: SUMMARY_CHARS - 1] + "…"


def _synthetic_case(ex: ExerciseResult) -> ET.Element:
    case = _element("testcase", classname=ex.id, name=SYNTHETIC_TEST, time="0")
    tag = {"error": "error", "not_attempted": "skipped", "not_submitted": "skipped"}
    message = _summary(ex.message) or exercise_summary(ex)
    case.append(
        _element(tag.get(ex.status, "failure"), ex.message, message=message, type=ex.status)
    )
    return case


def _grader_suite(report: Report) -> ET.Element:
    cases = []
    for i, error in enumerate(report.errors, start=1):
        case = _element("testcase", classname="autograder", name=f"grader error {i}", time="0")
        case.append(_element("error", error, message=_summary(error), type="grader"))
        cases.append(case)
    suite = _testsuite("autograder", cases)
    if report.warnings:
        suite.append(_element("system-err", "\n".join(report.warnings)))
    return suite

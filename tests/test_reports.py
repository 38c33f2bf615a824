"""The native report schema (autograder.reports.model) and its adapters."""

from __future__ import annotations

import copy
import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from autograder.reports import (
    FORMATS,
    SCHEMA,
    ExerciseResult,
    Report,
    ReportFormatError,
    TestResult,
    from_json,
    gradescope,
    html,
    junit,
    markdown,
    read_json,
    summarise,
    to_json,
    write_json,
)
from autograder.reports.common import clean_text, md_code_block, points, said_in, score_text

DIAGNOSIS = "softmax along the wrong dimension"
HIDDEN_NAME = "test_secret_gradient_check"
CONTROL_CHARS = "\x00\x07\x08\x0b\x0c\x1b\x7f\ud800\ufffe"
STUDENT_OUTPUT = (
    "Computing attention…\n"
    'weights: tensor([[0.5000, 0.5000]])\n</script><script>alert("pwned")</script>\n'
    "```\n# Out of the block?\n````\n"
    "bell\x07 nul\x00 \x1b[31mred\x1b[0m vt\x0b ff\x0c del\x7f lone\ud800 nonchar\ufffe\n"
    "naïve café — 注意力 😀\r\n"
    "progress 50%\rprogress 100%\n"
)


def make_report() -> Report:
    softmax = ExerciseResult(
        id="softmax",
        title="Softmax",
        score=4.0,
        max_score=4.0,
        status="complete",
        tests=(
            TestResult(name="test_rows_sum_to_one", score=1.0, max_score=1.0, status="passed"),
            TestResult(name="test_shape", score=1.0, max_score=1.0, status="passed"),
            TestResult(
                name="test_large_logits_stable",
                score=2.0,
                max_score=2.0,
                status="passed",
                visibility="after_published",
            ),
        ),
    )
    attention = ExerciseResult(
        id="attention",
        title="Scaled dot-product attention",
        score=3.0,
        max_score=8.0,
        status="partial",
        output=STUDENT_OUTPUT,
        tests=(
            TestResult(name="test_output_shape", score=2.0, max_score=2.0, status="passed"),
            TestResult(
                name="test_scaling",
                score=0.0,
                max_score=2.0,
                status="failed",
                message="scores are not divided by sqrt(d_k)\n  max abs difference: 3.2",
            ),
            TestResult(
                name="test_weights_match_reference",
                score=0.0,
                max_score=3.0,
                status="failed",
                message="attention weights do not sum to 1 over the keys",
                visibility="after_published",
                diagnosis=DIAGNOSIS,
            ),
            TestResult(
                name=HIDDEN_NAME, score=1.0, max_score=1.0, status="passed", visibility="hidden"
            ),
        ),
    )
    rnn = ExerciseResult(
        id="rnn_step",
        title="RNN step",
        score=0.0,
        max_score=4.0,
        status="not_attempted",
        message="rnn_step still raises NotImplementedError",
        tests=(
            TestResult(
                name="test_hidden_shape",
                score=0.0,
                max_score=2.0,
                status="error",
                message="NotImplementedError",
            ),
            TestResult(
                name="test_tanh_applied",
                score=0.0,
                max_score=2.0,
                status="error",
                message="NotImplementedError",
            ),
        ),
    )
    multihead = ExerciseResult(
        id="multihead",
        title="Multi-head attention",
        score=0.0,
        max_score=5.0,
        status="not_submitted",
        message="ex05_multihead.py is not in the submission",
    )
    masking = ExerciseResult(
        id="masking",
        title="Causal masking",
        score=1.0,
        max_score=4.0,
        status="error",
        message="ex06_masking.py: the worker was stopped after 10 s",
        output="starting\x1b[0m\n",
        tests=(
            TestResult(name="test_mask_shape", score=1.0, max_score=1.0, status="passed"),
            TestResult(
                name="test_future_is_masked",
                score=0.0,
                max_score=2.0,
                status="timeout",
                message="timed out after 10 s",
                diagnosis="an infinite loop over the sequence",
            ),
            TestResult(
                name="test_mask_dtype",
                score=0.0,
                max_score=1.0,
                status="error",
                message="RuntimeError: expected bool mask",
            ),
        ),
    )
    exercises = [softmax, attention, rnn, multihead, masking]
    return Report(
        score=8.0,
        max_score=25.0,
        gradable=True,
        warnings=("Landlock unavailable: workers can read the whole filesystem",),
        submission="submissions/ada_lovelace.zip",
        student="Ada Lovelace",
        duration_s=12.345,
        exercises={ex.id: ex for ex in exercises},
    )


@pytest.fixture
def report() -> Report:
    return make_report()


@pytest.fixture
def data(report: Report) -> dict[str, Any]:
    return json.loads(to_json(report))


# --- model and JSON ------------------------------------------------------------------------------


def test_json_round_trip(report: Report, tmp_path: Path) -> None:
    assert from_json(to_json(report)) == report
    path = tmp_path / "report.json"
    write_json(report, path)
    loaded = read_json(path)
    assert loaded == report
    assert list(loaded.exercises) == ["softmax", "attention", "rnn_step", "multihead", "masking"]
    assert loaded.exercises["attention"].output == STUDENT_OUTPUT  # lone surrogate included
    assert to_json(loaded) == to_json(report)


def test_json_shape(data: dict[str, Any]) -> None:
    assert list(data) == [
        "schema",
        "score",
        "max_score",
        "gradable",
        "errors",
        "warnings",
        "submission",
        "student",
        "duration_s",
        "exercises",
    ]
    assert data["schema"] == SCHEMA == "attention-autograder/report/1"
    assert data["errors"] == [] and data["student"] == "Ada Lovelace"
    exercise = data["exercises"]["attention"]
    assert list(exercise) == ["title", "score", "max_score", "status", "message", "output", "tests"]
    assert list(exercise["tests"][2]) == [
        "name",
        "score",
        "max_score",
        "status",
        "message",
        "visibility",
        "diagnosis",
    ]
    assert exercise["tests"][2]["diagnosis"] == DIAGNOSIS
    assert exercise["tests"][0]["diagnosis"] is None
    assert isinstance(data["score"], float) and isinstance(exercise["tests"][0]["score"], float)


def test_scores_are_rounded_and_thirds_stay_consistent() -> None:
    third = 1 / 3
    tests = [
        TestResult(name=f"t{i}", score=third, max_score=third, status="passed") for i in range(3)
    ]
    ex = ExerciseResult(id="e", title="E", score=1.0, max_score=1.0, status="complete", tests=tests)
    report = Report(score=1.0, max_score=1.0, gradable=True, exercises={"e": ex})
    data = json.loads(to_json(report))
    assert data["exercises"]["e"]["tests"][0]["score"] == 0.333333
    assert from_json(to_json(report)).exercises["e"].tests[0].score == 0.333333
    noisy = Report(score=0.1 + 0.2, max_score=1.0, gradable=True)
    assert "0.30000000000000004" not in json.dumps(noisy.to_dict())


def test_lists_become_tuples() -> None:
    ex = ExerciseResult(id="e", title="E", score=0, max_score=0, status="failed", tests=[])
    report = Report(score=0, max_score=0, gradable=False, errors=["x"], exercises={"e": ex})
    assert report.errors == ("x",) and ex.tests == ()


def _set(path: str, value: Any):
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target: Any = data
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        else:
            target[int(last) if isinstance(target, list) else last] = value

    return mutate


_DELETE = object()
_BAD_INPUTS = {
    "wrong test status": (
        _set("exercises/attention/tests/2/status", "ok"),
        "exercises.attention.tests[2].status: expected one of passed|failed|error|timeout, "
        "got 'ok'",
    ),
    "wrong exercise status": (
        _set("exercises/rnn_step/status", "skipped"),
        "exercises.rnn_step.status: expected one of complete|partial|failed|not_attempted|"
        "not_submitted|error, got 'skipped'",
    ),
    "wrong visibility": (
        _set("exercises/softmax/tests/0/visibility", "public"),
        "exercises.softmax.tests[0].visibility: expected one of",
    ),
    "missing exercise field": (
        _set("exercises/softmax/title", _DELETE),
        "exercises.softmax.title: missing required field",
    ),
    "missing test field": (
        _set("exercises/masking/tests/1/diagnosis", _DELETE),
        "exercises.masking.tests[1].diagnosis: missing required field",
    ),
    "missing top-level field": (_set("gradable", _DELETE), "gradable: missing required field"),
    "exercise score is not its tests' sum": (
        _set("exercises/softmax/score", 3.0),
        "exercises.softmax.score: 3 is not the sum of its tests' scores (4)",
    ),
    "report score is not the exercises' sum": (
        _set("score", 9.0),
        "score: 9 is not the sum of the exercise scores (8)",
    ),
    "max_score is not the exercises' sum": (
        _set("max_score", 30.0),
        "max_score: 30 is not the sum of the exercise max_scores (25)",
    ),
    "test score above its max": (
        _set("exercises/softmax/tests/0/score", 1.5),
        "exercises.softmax.tests[0].score: 1.5 is not between 0 and max_score 1",
    ),
    "negative duration": (_set("duration_s", -1), "duration_s: must not be negative"),
    "score is a string": (_set("score", "8"), "score: expected a finite number, got str '8'"),
    "score is a bool": (
        _set("exercises/softmax/tests/1/score", True),
        "exercises.softmax.tests[1].score: expected a finite number, got bool True",
    ),
    "gradable is an int": (_set("gradable", 1), "gradable: expected true or false, got int 1"),
    "tests is an object": (
        _set("exercises/softmax/tests", {}),
        "exercises.softmax.tests: expected an array, got dict {}",
    ),
    "error is not a string": (_set("warnings/0", 42), "warnings[0]: expected a string, got int 42"),
    "student is a number": (_set("student", 7), "student: expected a string, got int 7"),
    "exercises is a list": (_set("exercises", []), "exercises: expected an object, got list []"),
    "newer schema major": (
        _set("schema", "attention-autograder/report/2"),
        "schema: unsupported report format 'attention-autograder/report/2'",
    ),
    "foreign schema": (
        _set("schema", "other-tool/report/1"),
        "schema: unsupported report format 'other-tool/report/1'",
    ),
    "missing schema": (_set("schema", _DELETE), "schema: missing required field"),
}


@pytest.mark.parametrize("mutate, message", _BAD_INPUTS.values(), ids=_BAD_INPUTS.keys())
def test_from_dict_names_the_bad_field(data: dict[str, Any], mutate, message: str) -> None:
    mutate(data)
    with pytest.raises(ReportFormatError) as info:
        Report.from_dict(data)
    assert str(info.value).startswith(message)
    assert isinstance(info.value, ValueError)


def test_schema_is_checked_before_anything_else(data: dict[str, Any]) -> None:
    data["schema"] = "attention-autograder/report/2.0"
    data["exercises"] = "a format this version cannot read"
    with pytest.raises(ReportFormatError, match=r"^schema: .*major version 1"):
        Report.from_dict(data)


def test_newer_minor_version_is_read(data: dict[str, Any], report: Report) -> None:
    data["schema"] = "attention-autograder/report/1.4"
    data["new_field_in_1_4"] = {"anything": True}
    data["exercises"]["softmax"]["tests"][0]["duration_s"] = 0.1
    loaded = Report.from_dict(data)
    assert loaded.schema == "attention-autograder/report/1.4"
    assert loaded.exercises == report.exercises


@pytest.mark.parametrize(
    "text, message",
    [
        ("[1, 2]", "(root): expected an object, got list"),
        ('{"schema": ', "(root): invalid JSON"),
        (b"\xff\xfe{}", "(root): invalid JSON"),
    ],
)
def test_from_json_rejects_non_reports(text: str | bytes, message: str) -> None:
    with pytest.raises(ReportFormatError) as info:
        from_json(text)
    assert str(info.value).startswith(message)


def test_from_json_rejects_nan(data: dict[str, Any]) -> None:
    text = json.dumps(data).replace('"duration_s": 12.345', '"duration_s": NaN')
    assert "NaN" in text
    with pytest.raises(ReportFormatError, match="NaN is not a valid number"):
        from_json(text)


def test_validate_in_code_objects(report: Report) -> None:
    report.validate()
    ex = report.exercises["softmax"]
    mislabelled = Report(**{**vars(report), "exercises": {**report.exercises, "other": ex}})
    with pytest.raises(ReportFormatError, match=r"^exercises\.other: key does not match"):
        mislabelled.validate()
    bad = TestResult(name="t", score=1, max_score=1, status="ok")  # type: ignore[arg-type]
    broken = ExerciseResult(id="x", title="X", score=1, max_score=1, status="complete", tests=[bad])
    with pytest.raises(ReportFormatError, match=r"^exercises\.x\.tests\[0\]\.status"):
        to_json(Report(score=1, max_score=1, gradable=True, exercises={"x": broken}))


def test_summarise(report: Report) -> None:
    assert summarise(report.exercises["attention"].tests) == (3.0, 8.0)
    assert summarise(report.exercises.values()) == (8.0, 25.0)


# --- atomic writes -------------------------------------------------------------------------------


def test_write_json_replaces_the_file(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old")
    path.chmod(0o640)
    write_json(report, path)
    assert read_json(path) == report
    assert os.listdir(tmp_path) == ["report.json"]
    assert path.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_write_json_failure_leaves_target_untouched(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "report.json"
    path.write_text("previous report")

    def boom(*args: Any) -> None:
        raise OSError(f"simulated {failing} failure")

    monkeypatch.setattr(os, failing, boom)
    with pytest.raises(OSError, match="simulated"):
        write_json(report, path)
    monkeypatch.undo()
    assert path.read_text() == "previous report"
    assert os.listdir(tmp_path) == ["report.json"]


def test_write_json_refuses_an_invalid_report(report: Report, tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("previous report")
    inconsistent = Report(**{**vars(report), "score": 3.0})
    with pytest.raises(ReportFormatError, match=r"^score: 3 is not the sum"):
        write_json(inconsistent, path)
    assert path.read_text() == "previous report"
    assert os.listdir(tmp_path) == ["report.json"]


# --- shared formatting ---------------------------------------------------------------------------


def test_shared_formatting() -> None:
    assert score_text(7.5, 10) == "7.5 / 10"
    assert points(1 / 3) == "0.33" and points(-0.0) == "0" and points(2.0) == "2"
    cleaned = clean_text("a" + CONTROL_CHARS + "\tb\r\nc\rd é 😀")
    assert cleaned == "a" + "\ufffd" * len(CONTROL_CHARS) + "\tb\nc\nd é 😀"
    assert clean_text("\x1b[1;31mred\x1b[0m") == "red"
    assert clean_text("a\u2028b\u2029c") == "a\nb\nc"  # line breaks in Unicode's own spelling


# --- Gradescope ----------------------------------------------------------------------------------


def test_gradescope_results(report: Report) -> None:
    results = json.loads(gradescope.render(report))
    assert results == gradescope.to_gradescope(report)
    assert results["score"] == 8.0
    assert results["execution_time"] == 12
    assert results["output_format"] == "md" and results["test_output_format"] == "md"
    assert results["visibility"] == "visible" and results["stdout_visibility"] == "hidden"
    assert results["extra_data"]["student"] == "Ada Lovelace"
    assert results["extra_data"]["exercises"]["multihead"]["status"] == "not_submitted"
    # The grader's warnings are about its sandbox, for staff: students see none of them.
    assert results["extra_data"]["grader_warnings"] == list(report.warnings) != []
    assert "Landlock" not in json.dumps({k: v for k, v in results.items() if k != "extra_data"})

    tests = results["tests"]
    # 3 + 4 + 2 + 3 real tests, plus one entry for the test-less multihead exercise.
    assert len(tests) == 13
    for test in tests:
        assert set(test) == {
            "number",
            "name",
            "name_format",
            "score",
            "max_score",
            "status",
            "output",
            "output_format",
            "visibility",
            "tags",
        }
        assert test["status"] in {"passed", "failed"}
        assert test["visibility"] in {"visible", "hidden", "after_due_date", "after_published"}
        assert test["output_format"] == "md" and test["name_format"] == "text"
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert 0 <= test["score"] <= test["max_score"]
    assert sum(t["score"] for t in tests) == results["score"]
    assert sum(t["max_score"] for t in tests) == report.max_score

    by_name = {t["name"]: t for t in tests}
    weights = by_name["Scaled dot-product attention: test_weights_match_reference"]
    assert weights["visibility"] == "after_published" and weights["status"] == "failed"
    assert f"**Likely mistake:** {DIAGNOSIS}" in weights["output"]
    assert "do not sum to 1" in weights["output"]
    assert weights["number"] == "2.3" and weights["tags"] == ["attention"]
    assert by_name[f"Scaled dot-product attention: {HIDDEN_NAME}"]["visibility"] == "hidden"
    assert by_name["Causal masking: test_future_is_masked"]["status"] == "failed"  # timeout
    assert by_name["Causal masking: test_mask_dtype"]["status"] == "failed"  # error
    assert by_name["Softmax: test_shape"] == {
        **by_name["Softmax: test_shape"],
        "status": "passed",
        "score": 1.0,
        "output": "",
    }
    multihead = by_name["Multi-head attention"]
    assert (multihead["score"], multihead["max_score"], multihead["status"]) == (0.0, 5.0, "failed")
    assert "ex05_multihead.py is not in the submission" in multihead["output"]

    output = results["output"]
    assert "**Total: 8 / 25**" in output
    assert "Landlock" not in output  # the grader's warnings are for staff (extra_data)
    assert "**Exercises**\n\n- Softmax: complete, 4 / 4\n" in output
    assert "- Scaled dot-product attention: partially complete, 3 / 8" in output
    assert "- RNN step: not attempted, 0 / 4" in output
    assert "注意力" in output and "&lt;" not in output
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", json.dumps(results, ensure_ascii=False))
    assert HIDDEN_NAME not in output


def test_gradescope_caps_captured_output(report: Report) -> None:
    huge = Report(
        **{
            **vars(report),
            "exercises": {
                **report.exercises,
                "softmax": ExerciseResult(
                    **{**vars(report.exercises["softmax"]), "output": "x" * 100_000}
                ),
            },
        }
    )
    output = gradescope.to_gradescope(huge)["output"]
    assert "x" * 5_000 in output and "x" * 5_001 not in output
    assert "95000 more characters not shown" in output


# --- JUnit ---------------------------------------------------------------------------------------


def test_junit_xml(report: Report) -> None:
    text = junit.render(report)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == "testsuites"
    assert root.get("name") == f"attention-autograder: {report.student}"
    suites = {suite.get("name"): suite for suite in root.findall("testsuite")}
    assert list(suites) == [
        "softmax",
        "attention",
        "rnn_step",
        "multihead",
        "masking",
        "autograder",
    ]

    def counts(name: str) -> tuple[int, ...]:
        suite = suites[name]
        declared = tuple(int(suite.get(k)) for k in ("tests", "failures", "errors", "skipped"))
        cases = suite.findall("testcase")
        actual = (
            len(cases),
            sum(c.find("failure") is not None for c in cases),
            sum(c.find("error") is not None for c in cases),
            sum(c.find("skipped") is not None for c in cases),
        )
        assert declared == actual
        return declared

    assert counts("softmax") == (3, 0, 0, 0)
    assert counts("attention") == (4, 2, 0, 0)
    assert counts("rnn_step") == (2, 0, 2, 0)
    assert counts("multihead") == (1, 0, 0, 1)  # synthetic "(exercise)" case, skipped
    assert counts("masking") == (3, 0, 2, 0)  # timeout and error are both <error>
    assert counts("autograder") == (0, 0, 0, 0)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("13", "2", "4")
    assert root.get("skipped") == "1" and root.get("time") == "12.345"

    attention = suites["attention"]
    props = {p.get("name"): p.get("value") for p in attention.find("properties")}
    assert props == {
        "title": "Scaled dot-product attention",
        "status": "partial",
        "score": "3.0",
        "max_score": "8.0",
    }
    case = attention.find("testcase[@name='test_weights_match_reference']")
    assert case.get("classname") == "attention"
    failure = case.find("failure")
    assert failure.get("message") == "attention weights do not sum to 1 over the keys"
    assert failure.text.endswith(f"Likely mistake: {DIAGNOSIS}")
    timeout = suites["masking"].find("testcase[@name='test_future_is_masked']/error")
    assert timeout.get("type") == "timeout" and timeout.get("message") == "timed out after 10 s"

    system_out = attention.find("system-out").text
    assert '</script><script>alert("pwned")</script>' in system_out
    assert "注意力 😀" in system_out and "```" in system_out
    assert not any(c in text for c in CONTROL_CHARS)
    assert "\r" not in text
    assert suites["autograder"].find("system-err").text.startswith("Landlock unavailable")


def test_junit_grader_errors_become_error_cases() -> None:
    report = Report(
        score=0,
        max_score=0,
        gradable=False,
        errors=("submission.zip is not a zip file\x00", "missing module: torch"),
    )
    root = ET.fromstring(junit.render(report))
    suite = root.find("testsuite[@name='autograder']")
    assert (suite.get("tests"), suite.get("errors")) == ("2", "2")
    messages = [e.get("message") for e in suite.iter("error")]
    assert messages == ["submission.zip is not a zip file\ufffd", "missing module: torch"]
    assert suite.find("system-err") is None


def test_junit_message_attributes_are_short_and_the_text_whole() -> None:
    long = "x" * 5000
    report = Report(score=0, max_score=0, gradable=False, errors=(long,))
    (error,) = ET.fromstring(junit.render(report)).iter("error")
    assert error.get("message") == "x" * (junit.SUMMARY_CHARS - 1) + "…"
    assert error.text == long


# --- Markdown ------------------------------------------------------------------------------------


def test_markdown_feedback(report: Report) -> None:
    text = markdown.render(report)
    assert text.startswith("# Feedback: submissions/ada\\_lovelace.zip\n")
    assert "**Total score: 8 / 25**" in text
    assert "Landlock" not in text  # the grader's warnings are for whoever runs it
    assert "## Scaled dot-product attention: partially complete, 3 / 8" in text
    assert "## RNN step: not attempted, 0 / 4" in text
    assert "## Multi-head attention: not submitted, 0 / 5" in text
    assert "## Causal masking: could not be graded, 1 / 4" in text
    assert "- ✓ test\\_output\\_shape (2 / 2)" in text
    assert "- ✗ **test\\_weights\\_match\\_reference**: failed, 0 / 3" in text
    assert f"**Likely mistake:** {DIAGNOSIS}" in text
    assert "- ✗ **test\\_future\\_is\\_masked**: timed out, 0 / 2" in text
    assert "scores are not divided by sqrt(d_k)\n  max abs difference: 3.2" in text
    # "hidden" tests are counted, never named or explained.
    assert HIDDEN_NAME.replace("_", "\\_") not in text and HIDDEN_NAME not in text
    assert "1 hidden test: 1 / 1" in text
    assert not any(c in text for c in CONTROL_CHARS)


def _fenced_blocks(text: str) -> list[str]:
    """Contents of the fenced code blocks in ``text``, per the CommonMark fence rules."""
    blocks, fence, current = [], None, []
    for line in text.split("\n"):
        if fence is None:
            match = re.fullmatch(r"(`{3,})[^`]*", line)
            if match:
                fence, current = match.group(1), []
        elif re.fullmatch(rf"{fence}`*\s*", line):
            blocks.append("\n".join(current))
            fence = None
        else:
            current.append(line)
    assert fence is None, "unclosed fence"
    return blocks


def test_markdown_fence_cannot_be_broken(report: Report) -> None:
    text = markdown.render(report)
    expected = clean_text(STUDENT_OUTPUT).removesuffix("\n")
    assert expected in _fenced_blocks(text)
    assert "````text\n" + expected.split("\n")[0] in text  # longer than the ```` inside

    evil = "````````\n# not a heading\n<script>x</script>"
    assert _fenced_blocks(md_code_block(evil)) == [evil]
    assert md_code_block(evil).startswith("`````````text\n")


def test_markdown_fence_with_a_real_parser(report: Report) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("commonmark").parse(markdown.render(report))
    fences = [t.content for t in tokens if t.type == "fence"]
    assert clean_text(STUDENT_OUTPUT) in fences
    assert not [t for t in tokens if t.type == "html_block"]
    inline_html = [c for t in tokens if t.children for c in t.children if c.type == "html_inline"]
    assert not inline_html
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert "Out of the block?" not in headings
    assert len(headings) == 1 + 5  # title, one per exercise


# --- HTML ----------------------------------------------------------------------------------------


class _TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(attrs)


def test_html_page_escapes_everything(report: Report) -> None:
    page = html.render(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "&lt;/script&gt;&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in page
    assert "注意力 😀" in page
    assert not any(c in page for c in CONTROL_CHARS)

    parser = _TagCollector()
    parser.feed(page)
    assert set(parser.tags) <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "strong",
        "section", "span", "ul", "li", "pre",
    }  # fmt: skip
    assert not {name for name, _ in parser.attributes} & {"src", "href", "onload", "onerror"}
    assert f"<strong>Likely mistake:</strong> {DIAGNOSIS}" in page
    assert HIDDEN_NAME not in page and "1 hidden test: 1 / 1" in page
    assert "Landlock" not in page  # the grader's warnings are for whoever runs it
    assert "Scaled dot-product attention: " in page
    assert '<span class="not_submitted">not submitted, 0 / 5</span>' in page


def test_html_escapes_report_fields() -> None:
    ex = ExerciseResult(
        id="x",
        title="<img src=x onerror=alert(1)>",
        score=0,
        max_score=1,
        status="failed",
        tests=[
            TestResult(
                name='"><script>',
                score=0,
                max_score=1,
                status="failed",
                message="<b>bold</b>",
                diagnosis="<i>",
            )
        ],
    )
    report = Report(
        score=0,
        max_score=1,
        gradable=False,
        errors=("<iframe>",),
        submission="<title>",
        exercises={"x": ex},
    )
    page = html.render(report)
    parser = _TagCollector()
    parser.feed(page)
    assert not {"img", "script", "b", "i", "iframe"} & set(parser.tags)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "&quot;&gt;&lt;script&gt;" in page
    assert "This submission could not be graded." in page


# --- registry ------------------------------------------------------------------------------------


def test_formats_registry(report: Report) -> None:
    assert set(FORMATS) == {"json", "gradescope", "junit", "markdown", "html"}
    before = copy.deepcopy(report)
    for name, render in FORMATS.items():
        first = render(report)
        assert isinstance(first, str) and first.endswith("\n"), name
        assert render(report) == first, name  # pure: same input, same text
    assert report == before
    assert from_json(FORMATS["json"](report)) == report


def test_tests_that_fail_alike_are_said_once_in_student_feedback() -> None:
    # A module that does not import fails every test with the same message.
    broken = "ex04_context_vectors.py does not parse (line 3, column 1): invalid syntax"
    tests = (
        TestResult(name="test_a", score=0.0, max_score=1.0, status="failed", message=broken),
        TestResult(name="test_b", score=0.0, max_score=2.0, status="timeout", message="slow"),
        TestResult(name="test_c", score=0.0, max_score=1.0, status="failed", message=broken),
    )
    exercise = ExerciseResult(
        id="context", title="Context", score=0.0, max_score=4.0, status="failed", tests=tests
    )
    report = Report(score=0.0, max_score=4.0, gradable=True, exercises={"context": exercise})
    text = markdown.render(report)
    assert "- ✗ **test\\_a, test\\_c (2 tests)**: failed, 0 / 2" in text
    assert "- ✗ **test\\_b**: timed out, 0 / 2" in text
    assert text.count(md_code_block(broken)) == 1
    assert text.index("test\\_a, test\\_c") < text.index("test\\_b")  # by first appearance
    page = html.render(report)
    assert "<strong>test_a, test_c (2 tests)</strong>: failed, 0 / 2" in page
    assert page.count(broken) == 1


def test_an_exercises_likely_mistake_is_said_once_in_feedback() -> None:
    tests = [
        TestResult(name=f"test_{i}", score=0, max_score=1, status="failed", message=f"wrong {i}")
        for i in range(3)
    ]
    tests = [replace(t, diagnosis=DIAGNOSIS) for t in tests]
    ex = ExerciseResult(id="x", title="X", score=0, max_score=3, status="failed", tests=tests)
    report = Report(score=0, max_score=3, gradable=True, exercises={"x": ex})
    text, page = markdown.render(report), html.render(report)
    assert text.count(DIAGNOSIS) == page.count(DIAGNOSIS) == 1
    assert all(f"wrong {i}" in text and f"wrong {i}" in page for i in range(3))


def test_a_message_is_said_in_an_exercise_message_only_as_whole_lines():
    assert said_in("importing m.py raised X", "cell 2 raised Y\nimporting m.py raised X")
    assert not said_in("raised X", "importing m.py raised X")  # a part of a line is not it
    assert not said_in("", "anything")

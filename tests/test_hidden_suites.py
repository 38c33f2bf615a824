"""The hidden suites grade what they should, through the real sandboxed grader: the reference
passes every hidden test, the stubs are "not attempted" everywhere, and every wrong submission
in tests/mistakes/ loses points on its own exercise only. Messages never give away a hidden
test's expected values."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from autograder.course import examples
from autograder.grading.grader import Grader
from autograder.mistakes import get
from autograder.reports.model import Report
from tests.test_mistakes import CORPUS

ROOT = Path(__file__).resolve().parents[1]
MISTAKES_DIR = ROOT / "tests" / "mistakes"
MISTAKES = sorted(MISTAKES_DIR.glob("*/*.py"))


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


def printed_values() -> set[str]:
    """Every number the course documents print, as printed (four decimals, no sign)."""

    def numbers(value):
        if isinstance(value, tuple):
            for item in value:
                yield from numbers(item)
        elif isinstance(value, float):
            yield value

    return {
        f"{abs(x):.4f}" for name, v in vars(examples).items() if name.isupper() for x in numbers(v)
    }


def leaks(message: str) -> list[str]:
    """What a failure message gives away that it must not: tensor reprs, documented values."""
    found = ["tensor("] if "tensor(" in message else []
    return found + sorted(
        v for v in printed_values() if re.search(rf"(?<!\d){re.escape(v)}", message)
    )


def not_passed(report: Report, exercises: list[str] | None = None) -> list[str]:
    return [
        f"{exercise}::{test.name} {test.status}: {test.message}"
        for exercise, result in report.exercises.items()
        if exercises is None or exercise in exercises
        for test in result.tests
        if test.status != "passed"
    ]


@pytest.fixture(scope="module")
def reference_report(course, grader):
    return grader.grade(course.solutions_dir)


def test_every_exercise_has_a_hidden_suite_of_8_to_15_tests(reference_report):
    counts = {
        exercise: len(result.tests) for exercise, result in reference_report.exercises.items()
    }
    assert all(8 <= n <= 15 for n in counts.values()), counts


def test_the_reference_passes_every_hidden_test(reference_report, course):
    assert not_passed(reference_report) == []
    assert reference_report.score == pytest.approx(course.max_score)


def test_stubs_are_not_attempted_in_every_hidden_test(course, grader):
    report = grader.grade(course.exercises_dir)
    assert {r.status for r in report.exercises.values()} == {"not_attempted"}
    wrong = [
        f"{exercise}::{test.name}"
        for exercise, result in report.exercises.items()
        for test in result.tests
        if not (test.status == "failed" and "not attempted" in test.message)
    ]
    assert wrong == []


def test_the_leak_check_finds_reprs_and_documented_values():
    assert leaks("expected tensor([0.1385, 0.2379])") == ["tensor(", "0.1385", "0.2379"]
    assert leaks("returned shape (2, 5), expected (2, 3): wrong values") == []


def test_the_corpus_readme_lists_every_mistake():
    readme = (MISTAKES_DIR / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^- `(\w+/\w+)\.py`: \S", readme, flags=re.M)
    assert sorted(listed) == [f"{path.parent.name}/{path.stem}" for path in MISTAKES]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_mistake_fails_its_own_exercise_and_nothing_else(course, grader, tmp_path, mistake):
    exercise = course.exercise(mistake.parent.name)
    submission = tmp_path / "submission"
    shutil.copytree(course.solutions_dir, submission, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(mistake, submission / exercise.filename)
    report = grader.grade(submission)
    own = report.exercises[exercise.id]
    others = [e.id for e in course.exercises if e.id != exercise.id]
    assert own.score < own.max_score, "no hidden test catches this mistake"
    assert not_passed(report, others) == []
    assert [t for t in own.tests if t.status not in ("passed", "failed")] == [], "a suite broke"
    for test in own.tests:
        assert "not attempted" not in test.message
        assert leaks(test.message) == [], test.message
        assert not re.search(r"\bargument \d", test.message), "an input named by its number"
    expected = CORPUS.get(f"{mistake.parent.name}/{mistake.stem}")
    if expected is not None:  # the catalogue knows this mistake: the feedback must name it
        diagnoses = {t.diagnosis for t in own.tests if t.status == "failed"}
        assert get(expected).diagnosis() in diagnoses, diagnoses


@pytest.mark.parametrize(
    ("mistake", "named"),
    [
        ("softmax/modifies_input", "scores was modified in place"),
        ("rnn_step/state_detached_between_steps", "the gradient with respect to xs: wrong values"),
    ],
)
def test_inputs_are_named_by_the_reference_parameters(course, grader, tmp_path, mistake, named):
    exercise = course.exercise(mistake.split("/")[0])
    submission = tmp_path / "submission"
    submission.mkdir()
    shutil.copy(MISTAKES_DIR / f"{mistake}.py", submission / exercise.filename)
    messages = [t.message for t in grader.grade(submission).exercises[exercise.id].tests]
    assert any(named in message for message in messages), messages


def test_a_table_of_nan_is_not_taken_for_order_aware_positions(course, grader, tmp_path):
    # NaN compares unequal to everything, so permuted outputs would never "only permute".
    exercise = course.exercise("positional_encoding")
    submission = tmp_path / "submission"
    submission.mkdir()
    reference = (course.solutions_dir / exercise.filename).read_text()
    nan = "\n\ndef sinusoidal_positions(n, d):\n    return torch.full((n, d), torch.nan)\n"
    (submission / exercise.filename).write_text(reference + nan)
    tests = {t.name: t for t in grader.grade(submission).exercises[exercise.id].tests}
    aware = tests["test_positions_make_self_attention_order_aware"]
    assert aware.status == "failed" and "contains NaN or infinity" in aware.message

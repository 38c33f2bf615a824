"""Scoring an exercise from its hidden tests' outcomes (autograder.grading.scoring)."""

from dataclasses import replace

from autograder.grading.scoring import exercise_result, status_from_tests
from autograder.grading.session import TestOutcome
from autograder.reports.model import TestResult, TestStatus


def _test(score: float, max_score: float, status: TestStatus = "passed") -> TestResult:
    return TestResult(name="t", score=score, max_score=max_score, status=status)


def test_status_from_tests():
    assert status_from_tests([_test(1, 1), _test(2, 2)]) == "complete"
    assert status_from_tests([_test(1, 1), _test(0, 2, "failed")]) == "partial"
    assert status_from_tests([_test(0, 1, "failed"), _test(0, 1, "error")]) == "failed"
    assert status_from_tests([]) == "failed"
    assert status_from_tests([_test(0.5, 1)]) == "partial"


def test_test_points_weigh_tests_within_an_exercise(course):
    exercise = replace(course.exercise("softmax"), points=12.0, test_points={"test_big": 2.0})
    outcomes = [
        TestOutcome("softmax", "test_big", "passed", ""),
        TestOutcome("softmax", "test_small[1]", "failed", "wrong values"),
        TestOutcome("softmax", "test_small[2]", "passed", ""),
    ]
    result = exercise_result(exercise, outcomes, submitted=True, output="")
    assert [t.max_score for t in result.tests] == [6.0, 3.0, 3.0]
    assert result.score == 9.0 and result.status == "partial"


def test_full_marks_are_exactly_the_exercise_points(course):
    exercise = replace(course.exercise("softmax"), points=15.0, test_points={})
    outcomes = [TestOutcome("softmax", f"test_{i}", "passed", "") for i in range(14)]
    # 14 shares of 15/14 add up to 14.999999999999998
    assert exercise_result(exercise, outcomes, submitted=True, output="").score == 15.0

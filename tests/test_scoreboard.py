"""The scoreboard of `pytest exercises`: points as students read them."""

from __future__ import annotations

import json

from autograder.student.scoreboard import ExerciseTally, points_text, render, to_json


def test_points_never_round_up_to_marks_not_earned():
    shown = [points_text(v) for v in (10, 7.5, 5 / 3, 99.996, 0.29, 175, 1234.5, 0)]
    assert shown == ["10", "7.5", "1.66", "99.99", "0.29", "175", "1234.5", "0"]


def test_the_board_shows_each_checked_exercise_in_course_order(course):
    softmax, dots = course.exercise("softmax"), course.exercise("dot_scores")
    tallies = {
        "softmax": ExerciseTally(softmax, passed=1, failed=2),
        "dot_scores": ExerciseTally(dots, passed=3),
    }
    text = render(course, tallies, markup=False)
    assert text.index(dots.title) < text.index(softmax.title)
    assert "failing" in text and "done" in text and "1/3" in text
    assert "Public checks: 15/25 points." in text  # 10 + 15 * 1/3
    board = json.loads(to_json(course, tallies))
    assert [row["id"] for row in board["exercises"]] == ["dot_scores", "softmax"]
    assert board["points"] == 15 and board["max_points"] == 25

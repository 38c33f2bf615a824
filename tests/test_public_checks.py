"""What a student sees from `pytest exercises`: the reference passes, stubs are "not attempted",
mistakes get explained, and a scoreboard ends the run."""

import json
import re
import shutil

import pytest

from tests.conftest import ROOT, run_public_tests


def _scoreboard(tmp_path, *args):
    path = tmp_path / "board.json"
    result = run_public_tests(f"--scoreboard-json={path}", *args)
    return result, json.loads(path.read_text())


def test_the_reference_passes_every_public_check(tmp_path, course):
    result, board = _scoreboard(tmp_path, "--exercises-dir", ROOT / "solutions")
    assert result.returncode == 0, result.stdout
    assert [row["status"] for row in board["exercises"]] == ["done"] * len(course.exercises)
    assert board["points"] == board["max_points"] == course.max_score
    assert "failed" not in result.stdout.splitlines()[-1]


def test_stubs_are_listed_as_not_attempted(tmp_path, course):
    result, board = _scoreboard(tmp_path)
    assert result.returncode == 1
    assert [row["status"] for row in board["exercises"]] == ["not attempted"] * len(
        course.exercises
    )
    assert all(row["passed"] == 0 and row["total"] >= 3 for row in board["exercises"])
    summary = result.stdout.splitlines()[-1]
    assert "not attempted" in summary and "passed" not in summary and "failed" not in summary
    assert "Traceback" not in result.stdout and "NotImplementedError" not in result.stdout
    assert "Hidden tests grade your submission" in result.stdout
    for title in ("A numerically stable softmax", "One step of a recurrent network"):
        assert title in result.stdout


@pytest.fixture
def submission(tmp_path):
    """A copy of the reference solutions to break one exercise at a time."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def _status(board, exercise_id):
    return next(row for row in board["exercises"] if row["id"] == exercise_id)


def test_a_mistake_is_explained_and_costs_only_its_exercise(tmp_path, submission):
    (submission / "ex03_softmax.py").write_text(
        "import torch\n\ndef softmax(scores, dim=-1):\n    e = torch.exp(scores)\n"
        "    return e / e.sum(dim=0, keepdim=True)\n"
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "failing"
    assert all(row["status"] == "done" for row in board["exercises"] if row["id"] != "softmax")
    assert "softmax([1000, 999, -1000]): the result contains NaN" in result.stdout
    assert "hint: exp(1000) overflows: subtract the largest score first" in result.stdout
    assert "expected: [0.13" in result.stdout  # the row test shows expected and actual values


def test_a_catalogued_mistake_is_named_before_submission(tmp_path, submission):
    shutil.copy(ROOT / "tests/mistakes/softmax/fixed_dim_0.py", submission / "ex03_softmax.py")
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "failing"
    assert "likely mistake" in result.stdout
    assert "softmax along dim 0, whatever `dim` says" in result.stdout


def test_forbidden_calls_fail_with_their_location(tmp_path, submission):
    (submission / "ex03_softmax.py").write_text(
        "import torch\n\ndef softmax(scores, dim=-1):\n    return torch.softmax(scores, dim)\n"
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "failing"
    assert "ex03_softmax.py:4:12: uses torch.softmax, which this exercise forbids" in result.stdout


def test_a_forbidden_call_is_not_explained_by_the_modules_likely_mistake(tmp_path, submission):
    (submission / "ex03_softmax.py").write_text(
        "import torch\n\ndef softmax(scores, dim=-1):\n    return torch.softmax(scores, 0)\n"
    )
    result, _ = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert "softmax along dim 0, whatever `dim` says" in result.stdout  # under other checks
    forbidden = result.stdout.split("test_no_forbidden_calls ___")[1].split("public checks")[0]
    assert "uses torch.softmax, which this exercise forbids" in forbidden
    assert "likely mistake" not in forbidden


def test_a_function_under_another_name_is_named_as_the_grader_names_it(tmp_path, submission):
    softmax = submission / "ex03_softmax.py"
    softmax.write_text(softmax.read_text().replace("def softmax(", "def soft_max("))
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "failing"
    assert (
        "ex03_softmax.py defines no function softmax (it defines soft_max: the tests call softmax)"
        in result.stdout
    )
    assert "has no attribute" not in result.stdout


def test_a_module_that_does_not_parse_is_reported_by_line(tmp_path, submission):
    (submission / "ex02_normalization.py").write_text(
        "def normalize(scores, dim=-1):\n    return (\n"
    )
    (submission / "ex05_rnn_step.py").unlink()
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "normalization")["status"] == "failing"
    assert "ex02_normalization.py does not parse" in result.stdout and "line 2" in result.stdout
    assert f"{submission} has no ex05_rnn_step.py" in result.stdout
    assert _status(board, "softmax")["status"] == "done"


def test_import_time_errors_are_reported(tmp_path, submission):
    (submission / "ex04_context_vectors.py").write_text("import torch\nx = 1 / 0\n")
    result, _ = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert (
        "importing ex04_context_vectors.py raised ZeroDivisionError: division by zero (line 2"
        in result.stdout
    )


def test_importing_another_exercises_module_fails_as_it_does_when_graded(tmp_path, submission):
    # ex03 is checked first, in the same process: ex04 still cannot import it.
    context = submission / "ex04_context_vectors.py"
    context.write_text("import torch\nfrom ex03_softmax import softmax\n" + context.read_text())
    lazy = submission / "ex05_rnn_step.py"
    lazy.write_text(
        lazy.read_text().replace("    ### BEGIN SOLUTION", "    import ex01_dot_scores\n", 1)
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "context_vectors")["status"] == "failing"
    assert (
        "ex04_context_vectors.py imports ex03_softmax (line 2), another exercise's module: each "
        "exercise is graded on its own, so copy what you need from ex03_softmax into "
        "ex04_context_vectors.py" in result.stdout
    )
    assert _status(board, "rnn_step")["status"] == "failing"  # imported when called
    assert (
        "raised ModuleNotFoundError: ex05_rnn_step.py imports ex01_dot_scores, another "
        "exercise's module" in result.stdout
    )
    assert all(
        row["status"] == "done"
        for row in board["exercises"]
        if row["id"] not in ("context_vectors", "rnn_step")
    )


def test_imports_through_a_package_or_of_the_course_package_fail_as_when_graded(
    tmp_path, submission
):
    context = submission / "ex04_context_vectors.py"
    context.write_text("from exercises.ex03_softmax import softmax\n" + context.read_text())
    softmax = submission / "ex03_softmax.py"
    softmax.write_text(
        "import torch\nfrom autograder.course import examples\n" + softmax.read_text()
    )
    guarded = submission / "ex02_normalization.py"  # never run when graded: no problem
    guarded.write_text(
        guarded.read_text()
        + 'if __name__ == "__main__":\n    from autograder.course import examples\n'
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "normalization")["status"] == "done"
    assert _status(board, "context_vectors")["status"] == "failing"
    assert "ex04_context_vectors.py imports ex03_softmax (line 1), another exercise's" in (
        result.stdout
    )
    assert _status(board, "softmax")["status"] == "failing"
    assert (
        "ex03_softmax.py imports autograder.course.examples (line 2), the course's own package, "
        "which is not there when your work is graded" in result.stdout
    )


def test_a_byte_order_mark_is_read_as_python_reads_it_and_other_encodings_named(
    tmp_path, submission
):
    softmax = submission / "ex03_softmax.py"
    softmax.write_bytes(b"\xef\xbb\xbf" + softmax.read_bytes())
    normalization = submission / "ex02_normalization.py"
    normalization.write_bytes(
        b"# -*- coding: latin-1 -*-\n# caf\xe9\n" + normalization.read_bytes()
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "done"
    assert _status(board, "normalization")["status"] == "failing"  # the grader refuses it
    assert "ex02_normalization.py: not UTF-8 text (byte 31); save it as UTF-8" in result.stdout
    assert "During handling" not in result.stdout


def test_the_checked_folders_conftest_is_never_loaded(tmp_path, submission):
    (submission / "conftest.py").write_text("raise SystemExit('the submission conftest ran')\n")
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert result.returncode == 0 and "conftest ran" not in result.stdout + result.stderr
    assert all(row["status"] == "done" for row in board["exercises"])


def test_a_missing_folder_or_a_file_is_a_usage_error(tmp_path):
    result = run_public_tests("--exercises-dir", tmp_path / "nowhere")
    assert result.returncode == 4
    assert "--exercises-dir" in result.stderr and "no such folder" in result.stderr
    (tmp_path / "work.zip").write_bytes(b"PK")
    result = run_public_tests("--exercises-dir", tmp_path / "work.zip")
    assert result.returncode == 4 and "work.zip: not a folder" in result.stderr


def test_pointing_pytest_at_a_module_or_a_missing_folder_says_what_to_run(tmp_path):
    result = run_public_tests("exercises/ex03_softmax.py")
    assert result.returncode == 4
    assert (
        "exercises/ex03_softmax.py is your code, not its checks: run pytest "
        "exercises/test_ex03_softmax.py" in result.stderr
    )
    result = run_public_tests("--scoreboard-json", tmp_path / "nowhere" / "board.json")
    assert result.returncode == 4 and "not a file in an existing folder" in result.stderr


def test_an_endless_loop_fails_its_checks_in_time_naming_the_calls_it_is_in(tmp_path, submission):
    dot = submission / "ex01_dot_scores.py"
    source = dot.read_text().replace("    ### BEGIN SOLUTION\n", "    spin()\n", 1)
    dot.write_text(f"{source}\n\ndef spin():\n    while True: pass\n")
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "dot_scores")["status"] == "failing"
    lines = source.splitlines()
    called = next(n for n, line in enumerate(lines, 1) if line == "    spin()")
    assert (
        "still running after 10 s, the exercise's time limit; stopped in spin (line "
        f"{len(lines) + 4}), called from dot (line {called}): is there a loop that never ends?"
    ) in result.stdout
    # the next checks of that exercise are not run: one wait is enough
    assert "not run: an earlier check of ex01_dot_scores.py ran out of time" in result.stdout
    assert all(row["status"] == "done" for row in board["exercises"] if row["id"] != "dot_scores")


def test_a_stubs_raise_left_above_the_code_is_named_not_taken_for_no_work(tmp_path, submission):
    softmax = submission / "ex03_softmax.py"
    softmax.write_text(
        softmax.read_text().replace(
            "    ### BEGIN SOLUTION\n", "    raise NotImplementedError('Hint: ...')\n", 1
        )
    )
    result, board = _scoreboard(tmp_path, "--exercises-dir", submission)
    assert _status(board, "softmax")["status"] == "failing"
    assert re.search(
        r"softmax raises NotImplementedError at line \d+ of ex03_softmax.py: that is the stub's "
        "line; delete it so that your code runs",
        result.stdout,
    )

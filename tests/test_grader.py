"""`autograder grade`: every input kind, every bad input, and workers that misbehave."""

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.grading.grader import Grader
from autograder.grading.remote import MAX_NAME_CHARS, reported_calls
from autograder.grading.submission import load_submission, materialise, notebook_module
from autograder.mistakes import get
from autograder.reports import FORMATS
from autograder.sandbox.confine import Protections, not_searchable_by_others, probe
from autograder.sandbox.pool import SandboxError
from autograder.sandbox.spec import MAX_CALLS
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


@pytest.fixture
def submission(tmp_path):
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def test_the_reference_gets_full_marks(grader, course):
    report = grader.grade(ROOT / "solutions")
    failed = [
        (e, t.name, t.message)
        for e, r in report.exercises.items()
        for t in r.tests
        if t.status != "passed"
    ]
    assert failed == []
    assert report.score == pytest.approx(course.max_score)
    assert all(r.status == "complete" for r in report.exercises.values())
    assert all(
        t.visibility == "after_published" for r in report.exercises.values() for t in r.tests
    )


def test_the_stubs_get_zero_and_not_attempted(grader):
    report = grader.grade(ROOT / "exercises")
    assert report.score == 0 and report.gradable
    assert {r.status for r in report.exercises.values()} == {"not_attempted"}
    assert all("not attempted" in t.message for r in report.exercises.values() for t in r.tests)


def test_a_missing_module_is_not_submitted_and_costs_only_its_exercise(grader, submission, course):
    (submission / "ex05_rnn_step.py").unlink()
    report = grader.grade(submission)
    assert report.exercises["rnn_step"].status == "not_submitted"
    assert report.exercises["rnn_step"].score == 0
    assert report.score == pytest.approx(course.max_score - course.exercise("rnn_step").points)


def test_a_syntax_error_names_file_line_and_column(grader, submission):
    (submission / "ex02_normalization.py").write_text(
        "def normalize(scores, dim=-1):\n    return (scores\n"
    )
    report = grader.grade(submission)
    result = report.exercises["normalization"]
    assert result.score == 0 and result.status == "failed"
    message = result.tests[0].message
    assert "ex02_normalization.py does not parse (line 2, column" in message
    assert report.exercises["softmax"].status == "complete"


def test_a_missing_function_is_named(grader, submission):
    (submission / "ex04_context_vectors.py").write_text(
        "import torch\n\ndef context_vector(w, x):\n    return (w.unsqueeze(-1) * x).sum(-2)\n"
    )
    report = grader.grade(submission)
    result = report.exercises["context_vectors"]
    assert 0 < result.score < result.max_score
    assert any("defines no function simple_self_attention" in t.message for t in result.tests)
    (submission / "ex03_softmax.py").write_text(
        (ROOT / "solutions/ex03_softmax.py").read_text().replace("def softmax(", "def soft_max(")
    )
    messages = {t.message for t in grader.grade(submission).exercises["softmax"].tests}
    assert (
        "softmax raised AttributeError: ex03_softmax.py defines no function softmax (it "
        "defines soft_max: the tests call softmax)" in messages
    )


def test_a_signature_other_than_the_courses_is_named_where_calls_fail(grader, submission):
    (submission / "ex03_softmax.py").write_text(
        "import torch\n\ndef softmax(scores: torch.Tensor) -> torch.Tensor:\n"
        "    e = (scores - scores.amax(-1, keepdim=True)).exp()\n"
        "    return e / e.sum(-1, keepdim=True)\n"
    )
    tests = grader.grade(submission).exercises["softmax"].tests
    raised = [t for t in tests if "raised TypeError" in t.message]
    assert raised and all(
        t.diagnosis == "your softmax(scores) cannot be called as the course's "
        "softmax(scores, dim=-1)"
        for t in raised
    )
    assert all(t.diagnosis is None for t in tests if t not in raised)


def test_a_students_own_message_naming_a_type_error_gets_no_signature_diagnosis(grader, submission):
    (submission / "ex03_softmax.py").write_text(
        "def softmax(scores):\n    raise ValueError('softmax raised TypeError')\n"
    )
    tests = grader.grade(submission).exercises["softmax"].tests
    quoting = [t for t in tests if "softmax raised ValueError" in t.message]
    assert quoting and all(t.diagnosis is None for t in quoting)


def test_exit_crash_and_hang_fail_their_tests_and_grading_goes_on(grader, submission, course):
    (submission / "ex02_normalization.py").write_text(
        "import os, time\n\ndef normalize(scores, dim=-1):\n"
        "    if scores.shape == (7,):\n        os._exit(0)\n"
        "    if scores.shape == (3, 7):\n        time.sleep(60)\n"
        "    if scores.shape == (2, 3, 7):\n        raise SystemExit(0)\n"
        "    return scores / scores.sum(dim=dim, keepdim=True)\n"
    )
    report = grader.grade(submission)
    tests = {t.name: t for t in report.exercises["normalization"].tests}
    assert tests["test_batch_dims[shape0]"].status == "error"
    assert (
        "the worker exited with status 0 while calling normalize"
        in tests["test_batch_dims[shape0]"].message
    )
    assert tests["test_batch_dims[shape1]"].status == "timeout"
    limit = course.exercise("normalization").time_limit_s
    assert f"did not finish in time (limit {limit:g} s)" in tests["test_batch_dims[shape1]"].message
    assert tests["test_batch_dims[shape2]"].status == "failed"
    assert "normalize raised SystemExit" in tests["test_batch_dims[shape2]"].message
    assert tests["test_dim_argument[0]"].status == "passed", "a fresh worker replaces the dead one"
    assert report.exercises["softmax"].status == "complete"


def test_prints_are_captured_and_never_fail_a_test(grader, submission):
    source = (submission / "ex02_normalization.py").read_text()
    (submission / "ex02_normalization.py").write_text(
        "import sys, warnings\nprint('hello from import')\n"
        + source.replace(
            "    return scores /",
            "    print('x' * 100000); warnings.warn('careful')\n"
            "    sys.stderr.write('err\\n')\n    return scores /",
        )
    )
    report = grader.grade(submission)
    result = report.exercises["normalization"]
    assert result.status == "complete"
    assert "hello from import" in result.output and "[output truncated]" in result.output
    assert len(result.output) < 70_000


def test_a_notebook_is_graded_by_function_name(grader, tmp_path, course):
    cells = [{"cell_type": "markdown", "source": "# My work", "metadata": {}}]
    cells.append(
        {
            "cell_type": "code",
            "source": "%matplotlib inline\n!pip install nothing\nimport torch",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    )
    cells.append(
        {
            "cell_type": "code",
            "source": "def broken(:\n    pass",
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    )
    cells.append(
        {
            "cell_type": "code",
            "source": (ROOT / "solutions/ex03_softmax.py").read_text().split('"""', 2)[2],
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
    )
    notebook = tmp_path / "work.ipynb"
    notebook.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    report = grader.grade(notebook)
    assert report.exercises["softmax"].status == "complete"
    assert report.exercises["normalization"].score == 0
    assert any("code cell 2, line 1" in e and "cell skipped" in e for e in report.errors)


def test_a_single_module_file(grader, tmp_path):
    module = tmp_path / "ex03_softmax.py"
    shutil.copy(ROOT / "solutions/ex03_softmax.py", module)
    report = grader.grade(module)
    assert report.exercises["softmax"].status == "complete"
    assert report.exercises["dot_scores"].status == "not_submitted"


def test_bad_files_are_reported_and_the_rest_graded(grader, submission, tmp_path):
    outside = tmp_path / "secret.py"
    outside.write_text("x = 1\n")
    (submission / "ex01_dot_scores.py").unlink()
    (submission / "ex01_dot_scores.py").symlink_to(outside)
    (submission / "ex02_normalization.py").write_bytes(b"\xff\xfe def normalize")
    (submission / "ex04_context_vectors.py").write_text("#" * 2_000_000)
    before = sorted(p.name for p in submission.iterdir())
    report = grader.grade(submission)
    errors = "\n".join(report.errors)
    assert "ex01_dot_scores.py: a symlink pointing outside the submission, refused" in errors
    assert "ex02_normalization.py: not UTF-8 text" in errors
    assert "ex04_context_vectors.py: 2000000 bytes, over the" in errors
    assert report.exercises["softmax"].status == "complete"
    assert sorted(p.name for p in submission.iterdir()) == before, (
        "the submission is never written to"
    )


def test_a_module_saved_with_a_byte_order_mark_and_windows_line_ends_is_graded(grader, tmp_path):
    # Some Windows editors write both; Python runs such a file, so the grader reads it too.
    module = tmp_path / "ex03_softmax.py"
    source = (ROOT / "solutions/ex03_softmax.py").read_text().replace("\n", "\r\n")
    module.write_bytes(b"\xef\xbb\xbf" + source.encode())
    report = grader.grade(module)
    assert report.errors == ()
    assert report.exercises["softmax"].score == report.exercises["softmax"].max_score


def test_work_handed_in_inside_a_folder_is_found(grader, submission, tmp_path):
    # A zip of the folder rather than of its files, as macOS makes it.
    wrapped = tmp_path / "upload"
    (wrapped / "__MACOSX").mkdir(parents=True)
    shutil.move(submission, wrapped / "attention-course" / "exercises")
    report = grader.grade(wrapped)
    assert report.errors == () and report.score == report.max_score


def test_a_folder_around_the_work_is_not_followed_out_of_the_submission(
    grader, submission, tmp_path
):
    upload = tmp_path / "upload"
    upload.mkdir()
    (upload / "exercises").symlink_to(submission)
    report = grader.grade(upload)
    assert not report.gradable and report.score == 0


def test_a_copy_of_the_release_is_graded_from_its_modules_and_notebooks(grader, tmp_path):
    # A GitHub repository: the stubs of exercises/ and notebooks/, the work in either.
    repository = tmp_path / "repository"
    shutil.copytree(ROOT / "exercises", repository / "exercises")
    shutil.copytree(ROOT / "notebooks", repository / "notebooks")
    (repository / "README.md").write_text("# my work\n")
    shutil.copy(ROOT / "solutions/ex01_dot_scores.py", repository / "exercises")
    solution = (ROOT / "solutions/ex03_softmax.py").read_text()
    _notebook(repository / "notebooks/ex03_softmax.ipynb", solution)
    report = grader.grade(repository)
    assert report.errors == ()
    done = {i for i, e in report.exercises.items() if e.status == "complete"}
    assert done == {"dot_scores", "softmax"}
    assert all(e.status == "not_attempted" for i, e in report.exercises.items() if i not in done)


def test_a_stub_never_hides_work_for_the_same_exercise(grader, tmp_path):
    # A module file comes before a notebook, unless it is still the stub.
    folder = tmp_path / "work"
    folder.mkdir()
    shutil.copy(ROOT / "exercises/ex03_softmax.py", folder)
    _notebook(folder / "ex03_softmax.ipynb", (ROOT / "solutions/ex03_softmax.py").read_text())
    assert grader.grade(folder).exercises["softmax"].status == "complete"
    assert grader.grade(folder).exercises["softmax"].message == ""
    shutil.copy(ROOT / "tests/mistakes/softmax/fixed_dim_0.py", folder / "ex03_softmax.py")
    result = grader.grade(folder).exercises["softmax"]
    assert result.status != "complete"
    assert result.message == (  # the notebook's work is not lost without a word
        "ex03_softmax.ipynb has work for this exercise too, but ex03_softmax.py was graded (a "
        "module comes first, unless it is still the stub)"
    )


def test_a_stubs_raise_kept_above_new_code_is_named_not_taken_for_no_work(grader, tmp_path):
    solution = (ROOT / "solutions/ex03_softmax.py").read_text()
    kept = solution.replace("    ### BEGIN SOLUTION\n", "    raise NotImplementedError('x')\n", 1)
    line = kept.splitlines().index("    raise NotImplementedError('x')") + 1
    (tmp_path / "ex03_softmax.py").write_text(kept)
    result = grader.grade(tmp_path).exercises["softmax"]
    assert result.status != "not_attempted" and result.score < result.max_score
    failed = {t.message for t in result.tests if t.status == "failed"}
    assert (
        f"softmax raised NotImplementedError at line {line}: that is the stub's line; delete it "
        "so that your code runs" in failed
    )
    # A function with work that calls a course function still a stub: that one is not done.
    scores = (ROOT / "solutions/ex01_dot_scores.py").read_text()
    stub = (ROOT / "exercises/ex01_dot_scores.py").read_text()
    dot_stub = stub[stub.index("def dot(") : stub.index("def attention_scores(")]
    dot_work = scores[scores.index("def dot(") : scores.index("def attention_scores(")]
    (tmp_path / "ex01_dot_scores.py").write_text(scores.replace(dot_work, dot_stub))
    result = grader.grade(tmp_path).exercises["dot_scores"]
    assert not any("that is the stub's line" in t.message for t in result.tests)
    assert any("not attempted" in t.message for t in result.tests)


def test_folders_around_work_elsewhere_are_named(grader, submission, tmp_path):
    upload = tmp_path / "upload"
    shutil.move(submission, upload / "mine")
    (upload / "notes").mkdir()
    report = grader.grade(upload)
    assert not report.gradable
    assert report.errors[0].endswith(
        "; exercise files are in mine/: hand in the files, not a folder around them"
    )


def test_a_module_under_another_name_is_pointed_out_not_graded(grader, submission):
    # As a browser names a second download; the grader reads only the exercise's file name.
    (submission / "ex03_softmax.py").rename(submission / "ex03_softmax (1).py")
    (submission / "ex02_normalization.py").rename(submission / "Normalization.py")
    report = grader.grade(submission)
    softmax, normalization = report.exercises["softmax"], report.exercises["normalization"]
    assert softmax.status == normalization.status == "not_submitted"
    assert softmax.message == (
        "ex03_softmax.py was not submitted: ex03_softmax (1).py defines its functions, but the "
        "grader reads only ex03_softmax.py; rename it"
    )
    assert normalization.message.startswith("ex02_normalization.py was not submitted: Norma")
    assert report.exercises["dot_scores"].status == "complete"


def test_a_fifo_or_a_device_is_refused_without_blocking(grader, submission, tmp_path):
    os.mkfifo(submission / "ex05_rnn_step.py.fifo")
    (submission / "ex05_rnn_step.py").unlink()
    (submission / "ex05_rnn_step.py.fifo").rename(submission / "ex05_rnn_step.py")
    report = grader.grade(submission)
    assert "ex05_rnn_step.py: not a regular file; not graded" in report.errors
    assert report.exercises["rnn_step"].status == "not_submitted"
    assert report.exercises["softmax"].status == "complete"
    endless = tmp_path / "ex03_softmax.py"
    endless.symlink_to("/dev/zero")
    report = grader.grade(endless)
    assert report.errors == ("ex03_softmax.py: not a regular file; not graded",)


def test_a_folder_that_cannot_be_listed_is_reported_and_the_rest_graded(
    course, tmp_path, monkeypatch
):
    shutil.copytree(ROOT / "solutions", tmp_path / "exercises")
    refused = tmp_path / "notebooks"
    refused.mkdir()
    listing = Path.iterdir

    def iterdir(folder: Path):  # as a grader without root meets a folder of mode 000
        if folder == refused:
            raise PermissionError(13, "Permission denied", str(folder))
        return listing(folder)

    monkeypatch.setattr(Path, "iterdir", iterdir)
    submission = load_submission(tmp_path, course)
    assert submission.errors == [f"{refused}: cannot be read (Permission denied)"]
    assert set(submission.modules) == {e.module for e in course.exercises}


def test_input_nested_too_deeply_to_read_gets_a_message(grader, submission, tmp_path):
    deep_notebook = tmp_path / "deep.ipynb"
    deep_notebook.write_text("[" * 200_000 + "]" * 200_000)
    assert grader.grade(deep_notebook).errors == ("deep.ipynb: not a readable Jupyter notebook",)
    deep_module = tmp_path / "work.py"
    deep_module.write_text("x = 1" + " + 1" * 200_000 + "\n")
    assert grader.grade(deep_module).errors == (
        "work.py does not parse: the code is nested too deeply to be read",
    )
    softmax = submission / "ex03_softmax.py"
    softmax.write_text(softmax.read_text() + "\nx = 1" + " + 1" * 200_000 + "\n")
    tests = grader.grade(submission).exercises["softmax"].tests
    assert {(t.status, t.message) for t in tests} == {
        ("failed", "ex03_softmax.py does not parse: the code is nested too deeply to be read")
    }


def test_a_null_byte_in_a_module_is_named_without_a_made_up_line(grader, submission):
    (submission / "ex03_softmax.py").write_text("import torch\n# \x00\n")
    messages = {t.message for t in grader.grade(submission).exercises["softmax"].tests}
    assert messages == {
        "ex03_softmax.py does not parse: source code string cannot contain null bytes"
    }


def test_a_module_is_compiled_as_python_would_not_as_the_grader_is(grader, submission):
    # The worker's own `from __future__ import annotations` must not reach the student's module:
    # an annotation naming nothing fails its import, as in Python and the public checks.
    module = submission / "ex01_dot_scores.py"
    module.write_text(module.read_text().replace("-> Tensor:", "-> Tensr:", 1))
    result = grader.grade(submission).exercises["dot_scores"]
    assert result.score == 0 and "NameError" in result.message and "Tensr" in result.message


def test_an_empty_folder_and_a_missing_path(grader, tmp_path):
    report = grader.grade(tmp_path)
    assert not report.gradable and "no exercise module found" in report.errors[0]
    report = grader.grade(tmp_path / "nothing")
    assert not report.gradable and "no such file or folder" in report.errors[0]


def test_the_command_writes_every_format_and_exits_zero(tmp_path):
    outs = {
        f: tmp_path / f"report.{f}" for f in ("json", "gradescope", "junit", "markdown", "html")
    }
    command = [sys.executable, "-m", "autograder", "grade", str(ROOT / "exercises")]
    for name, path in outs.items():
        command += ["--format", name, "--out", str(path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    native = json.loads(outs["json"].read_text())
    assert native["score"] == 0 and native["exercises"]["softmax"]["status"] == "not_attempted"
    assert json.loads(outs["gradescope"].read_text())["score"] == 0
    assert "<testsuites" in outs["junit"].read_text()
    assert "not attempted" in outs["markdown"].read_text()
    assert "<html" in outs["html"].read_text()


def test_the_command_explains_bad_arguments(tmp_path):
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(tmp_path),
        "--format",
        "json",
        "--format",
        "html",
        "--out",
        "x",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "give one --out per --format" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_command_says_its_version():
    from importlib.metadata import version

    result = subprocess.run(
        [sys.executable, "-m", "autograder", "--version"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert result.stdout == f"autograder {version('attention-course')}\n"


def test_outputs_that_cannot_be_written_are_refused_before_grading(tmp_path):
    folder = tmp_path / "a folder"
    folder.mkdir()
    a_file = tmp_path / "a file"
    a_file.write_text("")
    autograder = [sys.executable, "-m", "autograder"]
    refused = {
        "--out {folder}: is a folder; give a file name": [
            "grade", str(ROOT / "exercises"), "--format", "json", "--out", str(folder)
        ],
        "--out {file}/x.json: {file} is not a folder": [
            "grade", str(ROOT / "exercises"), "--format", "json", "--out", f"{a_file}/x.json"
        ],
        "--reports {file}: is a file, not a folder": [
            "grade-all", str(tmp_path), "--db", str(tmp_path / "db"), "--reports", str(a_file)
        ],
        "OUT {folder}: is a folder; give a file name": ["bundle", "gradescope", str(folder)],
        "OUT {file}: is a file, not a folder": ["nbgrader", str(a_file)],
        "--csv {folder}: is a folder; give a file name": [
            "grade-all", str(tmp_path), "--db", str(tmp_path / "db"), "--reports",
            str(tmp_path / "reports"), "--csv", str(folder),
        ],
    }  # fmt: skip
    for message, arguments in refused.items():
        result = subprocess.run(
            [*autograder, *arguments], capture_output=True, text=True, timeout=120
        )
        expected = message.format(folder=folder, file=a_file)
        assert result.returncode == 2 and expected in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "db").exists(), "nothing was graded"


def test_no_worker_is_left_behind(grader, submission):
    grader.grade(submission)
    children = subprocess.run(
        ["ps", "-o", "pid=,ppid=,stat=", "--ppid", str(grader._server.pid)],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert children == [], f"workers still running or unreaped: {children}"


def test_grade_all_grades_a_class_and_resumes(tmp_path, course):
    root = tmp_path / "class"
    shutil.copytree(
        ROOT / "solutions", root / "alice", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copytree(ROOT / "exercises", root / "bob", ignore=shutil.ignore_patterns("__pycache__"))
    carol = root / "carol\x1b[31m"  # an escape code in a name never reaches the terminal
    carol.mkdir()
    (carol / "ex03_softmax.ipynb").write_text("")  # saved while empty
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade-all",
        str(root),
        "--db",
        str(tmp_path / "g.sqlite"),
        "--reports",
        str(tmp_path / "reports"),
        "--csv",
        str(tmp_path / "g.csv"),
        "--workers",
        "1",
    ]
    first = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "graded 3, already graded 0, failed 0" in first.stdout
    # Graded, but no grade at all: said to whoever runs the batch, not only in carol's report.
    assert (
        "could not grade carol?[31m (0 points): ex03_softmax.ipynb: not a readable Jupyter "
        "notebook" in first.stderr.splitlines()
    )
    assert "alice" not in first.stderr and "bob" not in first.stderr
    assert "\x1b" not in first.stdout + first.stderr
    total = f"{course.max_score:g}"
    assert (
        json.loads((tmp_path / "reports" / "alice.json").read_text())["score"] == course.max_score
    )
    rows = (tmp_path / "g.csv").read_text().splitlines()
    assert rows[1].startswith(f"alice,,{total},{total}") and rows[2].startswith(f"bob,,0,{total}")
    again = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert "graded 0, already graded 3, failed 0" in again.stdout
    assert "could not grade carol?[31m" in again.stderr


def test_a_batch_grading_process_forks_its_fork_server_before_loading_anything_hidden(
    tmp_path, course
):
    from autograder.batch import grade_all

    student = tmp_path / "class" / "alice"
    student.mkdir(parents=True)
    reference = (ROOT / "solutions" / "ex03_softmax.py").read_text()
    (student / "ex03_softmax.py").write_text(
        "import sys\n"
        "hidden = ('_reference_', 'autograder.suites', 'autograder.grading', 'autograder.mist')\n"
        "print('seen:', sorted(m for m in sys.modules if m.startswith(hidden)))\n" + reference
    )
    summary = grade_all(
        tmp_path / "class",
        course=course,
        db=tmp_path / "g.sqlite",
        reports_dir=tmp_path / "reports",
        workers=2,
        progress=False,
    )
    assert summary.graded == 1
    report = json.loads((tmp_path / "reports" / "alice.json").read_text())
    softmax = report["exercises"]["softmax"]
    assert softmax["score"] == softmax["max_score"]
    assert softmax["output"].strip() == "seen: []"


def test_malformed_frames_and_wrong_types_fail_only_their_test(grader, submission):
    (submission / "ex02_normalization.py").write_text(
        "import os\nimport numpy\n\ndef normalize(scores, dim=-1):\n"
        "    if scores.shape == (7,):\n        os.write(3, b'\\xff' * 64)  # a forged frame\n"
        "        import time; time.sleep(5)\n"
        "    if scores.shape == (3, 7):\n        return numpy.ones(3)\n"
        "    return scores / scores.sum(dim=dim, keepdim=True)\n"
    )
    report = grader.grade(submission)
    tests = {t.name: t for t in report.exercises["normalization"].tests}
    assert tests["test_batch_dims[shape0]"].status == "error"
    assert "unreadable answer" in tests["test_batch_dims[shape0]"].message
    assert tests["test_batch_dims[shape1]"].status == "failed"
    assert (
        "returned numpy.ndarray, expected a torch.Tensor"
        in tests["test_batch_dims[shape1]"].message
    )
    assert tests["test_batch_dims[shape2]"].status == "passed"


def test_a_wrong_signature_is_explained(grader, submission):
    (submission / "ex03_softmax.py").write_text(
        "import torch\n\ndef softmax(scores):\n"
        "    return torch.exp(scores) / torch.exp(scores).sum(-1, keepdim=True)\n"
    )
    report = grader.grade(submission)
    messages = [t.message for t in report.exercises["softmax"].tests if t.status == "failed"]
    assert any("softmax raised TypeError" in m and "dim" in m for m in messages), messages


def test_a_submissions_config_files_are_never_run(grader, submission, tmp_path):
    marker = tmp_path / "ran"
    payload = f"open({str(marker)!r}, 'w').write('x')\n"
    (submission / "conftest.py").write_text(payload)
    (submission / "sitecustomize.py").write_text(payload)
    (submission / "usercustomize.py").write_text(payload)
    (submission / "evil.pth").write_text(f"import os; {payload}")
    (submission / "pyproject.toml").write_text("[tool.pytest.ini_options]\naddopts = '-p evil'\n")
    report = grader.grade(submission)
    assert not marker.exists()
    assert all(r.status == "complete" for r in report.exercises.values())


def test_an_nbgrader_assignment_folder_with_a_notebook(grader, tmp_path):
    source = (ROOT / "solutions/ex02_normalization.py").read_text()
    cell = {
        "cell_type": "code",
        "source": source,
        "metadata": {},
        "outputs": [],
        "execution_count": 1,
    }
    folder = tmp_path / "submitted" / "alice" / "attention"
    folder.mkdir(parents=True)
    (folder / "attention.ipynb").write_text(
        json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    (folder / "timestamp.txt").write_text("2026-11-22 10:00:00")
    report = grader.grade(folder)
    assert report.exercises["normalization"].status == "complete"
    assert report.exercises["softmax"].status == "not_submitted"  # the notebook lacks it


def _notebook(path, *sources):
    cells = [
        {"cell_type": "code", "source": s, "metadata": {}, "outputs": [], "execution_count": 1}
        for s in sources
    ]
    path.write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5})
    )
    return path


def test_a_notebook_named_after_an_exercise_serves_that_exercise_alone(grader, tmp_path):
    # nbgrader's notebooks hold one exercise each: the others are not submitted, not failed.
    softmax = (ROOT / "solutions/ex03_softmax.py").read_text()
    report = grader.grade(_notebook(tmp_path / "ex03_softmax.ipynb", softmax))
    statuses = {id: result.status for id, result in report.exercises.items()}
    assert statuses.pop("softmax") == "complete"
    assert set(statuses.values()) == {"not_submitted"}


def test_a_notebook_runs_cell_by_cell_and_a_cell_that_raises_costs_only_what_it_skipped(
    grader, tmp_path
):
    # As nbgrader's autograde does: a plot the sandbox cannot draw, or a stray error, is
    # reported, and every cell after it still runs.
    softmax = (ROOT / "solutions/ex03_softmax.py").read_text()
    notebook = _notebook(
        tmp_path / "ex03_softmax.ipynb",
        "import torch\nraise RuntimeError('no display here')",
        "from __future__ import annotations\n" + softmax,  # a late __future__ import too
        "x = 1\n%time y = 2\nplt.show()",
        "def softmax_helper():\n    return torch.zeros(1)\n\nprint('after', x)",
    )
    result = grader.grade(notebook).exercises["softmax"]
    assert result.status == "complete"
    assert result.message.splitlines() == [
        "code cell 1, line 2 raised RuntimeError: no display here (the rest of that cell did not "
        "run)",
        "code cell 3, line 3 raised NameError: name 'plt' is not defined (the rest of that cell "
        "did not run)",
    ]
    assert "after 1" in result.output


def test_a_notebook_heavy_with_plots_is_graded_on_its_code(grader, tmp_path):
    # Outputs (a plot is tens of kB of base64) count towards the notebook's cap, not the code's.
    path = _notebook(
        tmp_path / "ex03_softmax.ipynb", (ROOT / "solutions/ex03_softmax.py").read_text()
    )
    notebook = json.loads(path.read_text())
    plot = {"output_type": "display_data", "metadata": {}, "data": {"image/png": "A" * 3_000_000}}
    notebook["cells"][0]["outputs"] = [plot]
    path.write_text(json.dumps(notebook))
    assert grader.grade(path).exercises["softmax"].status == "complete"
    code = "x = 1  # " + "a long comment " * 70_000
    too_much = _notebook(tmp_path / "ex01_dot_scores.ipynb", code)
    (error,) = grader.grade(too_much).errors
    assert error.startswith("ex01_dot_scores.ipynb: ") and "characters of code, over the" in error


def test_a_notebook_module_says_where_each_kept_cell_starts():
    cells = [{"cell_type": "code", "source": s} for s in ("a = 1\n\n", "def (:", "%ls\nb = 2")]
    errors: list[str] = []
    notebook = notebook_module(json.dumps({"cells": cells}), "n.ipynb", errors)
    assert notebook is not None and [c.number for c in notebook.cells] == [1, 3]
    lines = notebook.text.split("\n")
    assert [lines[c.line - 1] for c in notebook.cells] == ["# --- code cell 1", "# --- code cell 3"]
    assert lines[notebook.cells[1].line + 1] == "b = 2"  # line 2 of its cell, as written
    assert errors == ["n.ipynb, code cell 2, line 1: invalid syntax; cell skipped"]


@pytest.mark.parametrize(
    ("for_other_user", "modes"), [(True, (0o711, 0o644)), (False, (0o700, 0o600))]
)
def test_a_submissions_copy_is_open_to_other_users_only_when_workers_are_one(
    course, tmp_path, for_other_user, modes
):
    submission = load_submission(ROOT / "solutions", course)
    paths = materialise(submission, tmp_path, for_other_user=for_other_user)
    assert paths and (tmp_path.stat().st_mode & 0o777) == modes[0]
    assert {p.stat().st_mode & 0o777 for p in paths.values()} == {modes[1]}


def test_a_notebook_cell_that_cannot_be_read_is_skipped_on_every_python():
    # A null byte is a ValueError to Python before 3.11.4 and a SyntaxError after.
    sources = ("a = 1", "b = 2  # \x00", "c = 1" + " + 1" * 200_000)
    errors: list[str] = []
    notebook = notebook_module(
        json.dumps({"cells": [{"cell_type": "code", "source": s} for s in sources]}),
        "n.ipynb",
        errors,
    )
    assert notebook is not None and [c.number for c in notebook.cells] == [1]
    assert errors == [
        "n.ipynb, code cell 2: source code string cannot contain null bytes; cell skipped",
        "n.ipynb, code cell 3: the code is nested too deeply to be read; cell skipped",
    ]


def test_a_notebooks_ipython_syntax_is_left_out_and_a_dropped_run_named():
    sources = ("%%bash\nls -la\ncd ..", "%%time\na = 1", "  %run helpers.ipynb \nb = a\n!ls")
    cells = [{"cell_type": "code", "source": s} for s in sources]
    errors: list[str] = []
    notebook = notebook_module(json.dumps({"cells": cells}), "n.ipynb", errors)
    assert notebook is not None and [c.number for c in notebook.cells] == [1, 2, 3]
    lines = notebook.text.split("\n")
    assert [lines[c.line : c.line + 3] for c in notebook.cells] == [
        ["", "", ""],  # a shell cell, not Python
        ["", "a = 1", ""],  # %%time runs its body as Python
        ["", "b = a", ""],
    ]
    assert errors == [
        "n.ipynb, code cell 3, line 1: `%run helpers.ipynb` was not run (the grader runs only "
        "the notebook's own code): copy what it defines into the notebook"
    ]


def test_a_notebook_of_thousands_of_cells_is_graded(grader, tmp_path):
    softmax = (ROOT / "solutions/ex03_softmax.py").read_text()
    sources = [f"x{i} = {i}" for i in range(3000)] + [softmax, "raise ValueError(x2999)"]
    result = grader.grade(_notebook(tmp_path / "ex03_softmax.ipynb", *sources))
    assert result.exercises["softmax"].status == "complete"
    assert "raised ValueError: 2999" in result.exercises["softmax"].message


def test_a_notebook_cell_that_runs_too_long_is_stopped_and_the_next_cells_run(course, tmp_path):
    # As nbgrader's autograde interrupts a cell past its timeout and goes on.
    quick = replace(course.exercise("softmax"), time_limit_s=1.0)
    course = replace(
        course, exercises=tuple(quick if e.id == "softmax" else e for e in course.exercises)
    )
    softmax = (ROOT / "solutions/ex03_softmax.py").read_text()
    notebook = _notebook(
        tmp_path / "ex03_softmax.ipynb",
        "import torch\nwhile True:\n    pass",
        softmax,
        "def spin():\n    while True: pass\n\ndef wait():\n    spin()",
        "print('waiting')\nwait()",
    )
    with Grader(course) as grader:
        result = grader.grade(notebook).exercises["softmax"]
    assert result.status == "complete"
    assert result.message.splitlines() == [
        "code cell 1, line 2 raised CellTimeout: the cell ran longer than 1 s and was stopped "
        "(the rest of that cell did not run)",
        # the cell that was stopped, then the calls it was stopped in
        "code cell 4, line 2 raised CellTimeout in spin (code cell 3, line 2), called from wait "
        "(code cell 3, line 5): the cell ran longer than 1 s and was stopped (the rest of that "
        "cell did not run)",
    ]


def test_the_chain_of_calls_a_worker_reports_is_read_as_hostile_data():
    valid = [["<module>", 12], ("spin", 3)]
    assert reported_calls(valid) == [("<module>", 12), ("spin", 3)]
    assert reported_calls([["f" * 10_000, 1]]) == [("f" * MAX_NAME_CHARS, 1)]
    for forged in (
        "spin",
        {"spin": 3},
        [["spin", 3]] * (MAX_CALLS + 1),
        [["spin", True]],
        [["spin", 0]],
        [["spin", 3.0]],
        [[3, "spin"]],
        [["spin", 3, 4]],
        [valid[0], None],
    ):
        assert reported_calls(forged) == [], forged


def test_an_error_in_a_notebook_names_its_cell_and_line(grader, tmp_path):
    raising = "def softmax(scores, dim=-1):\n    return scores.softmax(dim) / 0 + int('x')"
    report = grader.grade(_notebook(tmp_path / "ex03_softmax.ipynb", "import torch", raising))
    messages = {t.message for t in report.exercises["softmax"].tests if t.status == "failed"}
    assert "softmax raised ValueError at code cell 2, line 2: invalid literal" in "".join(messages)


def test_messages_about_a_notebook_name_the_notebook_and_its_cells(grader, tmp_path):
    guarded = "import torch\n\nif __name__ == '__main__':\n    def softmax(scores, dim=-1):\n"
    guarded += "        return scores\n"
    report = grader.grade(_notebook(tmp_path / "work.ipynb", guarded))
    assert {t.message for t in report.exercises["softmax"].tests} == {
        "softmax raised AttributeError: work.ipynb defines no function softmax at its top level, "
        "where the tests look (is it indented under an `if`?)"
    }
    forbidding = (
        "import torch\n\ndef softmax(scores, dim=-1):\n    return torch.softmax(scores, dim)"
    )
    report = grader.grade(_notebook(tmp_path / "ex03_softmax.ipynb", "x = 1", forbidding))
    tests = {t.name: t for t in report.exercises["softmax"].tests}
    assert tests["test_no_forbidden_calls"].message == (
        "this exercise asks you to build the operation yourself: ex03_softmax.ipynb, code cell 2, "
        "line 4: uses torch.softmax, which this exercise forbids"
    )


def test_a_module_that_raises_on_import_fails_whole(grader, tmp_path):
    # A module is not a notebook: Python's import stops at the first error, and so does ours.
    module = tmp_path / "ex03_softmax.py"
    softmax = (ROOT / "solutions/ex03_softmax.py").read_text()
    module.write_text(softmax + "\nraise RuntimeError('no display here')\n")
    report = grader.grade(module)
    result = report.exercises["softmax"]
    message = result.message
    assert result.score == 0 and message.startswith("importing ex03_softmax.py raised RuntimeError")
    assert all(t.message == message for t in result.tests)
    # Said once in feedback, and where students see it before the hidden tests are published.
    assert FORMATS["markdown"](report).count("no display here") == 1
    assert FORMATS["html"](report).count("no display here") == 1
    assert "no display here" in json.loads(FORMATS["gradescope"](report))["output"]


def test_importing_another_exercises_module_fails_only_the_importer_and_says_why(
    grader, submission, tmp_path
):
    # Each exercise runs alone in its worker: ex04 cannot lean on ex03, and is told so.
    context = submission / "ex04_context_vectors.py"
    context.write_text("from ex03_softmax import softmax\n" + context.read_text())
    report = grader.grade(submission)
    result = report.exercises["context_vectors"]
    assert result.score == 0
    assert {t.message for t in result.tests} == {
        "ex04_context_vectors.py imports ex03_softmax (line 1), another exercise's module: each "
        "exercise is graded on its own, so copy what you need from ex03_softmax into "
        "ex04_context_vectors.py"
    }
    assert all(e.status == "complete" for i, e in report.exercises.items() if i != result.id)

    solution = (ROOT / "solutions/ex04_context_vectors.py").read_text()
    notebook = _notebook(tmp_path / "ex04_context_vectors.ipynb", "import ex03_softmax", solution)
    result = grader.grade(notebook).exercises["context_vectors"]
    assert result.status == "complete"  # the cell stopped, and the next cells ran
    assert result.message.startswith(
        "ex04_context_vectors.ipynb imports ex03_softmax (code cell 1, line 1), another "
    )
    assert result.message.endswith("(the rest of that cell did not run)")


def test_importing_through_a_package_or_the_courses_own_package_is_named(grader, submission):
    # `python -m pytest` puts the project on sys.path, where `exercises.ex03_softmax` imports;
    # the course's package is out of a worker's reach. Both fail when graded, and say why.
    context = submission / "ex04_context_vectors.py"
    context.write_text("from exercises.ex03_softmax import softmax\n" + context.read_text())
    softmax = submission / "ex03_softmax.py"
    softmax.write_text(
        "import torch\nfrom autograder.course import examples\n" + softmax.read_text()
    )
    normalization = submission / "ex02_normalization.py"  # a part the worker itself has loaded
    normalization.write_text("import autograder.sandbox.wire\n" + normalization.read_text())
    report = grader.grade(submission)
    assert {t.message for t in report.exercises["normalization"].tests} == {
        "ex02_normalization.py imports autograder.sandbox.wire (line 1), the course's own "
        "package, which is not there when your work is graded: copy what you need into "
        "ex02_normalization.py"
    }
    assert {t.message for t in report.exercises["context_vectors"].tests} == {
        "ex04_context_vectors.py imports ex03_softmax (line 1), another exercise's module: each "
        "exercise is graded on its own, so copy what you need from ex03_softmax into "
        "ex04_context_vectors.py"
    }
    assert {t.message for t in report.exercises["softmax"].tests} == {
        "ex03_softmax.py imports autograder.course.examples (line 2), the course's own package, "
        "which is not there when your work is graded: copy what you need into ex03_softmax.py"
    }


def test_a_missing_module_that_is_no_exercise_is_reported_as_python_reports_it(grader, tmp_path):
    module = tmp_path / "ex03_softmax.py"
    module.write_text("import ex03_helpers\n")
    result = grader.grade(module).exercises["softmax"]
    assert {t.message for t in result.tests} == {
        "importing ex03_softmax.py raised ModuleNotFoundError (line 1): "
        "No module named 'ex03_helpers'"
    }


def test_a_whole_file_that_does_not_parse_is_reported_under_its_own_name(grader, tmp_path):
    work = tmp_path / "work.py"
    work.write_text("import torch\n\ndef softmax(x:\n    return x\n")
    report = grader.grade(work)
    assert report.errors == ("work.py does not parse (line 3, column 12): '(' was never closed",)
    assert not report.gradable


def test_a_notebook_defining_no_course_function_is_reported(grader, tmp_path):
    report = grader.grade(_notebook(tmp_path / "scratch.ipynb", "x = 1\ndef helper(): pass"))
    assert not report.gradable
    assert report.errors[0].startswith("scratch.ipynb: defines none of the course's functions (")
    assert all(e.status == "not_submitted" for e in report.exercises.values())


def _plain_text(rendered: str, fmt: str) -> str:
    """A rendered report as plain text: JSON strings joined, HTML and Markdown escapes undone."""
    if fmt in ("json", "gradescope"):

        def strings(value):
            if isinstance(value, str):
                yield value
            elif isinstance(value, dict | list):
                for item in value.values() if isinstance(value, dict) else value:
                    yield from strings(item)

        rendered = "\n".join(strings(json.loads(rendered)))
    return re.sub(r"\\(.)", r"\1", html.unescape(rendered))


def test_a_catalogued_mistake_is_named_in_every_report_format(grader, submission):
    mistake = "scaled_attention/scaled_by_d_k.py"
    shutil.copy(ROOT / "tests/mistakes" / mistake, submission / "ex07_scaled_attention.py")
    report = grader.grade(submission)
    name = get("scaled_attention.scaled_by_d_k").name
    assert any(name in (t.diagnosis or "") for t in report.exercises["scaled_attention"].tests)
    for fmt in ("json", "markdown", "html", "gradescope"):
        assert name in _plain_text(FORMATS[fmt](report), fmt), fmt


PRYING = """
import os, signal

for secret in ({reference!r}, {suite!r}):
    try:
        open(secret).read()
        print("READ", secret)
    except OSError as error:
        print("denied:", type(error).__name__)
try:
    os.kill(os.getppid(), signal.SIGKILL)  # the fork server
    print("KILLED the fork server")
except OSError as error:
    print("denied:", type(error).__name__)

"""


@pytest.mark.skipif(not probe().landlock_abi, reason="this kernel offers no Landlock")
def test_a_grader_that_cannot_drop_privileges_still_confines_its_workers(course, submission):
    """Without root there is no uid to drop to: Landlock and seccomp alone keep the worker
    from the reference, the hidden suites and the fork server (this grader runs as root, so
    the workers' uid is left as it is, as an unprivileged grader's would be)."""
    module = submission / "ex03_softmax.py"
    prying = PRYING.format(
        reference=str(ROOT / "solutions" / "ex03_softmax.py"),
        suite=str(ROOT / "autograder" / "suites" / "test_softmax.py"),
    )
    module.write_text(prying + module.read_text())
    found = probe()
    unprivileged = Protections(found.landlock_abi, found.seccomp, uid_drop=False)
    with Grader(course, protections=unprivileged) as grader:
        report = grader.grade(submission)
    output = report.exercises["softmax"].output
    assert output.count("denied: PermissionError") == 3, output
    assert "READ" not in output and "KILLED" not in output
    assert report.score == course.max_score


def test_a_grader_whose_workers_could_not_reach_the_submissions_says_which_folder(
    course, tmp_path, monkeypatch
):
    hidden = tmp_path / "private"
    hidden.mkdir(mode=0o700)
    monkeypatch.setattr(tempfile, "tempdir", str(hidden))
    dropping = Protections(landlock_abi=0, seccomp=False, uid_drop=True)
    blocked = not_searchable_by_others(hidden)
    assert blocked is not None
    with pytest.raises(SandboxError, match=f"{re.escape(str(blocked))} is not searchable"):
        Grader(course, protections=dropping)


def test_a_grader_whose_workers_cannot_read_python_says_so_in_every_report(course, monkeypatch):
    # As on a machine whose Python lives under /root (mode 0700) while workers run as nobody:
    # `import matplotlib` would then fail with "No module named 'shlex'", for no clear reason.
    from autograder.grading import grader as grader_module

    dropping = Protections(landlock_abi=0, seccomp=False, uid_drop=True)
    monkeypatch.setattr(grader_module, "python_out_of_workers_reach", lambda: Path("/root"))
    assert Grader(course, protections=dropping).warnings == (
        *dropping.missing,
        "/root is not searchable by other users, so graded code (run as nobody) can import "
        "only the modules the grader preloads: install Python where every user can read it",
    )
    monkeypatch.setattr(grader_module, "python_out_of_workers_reach", lambda: None)
    assert Grader(course, protections=dropping).warnings == tuple(dropping.missing)


def test_a_worker_holds_no_fd_but_its_streams_and_channel(grader, submission):
    # The fork server holds the paths every worker may read open, to build their Landlock
    # rulesets: none of them, nor the ruleset, may reach student code.
    module = submission / "ex03_softmax.py"
    probe = (
        "import os\n\n\ndef _is_open(fd):\n    try:\n        os.fstat(fd)\n"
        "    except OSError:\n        return False\n    return True\n\n\n"
        "print('OPEN FDS', [fd for fd in range(4096) if _is_open(fd)])\n"
    )
    module.write_text(probe + module.read_text())
    result = grader.grade(submission).exercises["softmax"]
    assert result.status == "complete"
    assert "OPEN FDS [0, 1, 2, 3]" in result.output


def test_a_folder_of_many_notebooks_is_read_only_so_far_and_its_problems_capped(grader, tmp_path):
    for i in range(45):
        (tmp_path / f"scratch{i:02d}.ipynb").write_text("not json")
    _notebook(tmp_path / "ex03_softmax.ipynb", (ROOT / "solutions/ex03_softmax.py").read_text())
    report = grader.grade(tmp_path)
    assert report.exercises["softmax"].status == "complete"  # named after an exercise: read first
    assert (
        f"{tmp_path.name}: 46 notebooks; only 40 were read, those named after an exercise first"
        in report.errors
    )
    assert len(report.errors) == 40  # the line above, and the 39 unreadable notebooks read


def test_a_submissions_problems_are_named_up_to_a_cap(grader, tmp_path):
    for folder in ("exercises", "notebooks"):  # a copy of the release: both are read
        (tmp_path / folder).mkdir()
        for i in range(40):
            (tmp_path / folder / f"scratch{i:02d}.ipynb").write_text("not json")
    errors = grader.grade(tmp_path).errors
    assert len(errors) == 51 and errors[-1] == "... and 30 more problems with its files"

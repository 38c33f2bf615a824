"""The nbgrader course built from the single source, run through the real nbgrader.

The fast tests check the generated files and the bridge the grade cells call. The end-to-end
tests build a course directory with two assignments (softmax, normalization), run
`nbgrader generate_assignment`, `autograde` on several students, `generate_feedback` and
`export`, then read nbgrader's gradebook and feedback.
"""

from __future__ import annotations

import csv
import html.parser
import os
import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder.build.nbgrader_course import (
    EXECUTE_TIMEOUT_S,
    generated_nbgrader_course,
    hoist_hints,
    source_cells,
    write_nbgrader_course,
)
from autograder.build.notebooks import without_docstring
from autograder.build.stubs import solution_body_lines
from autograder.grading.grader import Grader
from autograder.grading.nbgrader_bridge import (
    HIDDEN_TIMEOUT_S,
    captured_stderr,
    executed_cells,
    hidden_score,
    summary,
)
from autograder.grading.session import collect_suites
from autograder.reports.model import ExerciseResult, Report, TestResult, read_json
from autograder.reports.nbgrader_gradebook import (
    CONFIG_FILE,
    grade_cell_id,
    write_reports,
)
from tests.conftest import ROOT

ASSIGNMENTS = ("ex02_normalization", "ex03_softmax")
HIDDEN = ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")


def _reference_code(module: str) -> str:
    return without_docstring((ROOT / "solutions" / f"{module}.py").read_text())


# What each student's solution cell holds (None: the released stub, untouched).
STUDENTS = {
    ("alice", "ex03_softmax"): _reference_code("ex03_softmax"),
    ("bob", "ex03_softmax"): (
        "import torch\n\n\n"
        "def softmax(scores, dim=-1):\n"
        "    exps = torch.exp(scores)  # overflows for large scores, NaN for masked rows\n"
        "    return exps / exps.sum(dim=dim, keepdim=True)\n"
    ),
    ("carol", "ex03_softmax"): None,
    ("dave", "ex03_softmax"): (
        _reference_code("ex03_softmax") + "\n\nraise RuntimeError('my experiment went wrong')\n"
    ),
    # Correct, but torch warns (copy-constructing a tensor) and a C library writes to fd 2.
    ("alice", "ex02_normalization"): (
        "import os\nimport warnings\n\nimport torch\n\n"
        "warnings.simplefilter('always')  # so the warning fires in the grade cell too\n\n\n"
        "def normalize(scores, dim=-1):\n"
        "    torch.tensor(scores)  # UserWarning: To copy construct from a tensor...\n"
        "    os.write(2, b'a C-level note on stderr\\n')\n"
        "    return scores / scores.sum(dim=dim, keepdim=True)\n"
    ),
}


# --- the generated files ------------------------------------------------------------------


def test_hints_move_above_the_solution_markers():
    source = "def f():\n    ### BEGIN SOLUTION\n    # Hint: h\n    return 1\n    ### END SOLUTION\n"
    hoisted = hoist_hints(source)
    assert hoisted == (
        "def f():\n    # Hint: h\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    )


def test_source_notebooks_carry_nbgrader_metadata(course):
    from nbgrader.nbgraderformat import MetadataValidator

    files = generated_nbgrader_course(course, Path("/course"))
    for exercise in course.exercises:
        path = Path("/course/source") / exercise.module / f"{exercise.module}.ipynb"
        notebook = nbformat.reads(files[path], as_version=4)
        MetadataValidator().validate_nb(notebook)
        meta = [cell.metadata["nbgrader"] for cell in notebook.cells]
        assert all(m["schema_version"] == 3 for m in meta)
        grades = [m for m in meta if m["grade"]]
        assert grades == [
            {
                "grade": True,
                "grade_id": grade_cell_id(exercise),
                "locked": True,
                "points": exercise.points,
                "schema_version": 3,
                "solution": False,
            }
        ]
        solutions = [c for c in notebook.cells if c.metadata["nbgrader"]["solution"]]
        assert len(solutions) == 1 and not solutions[0].metadata["nbgrader"]["locked"]
        lines = solutions[0].source.splitlines()
        begins = [i for i, line in enumerate(lines) if line.strip() == "### BEGIN SOLUTION"]
        assert len(begins) == len(exercise.functions) >= 1
        assert all(lines[i - 1].strip().startswith("# Hint:") for i in begins)
        others = [m for m in meta if not m["grade"] and not m["solution"]]
        assert all(m["locked"] for m in others) and len(others) == len(meta) - 2
        assert len({m["grade_id"] for m in meta}) == len(meta)
        grade_source = notebook.cells[-1].source
        assert all(marker in grade_source for marker in HIDDEN)
        assert f'hidden_score(executed_cells(), "{exercise.module}")' in grade_source


def test_nbgrader_config_hides_hidden_tests_from_feedback(course, tmp_path):
    write_nbgrader_course(course, tmp_path)
    config = PyFileConfigLoader(CONFIG_FILE, path=str(tmp_path)).load_config()
    assert config.CourseDirectory.course_id == course.slug
    assert [p.__name__ for p in config.GenerateFeedback.preprocessors] == [
        "GetGrades",
        "ClearHiddenTests",
        "CSSHTMLHeaderPreprocessor",
    ]
    assert config.Execute.timeout == EXECUTE_TIMEOUT_S > HIDDEN_TIMEOUT_S


def test_writing_the_nbgrader_course_again_writes_only_what_changed(course, tmp_path):
    files = generated_nbgrader_course(course, tmp_path)
    assert sorted(write_nbgrader_course(course, tmp_path)) == sorted(files)
    assert write_nbgrader_course(course, tmp_path) == []
    config = tmp_path / CONFIG_FILE
    config.write_bytes(files[config].replace("\n", "\r\n").encode())  # as an editor may save it
    assert write_nbgrader_course(course, tmp_path) == [config]
    assert config.read_bytes() == files[config].encode()


# --- the bridge the grade cells call ------------------------------------------------------


def test_stderr_and_warnings_are_caught(capfd):
    with captured_stderr() as output:
        print("python-level", file=sys.stderr)
        os.write(2, b"fd-level\n")
        warnings.warn("torch says hello", UserWarning, stacklevel=1)
    assert capfd.readouterr().err == ""
    assert output == ["python-level", "fd-level", "UserWarning: torch says hello"]


def _result(*tests: tuple[str, float, str], message: str = "") -> ExerciseResult:
    """An exercise result of softmax from (status, score, message) triples, 7.5 points each."""
    results = tuple(
        TestResult(name=f"test_{i}", score=score, max_score=7.5, status=status, message=message)
        for i, (status, score, message) in enumerate(tests)
    )
    score = sum(t.score for t in results)
    status = "complete" if score == 15 else "partial" if score else "failed"
    return ExerciseResult(
        id="softmax",
        title="",
        score=score,
        max_score=15,
        status=status,
        message=message,
        tests=results,
    )


def test_the_summary_shows_counts_and_cells_that_raised_never_test_messages():
    secret = "expected [0.1234, 0.5678] for the hidden batch"
    partial = _result(("failed", 0, secret), ("passed", 7.5, ""))
    assert summary(partial) == "Hidden tests: 1 of 2 passed."
    assert summary(_result(("failed", 0, secret))) == "Hidden tests: 0 of 1 passed."
    raised = "code cell 2, line 1 raised NameError: name 'plt' is not defined (the rest ...)"
    broken = _result(("failed", 0, secret), message=f"{raised}\nanother")
    assert summary(broken) == f"Hidden tests: 0 of 1 passed. In the grader, {raised} (and 1 more)."
    passed = _result(("passed", 7.5, ""), ("passed", 7.5, ""), message=raised)
    assert summary(passed) == "Hidden tests: 2 of 2 passed."


def test_hidden_score_is_zero_when_grading_cannot_finish(course, capsys):
    cells = [_reference_code("ex03_softmax")]
    assert hidden_score(cells, "softmax", timeout_s=0.01) == 0.0
    assert capsys.readouterr().out == (
        "The hidden tests could not run; your instructor will grade this exercise.\n"
    )
    assert executed_cells() == []  # not in IPython


# --- nbgrader, end to end -----------------------------------------------------------------


def _nbgrader(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("NBGRADER_EXECUTION", None)
    # nbgrader runs the `alembic` executable when it creates the gradebook.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)}:\n{result.stderr[-3000:]}"
    return result


def _submit(root: Path, student: str, assignment: str, code: str | None) -> None:
    notebook = nbformat.read(root / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    if code is not None:
        (cell,) = [c for c in notebook.cells if c.metadata["nbgrader"].get("solution")]
        cell.source = code
    folder = root / "submitted" / student / assignment
    folder.mkdir(parents=True)
    nbformat.write(notebook, folder / f"{assignment}.ipynb")


@pytest.fixture(scope="module")
def nbgrader_course(course, tmp_path_factory):
    """A course directory after generate_assignment, autograde, generate_feedback, export."""
    root = tmp_path_factory.mktemp("nbgrader-course")
    for path, text in generated_nbgrader_course(course, root).items():
        if path.name == CONFIG_FILE or path.parent.name in ASSIGNMENTS:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    _nbgrader(root, "generate_assignment", "*")
    for (student, assignment), code in STUDENTS.items():
        _submit(root, student, assignment, code)
    _nbgrader(root, "autograde", "*")
    _nbgrader(root, "generate_feedback", "*")
    _nbgrader(root, "export")
    return root


def _scores(root: Path, course) -> dict[tuple[str, str], float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}", course.slug) as gradebook:
        return {
            (submission.student.id, assignment): submission.score
            for assignment in ASSIGNMENTS
            for submission in gradebook.assignment_submissions(assignment)
        }


def _grade_cell(root: Path, step: str, student: str, assignment: str) -> nbformat.NotebookNode:
    path = root / step / student / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(path, as_version=4)
    (cell,) = [c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    return cell


def test_the_release_has_hinted_stubs_and_no_solution_or_hidden_test(nbgrader_course, course):
    for assignment in ASSIGNMENTS:
        text = (nbgrader_course / "release" / assignment / f"{assignment}.ipynb").read_text()
        solution = (course.solutions_dir / f"{assignment}.py").read_text()
        notebook = nbformat.reads(text, as_version=4)
        code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
        for line in solution_body_lines(solution):
            assert line not in code, line
        assert "# Hint:" in code and "raise NotImplementedError()" in code
        assert "HIDDEN TESTS" not in text and "hidden_score" not in text
        assert "pytest.main(" in notebook.cells[-1].source
        shipped = sorted(p.name for p in (nbgrader_course / "release" / assignment).iterdir())
        assert shipped == sorted([f"{assignment}.ipynb", f"test_{assignment}.py", "course.toml"])


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


def _submitted(root: Path, student: str, assignment: str) -> Path:
    return root / "submitted" / student / assignment / f"{assignment}.ipynb"


def test_the_gradebook_holds_the_hidden_suite_scores(nbgrader_course, course, grader):
    scores = _scores(nbgrader_course, course)
    softmax = course.exercise("softmax").points
    assert scores["alice", "ex03_softmax"] == pytest.approx(softmax)
    assert 0 < scores["bob", "ex03_softmax"] < softmax
    assert scores["carol", "ex03_softmax"] == 0  # the untouched stub
    # Dave's cell raises after it defines softmax: in the kernel, and so in the grader too,
    # softmax is defined and the raise costs nothing.
    assert scores["dave", "ex03_softmax"] == pytest.approx(softmax)
    printed = "".join(
        o.get("text", "")
        for o in _grade_cell(nbgrader_course, "autograded", "dave", "ex03_softmax").outputs
    )
    assert re.search(r"Hidden tests: (\d+) of \1 passed\.", printed)
    # `autograder grade` gives the same scores to the notebooks the students handed in.
    for student in ("alice", "bob", "carol", "dave"):
        report = grader.grade(_submitted(nbgrader_course, student, "ex03_softmax"))
        assert report.exercises["softmax"].score == pytest.approx(
            scores[student, "ex03_softmax"], abs=1e-6
        ), student


def test_torch_warnings_on_stderr_cost_no_points(nbgrader_course, course):
    assert _scores(nbgrader_course, course)["alice", "ex02_normalization"] == pytest.approx(
        course.exercise("normalization").points
    )
    path = nbgrader_course / "autograded" / "alice" / "ex02_normalization"
    notebook = nbformat.read(path / "ex02_normalization.ipynb", as_version=4)
    stderr = {
        cell.id: "".join(o.text for o in cell.outputs if o.get("name") == "stderr")
        for cell in notebook.cells
        if cell.cell_type == "code"
    }
    # Her code warns wherever it runs (the kernel does not forward fd 2 to the notebook) ...
    assert "UserWarning: To copy construct" in stderr["normalization-3"]  # "try it"
    grade = _grade_cell(nbgrader_course, "autograded", "alice", "ex02_normalization")
    assert stderr[grade.id] == ""  # ... but not in the grade cell's output
    printed = "".join(o.get("text", "") for o in grade.outputs)
    assert "UserWarning: To copy construct from a tensor" in printed  # shown on stdout
    assert grade.outputs[-1].output_type == "execute_result"


def test_failed_public_checks_show_but_the_hidden_tests_decide(nbgrader_course):
    grade = _grade_cell(nbgrader_course, "autograded", "bob", "ex03_softmax")
    printed = "".join(o.get("text", "") for o in grade.outputs)
    assert "test_large_scores_stay_finite" in printed and "2 failed" in printed
    assert [o.output_type for o in grade.outputs if o.output_type == "error"] == []
    assert float(grade.outputs[-1].data["text/plain"]) > 0


class _Text(html.parser.HTMLParser):
    """The text a browser would show (no styles or scripts, entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self._skipping += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self._skipping -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def _shown_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text())
    return "".join(parser.parts)


def test_the_feedback_shows_no_hidden_test(nbgrader_course, course):
    suite_names: dict[str, set[str]] = {e.id: set() for e in course.exercises}
    for test in collect_suites(course):
        suite_names[test.exercise].add(test.name.split("[")[0])
    for exercise in course.exercises:  # minus the names the public tests use too
        public = (course.exercises_dir / f"test_{exercise.module}.py").read_text()
        suite_names[exercise.id] = {n for n in suite_names[exercise.id] if n not in public}
        assert suite_names[exercise.id], exercise.id
    for (student, assignment), _ in STUDENTS.items():
        exercise = course.by_module(assignment)
        feedback = nbgrader_course / "feedback" / student / assignment / f"{assignment}.html"
        shown = _shown_text(feedback)
        hidden_cell = next(c for c in source_cells(course, exercise) if c.role == "checks").source
        hidden_lines = hidden_cell.split(HIDDEN[0])[1].split(HIDDEN[1])[0].splitlines()
        hidden_lines = [line.strip() for line in hidden_lines if line.strip()]
        # The graded notebook holds the hidden tests (autograde restores them) ...
        autograded = _grade_cell(nbgrader_course, "autograded", student, assignment).source
        assert all(line in autograded for line in hidden_lines)
        # ... the feedback made from it shows the visible checks and the score, nothing hidden.
        assert "pytest.main(" in shown and "Hidden tests:" in shown
        for secret in [*HIDDEN, "HIDDEN TESTS", *hidden_lines, "hidden_score", "executed_cells"]:
            assert secret not in shown, (student, assignment, secret)
        for name in suite_names[exercise.id]:
            assert name not in shown, (student, assignment, name)
        for internal in ("after_published", "attention-autograder/report", "_reference_"):
            assert internal not in shown, (student, assignment, internal)
        if student in ("bob", "carol"):
            solution = (course.solutions_dir / exercise.filename).read_text()
            for line in solution_body_lines(solution):
                assert line not in shown, (student, assignment, line)


def test_export_lists_every_score(nbgrader_course, course):
    with (nbgrader_course / "grades.csv").open() as file:
        rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(file)}
    assert rows["alice", "ex03_softmax"] == pytest.approx(course.exercise("softmax").points)
    assert rows["carol", "ex03_softmax"] == 0


def test_write_reports_writes_each_score_and_lists_what_it_cannot(nbgrader_course, course, grader):
    report = grader.grade(_submitted(nbgrader_course, "bob", "ex03_softmax"), student="erin")
    summary = write_reports(nbgrader_course, course, [("erin", "ex03_softmax", report)])
    scores = _scores(nbgrader_course, course)
    assert summary.written == 1 and not summary.skipped
    assert scores["erin", "ex03_softmax"] == pytest.approx(scores["bob", "ex03_softmax"])
    nothing = Report(score=0, max_score=15, gradable=False)  # softmax not submitted: 0
    write_reports(nbgrader_course, course, [("erin", "ex03_softmax", nothing)])
    assert _scores(nbgrader_course, course)["erin", "ex03_softmax"] == 0
    rows = [("erin", "ex01_dot_scores", report), ("erin", "ex99_nothing", report)]
    skipped = write_reports(nbgrader_course, course, rows).skipped
    assert len(skipped) == 2
    assert "nbgrader generate_assignment ex01_dot_scores" in skipped[0]
    assert "no exercise has the module 'ex99_nothing'" in skipped[1]


def _grade_all(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "autograder", "grade-all", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_grade_all_writes_the_submitted_tree_into_the_gradebook(nbgrader_course, course, tmp_path):
    root = tmp_path / "course"
    shutil.copytree(nbgrader_course, root, ignore=shutil.ignore_patterns("autograded", "feedback"))
    shutil.copytree(root / "submitted" / "bob", root / "submitted" / "erin")  # a new student
    frank = root / "submitted" / "frank" / "ex01_dot_scores"  # an assignment never generated
    frank.mkdir(parents=True)
    (frank / "ex01_dot_scores.py").write_text(
        (course.solutions_dir / "ex01_dot_scores.py").read_text()
    )
    before = _scores(root, course)
    result = _grade_all(
        root / "submitted", "--db", tmp_path / "grades.sqlite", "--reports", tmp_path / "reports",
        "--workers", "1", "--nbgrader-course", root, "--csv", tmp_path / "grades.csv",
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    with (tmp_path / "grades.csv").open() as file:
        rows = {(r["student"], r["assignment"]): r for r in csv.DictReader(file)}
    row, points = rows["frank", "ex01_dot_scores"], f"{course.exercise('dot_scores').points:g}"
    assert (row["score"], row["max_score"], row["softmax"]) == (points, points, "")
    assert "not written: frank/ex01_dot_scores:" in result.stderr
    assert "nbgrader generate_assignment ex01_dot_scores" in result.stderr
    assert "the grades are safe in --db" in result.stderr
    after = _scores(root, course)
    assert set(after) == set(before) | {("erin", a) for s, a in before if s == "bob"}
    for (student, assignment), score in after.items():
        report = read_json(tmp_path / "reports" / f"{student}__{assignment}.json")
        exercise = course.by_module(assignment)
        assert list(report.exercises) == [exercise.id]  # the assignment's exercise only
        assert report.max_score == exercise.points
        assert score == pytest.approx(report.score, abs=1e-6)
        if student != "erin":  # the sandboxed grader agrees with nbgrader's own autograde
            assert score == pytest.approx(before[student, assignment], abs=1e-6)
    assert after["erin", "ex03_softmax"] == pytest.approx(after["bob", "ex03_softmax"])


def test_grade_all_checks_the_nbgrader_course_before_grading(tmp_path):
    (tmp_path / "submissions" / "alice").mkdir(parents=True)
    db = tmp_path / "grades.sqlite"
    result = _grade_all(
        tmp_path / "submissions", "--db", db, "--reports", tmp_path / "reports",
        "--nbgrader-course", tmp_path / "nowhere",
    )  # fmt: skip
    assert result.returncode == 2
    assert f"--nbgrader-course {tmp_path / 'nowhere'}: no nbgrader_config.py there" in result.stderr
    assert "Traceback" not in result.stderr
    assert not db.exists()  # nothing was graded

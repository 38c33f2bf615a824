"""notebooks/ is generated from the single source: it matches, the reference notebooks run top
to bottom and draw their heatmaps, the students' stop at the first stub, and a notebook is
graded like a module."""

from __future__ import annotations

import ast
import dataclasses
import re
from concurrent.futures import ThreadPoolExecutor

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.build.notebooks import (
    HEATMAPS,
    PLOTTING_TRY_IT,
    TRY_IT,
    check_notebooks,
    exercise_cells,
    generated_notebooks,
    reference_notebooks,
    teaching_notes,
    without_docstring,
    write_notebooks,
)
from autograder.build.stubs import make_stub, solution_body_lines
from autograder.course.forbidden import find_forbidden
from autograder.grading.grader import Grader
from tests.conftest import ROOT

MAGIC = re.compile(r"^\s*[%!]")


def test_checked_in_notebooks_match_the_source(course):
    drift = check_notebooks(course)
    assert drift == [], f"regenerate notebooks/ (autograder build): {drift}"


def test_drift_is_reported(course, tmp_path):
    copy = dataclasses.replace(course, root=tmp_path)
    assert {d.reason for d in check_notebooks(copy)} == {"missing"}
    assert len(write_notebooks(copy)) == len(course.exercises)
    assert check_notebooks(copy) == [] and write_notebooks(copy) == []
    edited = tmp_path / "notebooks" / "ex03_softmax.ipynb"
    edited.write_text(edited.read_text().replace("softmax", "softmaxx"))
    assert [(d.path.name, d.reason.split()[0]) for d in check_notebooks(copy)] == [
        ("ex03_softmax.ipynb", "differs")
    ]


def test_notebooks_are_deterministic_and_carry_no_outputs(course):
    first, second = generated_notebooks(course), generated_notebooks(course)
    assert first == second
    for exercise in course.exercises:
        text = first[course.root / "notebooks" / f"{exercise.module}.ipynb"]
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3"
        assert [cell.id for cell in notebook.cells] == [
            f"{exercise.id}-{i}" for i in range(len(notebook.cells))
        ]
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None


def test_students_get_stubs_with_hints_and_the_teaching_notes(course):
    notebooks = generated_notebooks(course)
    for exercise in course.exercises:
        text = notebooks[course.root / "notebooks" / f"{exercise.module}.ipynb"]
        notebook = nbformat.reads(text, as_version=4)
        solution = (course.solutions_dir / exercise.filename).read_text()
        cells = exercise_cells(course, exercise, reference=False)
        code = [c.source for c in cells if c.role == "exercise"]
        assert code == [without_docstring(make_stub(solution)).rstrip("\n")]  # as in exercises/
        others = "\n".join(c.source for c in cells if c.role != "exercise")
        for line in solution_body_lines(solution):
            assert line not in others, f"{exercise.module}: the solution line {line!r} leaked"
        assert [c.source for c in notebook.cells] == [c.source for c in cells]
        intro = notebook.cells[0].source
        assert intro.startswith(f"# Exercise {exercise.number}: {exercise.title}")
        assert teaching_notes(solution) in intro and len(teaching_notes(solution)) > 300
        reference = nbformat.reads(reference_notebooks(course)[exercise.id], as_version=4)
        reference_code = "\n".join(c.source for c in reference.cells if c.cell_type == "code")
        assert all(line in reference_code for line in solution_body_lines(solution))


def test_every_exercise_has_a_try_it_cell_and_the_weights_a_heatmap(course):
    assert set(TRY_IT) == {e.id for e in course.exercises}
    weights = {"normalization", "softmax", "context_vectors", "bahdanau", "scaled_attention"}
    weights |= {"causal_attention", "multi_head_attention", "attention_decoder"}
    assert set(HEATMAPS) == weights
    for exercise in course.exercises:
        roles = [cell.role for cell in exercise_cells(course, exercise, reference=False)]
        expected = ["intro", "setup", "exercise", "try_it"]
        expected += ["heatmap"] if exercise.id in weights else []
        assert roles == [*expected, "checks"]


def test_cells_around_the_exercise_are_skipped_by_the_grader_and_call_nothing_forbidden(course):
    """The grader runs every code cell; only the exercise's may run, or use what it may not."""
    for exercise in course.exercises:
        for cell in exercise_cells(course, exercise, reference=True):
            if cell.cell_type != "code" or cell.role == "exercise":
                continue
            code = "\n".join(line for line in cell.source.splitlines() if not MAGIC.match(line))
            statements = ast.parse(code).body
            guarded = len(statements) == 1 and isinstance(statements[0], ast.If)
            assert guarded and ast.unparse(statements[0].test) == "__name__ == '__main__'", (
                f"{exercise.id} {cell.role}: everything must sit under the main guard"
            )
            assert find_forbidden(code, exercise.forbidden) == [], (exercise.id, cell.role)


# --- executing the notebooks --------------------------------------------------------------


def _execute(text: str) -> tuple[nbformat.NotebookNode, CellExecutionError | None]:
    notebook = nbformat.reads(text, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",  # jupyter_client starts it with this interpreter (the venv's)
        resources={"metadata": {"path": str(ROOT / "notebooks")}},  # where Jupyter runs them
    )
    try:
        client.execute()
    except CellExecutionError as error:
        return notebook, error
    return notebook, None


@pytest.fixture(scope="module")
def executed(course):
    """Every reference and every student notebook, executed (three kernels at a time)."""
    texts = {("reference", e): t for e, t in reference_notebooks(course).items()}
    for exercise in course.exercises:
        path = course.root / "notebooks" / f"{exercise.module}.ipynb"
        texts["student", exercise.id] = generated_notebooks(course)[path]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        patch.delenv("NBGRADER_EXECUTION", raising=False)
        with ThreadPoolExecutor(max_workers=3) as pool:
            results = dict(zip(texts, pool.map(_execute, texts.values()), strict=True))
    return results


def _outputs(cell: nbformat.NotebookNode) -> list[dict]:
    return cell.get("outputs", [])


def test_reference_notebooks_run_top_to_bottom(executed, course):
    for exercise in course.exercises:
        notebook, error = executed["reference", exercise.id]
        assert error is None, f"{exercise.module}: {error}"
        checks = notebook.cells[-1]
        printed = "".join(o.get("text", "") for o in _outputs(checks))
        assert " passed" in printed and "failed" not in printed, printed
        assert "warning" not in printed, printed  # nothing for students to puzzle over
        shown = "".join(o.get("data", {}).get("text/html", "") for o in _outputs(checks))
        assert "public checks" in shown and ">done<" in shown, shown  # the plugin's scoreboard
        for cell in notebook.cells:
            assert not [o for o in _outputs(cell) if o.get("name") == "stderr"], (
                exercise.id,
                cell.id,
            )


def test_heatmaps_are_drawn_as_png(executed, course):
    for exercise in course.exercises:
        notebook, _ = executed["reference", exercise.id]
        images = [
            cell.id
            for cell in notebook.cells
            for output in _outputs(cell)
            if "image/png" in output.get("data", {})
        ]
        cells = exercise_cells(course, exercise, reference=True)
        drawing = ("heatmap", "try_it") if exercise.id in PLOTTING_TRY_IT else ("heatmap",)
        figures = [f"{exercise.id}-{i}" for i, c in enumerate(cells) if c.role in drawing]
        assert images == figures, exercise.id


def test_student_notebooks_stop_at_the_first_stub(executed, course):
    for exercise in course.exercises:
        notebook, error = executed["student", exercise.id]
        assert isinstance(error, CellExecutionError), exercise.id
        assert error.ename == "NotImplementedError" and error.evalue.startswith("Hint:")
        failed = [
            cell.id
            for cell in notebook.cells
            if any(o.output_type == "error" for o in _outputs(cell))
        ]
        roles = [c.role for c in exercise_cells(course, exercise, reference=False)]
        assert failed == [f"{exercise.id}-{roles.index('try_it')}"], exercise.id


def test_the_checks_take_the_helpers_a_function_calls_from_their_own_cells(course):
    """Helpers in cells of their own, calling helpers in others: the grader runs every cell, so
    the checks take each cell a helper is in, however it is reached."""
    notebook = nbformat.reads(reference_notebooks(course)["softmax"], as_version=4)
    cell = next(c for c in notebook.cells if "def softmax(" in c.source)
    cell.source = cell.source.replace("def softmax(", "def shifted_softmax(")
    # `inner` is reached through `outer`, after its cell was taken for `outer`.
    helpers = (
        "def outer(scores, dim):\n    return inner(scores, dim)\n\n\n"
        "def inner(scores, dim):\n    return shifted_softmax(scores, dim)\n"
    )
    caller = "def softmax(scores, dim=-1):\n    return outer(scores, dim)\n"
    at = notebook.cells.index(cell) + 1
    notebook.cells[at:at] = [nbformat.v4.new_code_cell(helpers), nbformat.v4.new_code_cell(caller)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        executed, error = _execute(nbformat.writes(notebook))
    assert error is None, error
    printed = "".join(o.get("text", "") for o in _outputs(executed.cells[-1]))
    assert "6 passed" in printed and "NameError" not in printed, printed


def _checks_verdict(course, exercise_id: str, text: str, *stubs: str) -> str:
    """What the public checks cell of the notebook `text` fails with, run without the cells
    that call the functions before it (try it, heatmap) and with the functions `stubs`
    stubbed again where they are defined."""
    notebook = nbformat.reads(text, as_version=4)
    cells = exercise_cells(course, course.exercise(exercise_id), reference=True)
    calling = {f"{exercise_id}-{i}" for i, c in enumerate(cells) if c.role in ("try_it", "heatmap")}
    notebook.cells = [c for c in notebook.cells if c.id not in calling]
    for name in stubs:
        cell = next(c for c in notebook.cells if f"def {name}(" in c.source)
        cell.source += f"\n\n\ndef {name}(*args):\n    raise NotImplementedError('Hint: ...')\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MPLBACKEND", "Agg")
        _, error = _execute(nbformat.writes(notebook))
    assert error is not None and error.ename == "AssertionError", error
    return error.evalue


def test_a_notebooks_checks_say_what_is_not_attempted_rather_than_failed(course):
    student = generated_notebooks(course)[course.root / "notebooks" / "ex03_softmax.ipynb"]
    assert _checks_verdict(course, "softmax", student) == (
        "not attempted yet: the functions above still raise NotImplementedError"
    )
    reference = reference_notebooks(course)["rnn_step"]
    assert _checks_verdict(course, "rnn_step", reference, "rnn_forward") == (
        "some checks are not attempted yet, and none failed: see above"
    )


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


def test_a_reference_notebook_gets_full_marks_on_its_exercise(grader, course, tmp_path):
    for exercise in course.exercises:
        path = tmp_path / f"{exercise.module}.ipynb"
        path.write_text(reference_notebooks(course)[exercise.id])
        report = grader.grade(path)
        result = report.exercises[exercise.id]
        failed = [(t.name, t.message) for t in result.tests if t.status != "passed"]
        assert failed == [] and report.errors == (), exercise.id
        assert result.score == pytest.approx(exercise.points)


def test_a_student_notebook_is_not_attempted(grader, course, tmp_path):
    exercise = course.exercise("softmax")
    path = tmp_path / f"{exercise.module}.ipynb"
    path.write_text(generated_notebooks(course)[course.root / "notebooks" / path.name])
    result = grader.grade(path).exercises[exercise.id]
    assert result.status == "not_attempted" and result.score == 0

"""exercises/ is generated from solutions/: the stubs, their hints, and drift detection."""

import ast
import subprocess
import sys

import pytest

from autograder.build.exercises import check_exercises, generated_exercises
from autograder.build.notebooks import generated_notebooks
from autograder.build.stubs import (
    SolutionMarkupError,
    check_marked,
    find_regions,
    make_stub,
    solution_body_lines,
    with_closing_paragraph,
)
from autograder.course.stubs import has_work
from autograder.grading.submission import notebook_module
from tests.conftest import ROOT

SOLUTION = '''"""Doc."""

def f(x):
    """Double x."""
    ### BEGIN SOLUTION
    # Hint: add x to itself.
    y = x + x
    return y
    ### END SOLUTION


class C:
    def g(self):
        ### BEGIN SOLUTION
        # Hint: return one.
        return 1
        ### END SOLUTION
'''


def test_regions_become_raises_with_their_hint():
    stub = make_stub(SOLUTION)
    assert "x + x" not in stub and "return 1" not in stub
    assert '    raise NotImplementedError("Hint: add x to itself.")' in stub
    assert '        raise NotImplementedError("Hint: return one.")' in stub
    assert '"""Double x."""' in stub
    ast.parse(stub)


def test_solution_body_lines_are_the_code_inside_regions():
    assert solution_body_lines(SOLUTION) == ["y = x + x", "return y", "return 1"]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\n# Hint: h\nx = 1\n", "sol.py:1: ### BEGIN SOLUTION is never closed"),
        ("x = 1\n### END SOLUTION\n", "sol.py:2: ### END SOLUTION without"),
        (
            "### BEGIN SOLUTION\n# Hint: h\n### BEGIN SOLUTION\n",
            "sol.py:3: ### BEGIN SOLUTION inside",
        ),
        (
            "### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n",
            "sol.py:2: a solution region must start with",
        ),
    ],
)
def test_bad_markup_is_reported_with_its_line(source, message):
    with pytest.raises(SolutionMarkupError, match=message):
        find_regions(source, "sol.py")


def test_each_function_of_the_exercise_needs_a_solution_region():
    check_marked(SOLUTION, ("f",), "sol.py")
    unmarked = SOLUTION.replace("    ### BEGIN SOLUTION\n    # Hint: add x to itself.\n", "")
    unmarked = unmarked.replace("    return y\n    ### END SOLUTION\n", "    return y\n")
    with pytest.raises(SolutionMarkupError, match=r"sol\.py:3: f has no ### BEGIN SOLUTION"):
        check_marked(unmarked, ("f",), "sol.py")
    with pytest.raises(SolutionMarkupError, match=r"sol\.py: defines no function 'h'"):
        check_marked(SOLUTION, ("f", "h"), "sol.py")


def test_a_solution_without_markers_is_refused_not_released(tmp_path):
    copy = tmp_path / "course"
    for name in ("solutions", "exercises", "notebooks"):
        (copy / name).mkdir(parents=True)
    (copy / "course.toml").write_text((ROOT / "course.toml").read_text())
    for path in (ROOT / "solutions").glob("*.py"):
        text = path.read_text()
        if path.name == "ex02_normalization.py":
            text = "".join(line for line in text.splitlines(True) if "SOLUTION" not in line)
        (copy / "solutions" / path.name).write_text(text)
    command = [sys.executable, "-m", "autograder", "--course", str(copy / "course.toml")]
    for args in (["build"], ["release", str(tmp_path / "release")]):
        result = subprocess.run([*command, *args], capture_output=True, text=True)
        assert result.returncode == 2, result.stderr
        assert "ex02_normalization.py:" in result.stderr
        assert "normalize has no ### BEGIN SOLUTION" in result.stderr
    assert not (tmp_path / "release").exists()
    assert not any((copy / "exercises").iterdir())


def test_checked_in_exercises_match_the_solutions(course):
    drift = check_exercises(course)
    assert drift == [], f"run `autograder build`: {drift}"


def test_build_check_fails_on_drift(course, tmp_path):
    copy = tmp_path / "course"
    (copy / "exercises").mkdir(parents=True)
    (copy / "solutions").mkdir()
    (copy / "course.toml").write_text((ROOT / "course.toml").read_text())
    for path, content in generated_exercises(course).items():
        (copy / "exercises" / path.name).write_text(content)
        (copy / "solutions" / path.name).write_text((course.solutions_dir / path.name).read_text())
    (copy / "notebooks").mkdir()
    for path, content in generated_notebooks(course).items():
        (copy / "notebooks" / path.name).write_text(content)
    command = [sys.executable, "-m", "autograder", "--course", str(copy / "course.toml"), "build"]
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0
    (copy / "exercises" / "ex03_softmax.py").write_text("# edited by hand\n")
    result = subprocess.run([*command, "--check"], capture_output=True, text=True)
    assert result.returncode == 1 and "ex03_softmax.py: differs" in result.stdout
    subprocess.run(command, check=True, capture_output=True)
    assert subprocess.run([*command, "--check"], capture_output=True).returncode == 0


def _signatures(source: str) -> dict[str, tuple[str, str | None]]:
    functions = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)]
    return {f.name: (ast.unparse(f.args), ast.get_docstring(f)) for f in functions}


def test_stubs_keep_every_signature_and_docstring(course):
    for exercise in course.exercises:
        solution = (course.solutions_dir / exercise.filename).read_text()
        stub = (course.exercises_dir / exercise.filename).read_text()
        assert _signatures(stub) == _signatures(solution)
        assert set(exercise.functions) <= set(_signatures(stub)), exercise.id
        notes = ast.get_docstring(ast.parse(solution))
        assert ast.get_docstring(ast.parse(stub)).startswith(notes)  # and may say what it forbids
        assert len(ast.get_docstring(ast.parse(stub)).split()) > 60, (
            "teach the idea in the docstring"
        )


def test_no_solution_imports_another_exercise(course):
    modules = {e.module for e in course.exercises}
    for exercise in course.exercises:
        tree = ast.parse((course.solutions_dir / exercise.filename).read_text())
        imported = {
            a.name.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.Import)
            for a in n.names
        }
        imported |= {
            n.module.split(".")[0]
            for n in ast.walk(tree)
            if isinstance(n, ast.ImportFrom) and n.module
        }
        assert not imported & modules, f"{exercise.module} imports {imported & modules}"
        assert imported <= {"torch", "math"}, f"{exercise.module} imports {imported}"


def test_generated_stubs_count_as_no_work_and_solutions_as_work(course):
    # The grader prefers whichever of a module and a notebook is not still its stub.
    for exercise in course.exercises:
        stub = (course.exercises_dir / exercise.filename).read_text()
        notebook = notebook_module(
            (course.notebooks_dir / f"{exercise.module}.ipynb").read_text(), "stub.ipynb", []
        )
        solution = (course.solutions_dir / exercise.filename).read_text()
        assert notebook is not None
        assert not has_work(ast.parse(stub), exercise.functions), exercise.id
        assert not has_work(ast.parse(notebook.text), exercise.functions), exercise.id
        assert has_work(ast.parse(solution), exercise.functions), exercise.id


def test_each_stub_and_notebook_says_what_its_exercise_forbids(course):
    stubs = generated_exercises(course)
    notebooks = generated_notebooks(course)
    for exercise in course.exercises:
        docstring = ast.get_docstring(ast.parse(stubs[course.exercises_dir / exercise.filename]))
        notebook = notebooks[course.notebooks_dir / f"{exercise.module}.ipynb"]
        said = "Not allowed in this exercise" in docstring
        assert said == bool(exercise.forbidden), exercise.id
        assert ("Not allowed in this exercise" in notebook) == said, exercise.id
        for call in exercise.forbidden:
            shown = "the @ operator" if call == "@" else call
            assert shown in " ".join(docstring.split()), (exercise.id, call)


def test_a_closing_paragraph_needs_a_docstring_that_closes_on_its_own_line():
    assert with_closing_paragraph('"""Notes.\n"""\nx = 1\n', "More.") == (
        '"""Notes.\n\nMore.\n"""\nx = 1\n'
    )
    with pytest.raises(SolutionMarkupError, match="must end with a line"):
        with_closing_paragraph('"""Notes."""\nx = 1\n', "More.")
    with pytest.raises(SolutionMarkupError, match="must end with a line"):
        with_closing_paragraph("x = 1\n", "More.")

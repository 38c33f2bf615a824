"""The student release: what it holds, what it must never hold, and that it works on its own."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from autograder.build.exercises import generated_exercises
from autograder.build.release import ReleaseError, build_release, unshipped_imports
from autograder.build.stubs import find_regions, solution_body_lines
from autograder.course.config import Course, load_course
from tests.conftest import ROOT

STUDENT_MODULES = {
    "__init__.py",
    "course/__init__.py",
    "course/config.py",
    "course/examples.py",
    "course/forbidden.py",
    "course/independence.py",
    "course/ipython.py",
    "course/names.py",
    "course/source.py",
    "course/stubs.py",
    "student/__init__.py",
    "student/checks.py",
    "student/loader.py",
    "student/plugin.py",
    "student/scoreboard.py",
    "student/time_limit.py",
}


def _build_for_tests(course: Course, out: Path) -> Path:
    """The release, with the notebooks when they work with it alone (otherwise
    `test_the_notebooks_need_only_the_release` fails and says why)."""
    try:
        build_release(course, out)
    except ReleaseError as error:
        if "imports grader modules it does not ship" not in str(error):
            raise
        build_release(course, out, notebooks=False)
    return out


@pytest.fixture(scope="module")
def release(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build_for_tests(course, tmp_path_factory.mktemp("release") / "release")


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _hinted(source: str, filename: str) -> list[str]:
    return [region.hint for region in find_regions(source, filename)]


def solution_secrets() -> set[str]:
    """Every line of every solution body, except one its own hint publishes on purpose."""
    secrets = set()
    for path in sorted((ROOT / "solutions").glob("ex*.py")):
        source = path.read_text(encoding="utf-8")
        hints = _hinted(source, str(path))
        secrets |= {
            line
            for line in solution_body_lines(source, str(path))
            if not any(line in hint for hint in hints)
        }
    return secrets


def _test_names(folder: Path, pattern: str) -> set[str]:
    names = set()
    for path in sorted(folder.glob(pattern)):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                names.add(node.name)
    return names


def hidden_test_names() -> set[str]:
    """The hidden suites' test functions, less the names public tests share with them.

    Helpers (`check`, `describe`, ...) are not test names and are common words of the student
    modules too; a name a public test also uses (`test_no_forbidden_calls`) is public anyway.
    """
    hidden = {n for n in _test_names(ROOT / "autograder/suites", "test_*.py") if n[:5] == "test_"}
    return hidden - _test_names(ROOT / "exercises", "test_*.py")


def test_release_layout(release: Path, course: Course):
    names = {p.relative_to(release).as_posix() for p in _files(release)}
    expected_exercises = {f"exercises/{e.filename}" for e in course.exercises} | {
        f"exercises/test_{e.filename}" for e in course.exercises
    }
    assert expected_exercises <= names
    assert {"README.md", "pyproject.toml", "course.toml", ".gitignore"} <= names
    package = {n.removeprefix("src/autograder/") for n in names if n.startswith("src/")}
    assert package == STUDENT_MODULES
    assert not [n for n in names if n.split("/")[0] in ("solutions", "autograder", "tests")]
    assert not [n for n in names if "suites" in n or "__pycache__" in n or n.endswith(".pyc")]
    if (ROOT / ".github/workflows/classroom.yml").is_file():
        assert ".github/workflows/classroom.yml" in names
        assert not [n for n in names if n.startswith(".github/") and "classroom" not in n]


def test_the_notebooks_need_only_the_release(course: Course, tmp_path: Path):
    if not (ROOT / "notebooks").is_dir():
        pytest.skip("the course has no notebooks/")
    out = tmp_path / "release"
    build_release(course, out)  # ReleaseError: which notebook cell imports what it lacks
    notebooks = sorted(p.name for p in (out / "notebooks").iterdir())
    assert notebooks == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert (out / "experiments" / "why_attention.py").is_file()


def test_imports_of_modules_the_release_lacks_are_found(tmp_path: Path):
    (tmp_path / "a.py").write_text(
        "import autograder\nimport autograder.student.plugin\n"
        "from autograder.course import examples\nfrom autograder import grading\n"
        "import autograder.sandbox.pool as pool\nfrom autograder.studentish import x\n"
    )
    cell = {"cell_type": "code", "source": ["%matplotlib inline\n", "import autograder.reports"]}
    (tmp_path / "n.ipynb").write_text(json.dumps({"cells": [cell]}))
    assert unshipped_imports(tmp_path) == [
        "a.py:4: autograder.grading",
        "a.py:5: autograder.sandbox.pool",
        "a.py:6: autograder.studentish",
        "n.ipynb, code cell 1:2: autograder.reports",
    ]


def test_stubs_are_generated_and_public_tests_copied(release: Path, course: Course):
    for path, content in generated_exercises(course).items():
        assert (release / "exercises" / path.name).read_text(encoding="utf-8") == content
    for exercise in course.exercises:
        public = f"test_{exercise.filename}"
        assert (release / "exercises" / public).read_bytes() == (
            course.exercises_dir / public
        ).read_bytes()


def test_no_solution_line_anywhere(release: Path):
    secrets = solution_secrets()
    assert len(secrets) >= 25, "the solutions lost their bodies: this test would prove nothing"
    leaks = []
    for path in _files(release):
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
            leaks += [f"{path}: {line}" for line in secrets if line in text]
        except UnicodeDecodeError:
            leaks += [f"{path}: {line}" for line in secrets if line.encode() in data]
    assert not leaks


def test_no_hidden_test_name_anywhere(release: Path):
    names = hidden_test_names()
    assert len(names) >= 20, "no hidden test names found: this test would prove nothing"
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(names))) + r")\b")
    leaks = []
    for path in _files(release):
        text = path.read_bytes().decode("utf-8", errors="replace")  # binary: its ASCII runs
        leaks += [f"{path}: {m[0]}" for m in pattern.finditer(text)]
    assert not leaks


def test_course_toml_holds_only_what_the_checks_read(release: Path, course: Course):
    text = (release / "course.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    assert set(data) == {"course", "defaults", "exercises"}
    assert set(data["course"]) == {"name", "slug", "version", "exercises"}
    for entry in data["exercises"]:
        assert not set(entry) - {
            "id",
            *("module", "title", "functions", "points", "forbidden"),
            *("documents_atol", "tolerance"),
        }
    released = load_course(release / "course.toml")
    assert [(e.id, e.module, e.points, e.forbidden) for e in released.exercises] == [
        (e.id, e.module, e.points, e.forbidden) for e in course.exercises
    ]
    assert [e.tolerance for e in released.exercises] == [e.tolerance for e in course.exercises]


def test_pyproject_pins_torch_and_registers_the_plugin(release: Path):
    data = tomllib.loads((release / "pyproject.toml").read_text(encoding="utf-8"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "torch==2.13.0" in data["project"]["dependencies"]
    assert data["project"]["entry-points"]["pytest11"] == project["entry-points"]["pytest11"]
    assert data["tool"]["setuptools"]["packages"]["find"]["where"] == ["src"]
    assert "scripts" not in data["project"]  # no `autograder` command: there is nothing to grade


def test_readme_is_for_students(release: Path, course: Course):
    readme = (release / "README.md").read_text(encoding="utf-8")
    assert "pytest exercises" in readme and "pip install ." in readme
    assert f"pytest exercises/test_{course.exercises[0].module}.py" in readme
    for exercise in course.exercises:
        assert exercise.title in readme
    for instructor_word in (
        "solutions/",
        "autograder grade",
        "suites",
        "BEGIN SOLUTION",
        "nbgrader",
    ):
        assert instructor_word not in readme


def _course_copy(tmp_path: Path) -> Path:
    root = tmp_path / "course"
    for name in ("solutions", "exercises"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copyfile(ROOT / "course.toml", root / "course.toml")
    shutil.copyfile(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def test_test_points_and_notebooks(tmp_path: Path):
    root = _course_copy(tmp_path)
    text = (root / "course.toml").read_text(encoding="utf-8")
    marker = 'id = "softmax"\n'
    assert marker in text
    (root / "course.toml").write_text(
        text.replace(marker, marker + "test_points = { test_secret_softmax_weighting = 3 }\n"),
        encoding="utf-8",
    )
    (root / "notebooks").mkdir()
    (root / "notebooks" / "ex01_dot_scores.ipynb").write_text('{"cells": []}', encoding="utf-8")
    (root / "notebooks" / ".ipynb_checkpoints").mkdir()
    (root / "notebooks" / ".ipynb_checkpoints" / "x.ipynb").write_text("{}", encoding="utf-8")
    course = load_course(root / "course.toml")
    assert course.exercise("softmax").test_points  # the instructors' file has it...
    out = tmp_path / "release"
    build_release(course, out)
    released = (out / "course.toml").read_text(encoding="utf-8")
    assert "test_secret_softmax_weighting" not in released  # ...the students' does not
    assert [p.name for p in (out / "notebooks").rglob("*")] == ["ex01_dot_scores.ipynb"]
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "'.[notebooks]'" in readme
    assert "(the plot needs matplotlib,\nwhich `'.[notebooks]'` installs)" in readme
    extras = tomllib.loads((out / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "notebooks" in extras["optional-dependencies"]


def test_a_solved_notebook_stops_the_build(tmp_path: Path):
    root = _course_copy(tmp_path)
    solved = "    return torch.stack(hs, dim=-2), torch.stack(ys, dim=-2)\n"
    assert solved.strip() in solution_secrets()
    (root / "notebooks").mkdir()
    notebook = {"cells": [{"cell_type": "code", "source": ["def f():\n", solved]}]}
    (root / "notebooks" / "ex05_rnn_step.ipynb").write_text(json.dumps(notebook))
    out = tmp_path / "release"
    with pytest.raises(ReleaseError, match=r"notebooks/ex05_rnn_step.ipynb: return torch.stack"):
        build_release(load_course(root / "course.toml"), out)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["course"]  # no staging folder left behind


def test_refuses_a_non_empty_folder_unless_forced(tmp_path: Path, course: Course):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(ReleaseError, match="not empty"):
        build_release(course, out, notebooks=False)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    build_release(course, out, force=True, notebooks=False)
    assert not (out / "keep.txt").exists() and (out / "README.md").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    build_release(course, empty, notebooks=False)  # an empty folder needs no force
    (tmp_path / "file").write_text("x")
    with pytest.raises(ReleaseError, match="not a folder"):
        build_release(course, tmp_path / "file", force=True, notebooks=False)


def test_force_never_replaces_the_course_itself(tmp_path: Path):
    root = _course_copy(tmp_path)
    with pytest.raises(ReleaseError, match="holds the course itself"):
        build_release(load_course(root / "course.toml"), tmp_path, force=True)
    assert (root / "solutions").is_dir()


def _clean_env(venv: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        and not k.startswith(("PYTEST_", "COV_"))
    }
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


def _run(args: list[str | Path], cwd: Path, env: dict[str, str], timeout: float = 600):
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_release_works_alone_in_a_fresh_venv(tmp_path: Path, course: Course):
    """The real proof: only the release installed, `pytest exercises` shows the scoreboard."""
    release = _build_for_tests(course, tmp_path / "release")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = _clean_env(venv)
    install = _run([python, "-m", "pip", "install", "--no-input", release], tmp_path, env, 900)
    assert install.returncode == 0, install.stdout + install.stderr

    listed = _run([python, "-m", "pip", "list", "--format", "json"], tmp_path, env)
    installed = {p["name"].lower(): p["version"] for p in json.loads(listed.stdout)}
    assert installed["torch"].split("+")[0] == "2.13.0"
    assert not [name for name in installed if name.startswith("nvidia")], "a CUDA torch came in"
    assert "attention-course" not in installed  # the project itself is not installed

    probe = (
        "import importlib.util, autograder.student.plugin as p; print(p.__file__); "
        "print([m for m in ('autograder.grading', 'autograder.suites', 'autograder.sandbox') "
        "if importlib.util.find_spec(m)])"
    )
    where = _run([python, "-c", probe], release, env)
    assert where.returncode == 0, where.stderr
    plugin_file, shipped = where.stdout.splitlines()
    assert Path(plugin_file).is_relative_to(venv) and shipped == "[]"

    score = tmp_path / "score.json"
    stubs = _run([python, "-m", "pytest", "exercises", "--scoreboard-json", score], release, env)
    output = stubs.stdout + stubs.stderr
    assert stubs.returncode == 1, output
    assert f"{course.name}: public checks" in output
    assert output.count("not attempted") >= len(course.exercises) + 1  # each row, the summary
    total = f"{course.max_score:g}"
    assert f"Public checks: 0/{total} points" in output
    board = json.loads(score.read_text())
    assert [row["status"] for row in board["exercises"]] == ["not attempted"] * len(
        course.exercises
    )

    for exercise in course.exercises:
        shutil.copyfile(
            ROOT / "solutions" / exercise.filename, release / "exercises" / exercise.filename
        )
    solved = _run([python, "-m", "pytest", "exercises", "--scoreboard-json", score], release, env)
    output = solved.stdout + solved.stderr
    assert solved.returncode == 0, output
    assert f"Public checks: {total}/{total} points" in output
    assert [row["status"] for row in json.loads(score.read_text())["exercises"]] == ["done"] * len(
        course.exercises
    )

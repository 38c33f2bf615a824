"""Build the student release: what students get, and nothing of the grader's.

The release holds the exercise stubs (generated afresh from `solutions/`) and their public
tests, `notebooks/` and `experiments/` if the course has them, the GitHub Classroom workflow, a
generated README, a course.toml cut down to what the pytest plugin reads (no `test_points`: its
keys are hidden test names), and a minimal package under `src/` with only the student-facing
modules of `autograder` (`course/`, `student/`) and the pytest11 entry point behind `pytest
exercises`. The `src/` layout keeps `python -m pytest`, run from the release, on the installed
package rather than on a copy in the working directory.
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import autograder
from autograder.build.exercises import generated_exercises
from autograder.build.stubs import find_regions, solution_body_lines
from autograder.course.config import COURSE_FILE, Course, parse_course
from autograder.course.independence import COURSE_PACKAGE, imported_modules, optional_imports
from autograder.course.ipython import python_code
from autograder.course.source import UnreadableNotebook, notebook_code_cells, parse_source

PACKAGE_DIR = Path(autograder.__file__).resolve().parent
STUDENT_PACKAGES = ("course", "student")  # subpackages of autograder that students get
PLUGIN = "autograder.student.plugin"  # the pytest11 entry point, as in the project's pyproject
PLUGIN_NAME = "attention_course"
CLASSROOM_WORKFLOW = Path(".github/workflows/classroom.yml")
EXPERIMENTS = "experiments"
TORCH_PIN = "torch==2.13.0"
# What the student package needs (numpy only keeps torch from warning at import), and what the
# grader needs; the project's own pyproject, when found, gives the specifiers.
STUDENT_DEPENDENCIES = ("torch", "numpy", "pytest", "rich")
DEFAULT_DEPENDENCIES = (TORCH_PIN, "numpy", "pytest>=8", "pytest-timeout", "rich>=13")
_JUNK = ("__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".DS_Store")
_JUNK_SUFFIXES = (".pyc", ".pyo")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")

# course.toml keys the student plugin and the public tests read; everything else stays home.
_COURSE_KEYS = ("name", "slug", "version")
_DEFAULT_KEYS = ("time_limit_s", "memory_limit_mb", "documents_atol", "tolerance")  # all required
_EXERCISE_KEYS = (
    "id",
    "module",
    "title",
    "functions",
    "points",
    "forbidden",
    "documents_atol",
    "tolerance",
)


class ReleaseError(Exception):
    """The release cannot be built, or would leak; the message says why."""


def project_dependencies(root: Path) -> list[str]:
    """The `[project] dependencies` of the project's pyproject.toml (defaults without one)."""
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return list(DEFAULT_DEPENDENCIES)
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    dependencies = list(data.get("project", {}).get("dependencies", DEFAULT_DEPENDENCIES))
    if TORCH_PIN not in (d.replace(" ", "") for d in dependencies):
        raise ReleaseError(
            f"{pyproject}: the dependencies must pin {TORCH_PIN} exactly (got {dependencies}); "
            "a looser pin lets pip pull a multi-GB CUDA build"
        )
    return dependencies


def _notebook_extra(root: Path) -> list[str]:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        extra = data.get("project", {}).get("optional-dependencies", {}).get("notebooks")
        if extra:
            return list(extra)
    return ["ipykernel", "matplotlib"]


def toml_value(value: Any) -> str:
    """A TOML value: a string, number, boolean, array, or (for a mapping) an inline table."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    raise ReleaseError(f"course.toml: cannot write a value of type {type(value).__name__}")


def _toml_table(header: str, table: Mapping[str, Any]) -> list[str]:
    return [header, *(f"{key} = {toml_value(value)}" for key, value in table.items()), ""]


def student_course_toml(course: Course) -> str:
    """course.toml as students get it: metadata, defaults, and per exercise what checks read."""
    data = tomllib.loads((course.root / COURSE_FILE).read_text(encoding="utf-8"))

    def keep(table: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
        return {key: table[key] for key in keys if key in table}

    meta = keep(data["course"], _COURSE_KEYS) | {"exercises": "exercises"}
    lines = [
        f"# {course.name}: the course configuration the public checks read.",
        "# Generated by `autograder release`; it is not the instructors' course.toml.",
        "",
        *_toml_table("[course]", meta),
        *_toml_table("[defaults]", keep(data["defaults"], _DEFAULT_KEYS)),
    ]
    for exercise in data["exercises"]:
        lines += _toml_table("[[exercises]]", keep(exercise, _EXERCISE_KEYS))
    text = "\n".join(lines)
    parse_course(tomllib.loads(text), course.root)  # what we write must load
    return text


def _pyproject(course: Course, notebooks: bool) -> str:
    wanted = set(STUDENT_DEPENDENCIES)
    dependencies = [
        d for d in project_dependencies(course.root) if (m := _NAME.match(d)) and m[1] in wanted
    ]
    extras = ""
    if notebooks:
        extras = (
            "\n[project.optional-dependencies]\n"
            "# A Jupyter kernel for the notebooks: `python -m pip install '.[notebooks]'`.\n"
            f"notebooks = {toml_value(_notebook_extra(course.root))}\n"
        )
    return f"""\
# Installs what `pytest exercises` needs: PyTorch (CPU), pytest, and the course's pytest plugin.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {toml_value(f"{course.slug}-course-student")}
version = {toml_value(course.version)}
description = {toml_value(f"{course.name}: the exercises' public checks and scoreboard")}
requires-python = ">=3.11"
dependencies = {toml_value(dependencies)}
{extras}
# The plugin behind `pytest exercises`: --exercises-dir, "not attempted", the scoreboard.
[project.entry-points.pytest11]
{PLUGIN_NAME} = "{PLUGIN}"

[tool.setuptools.packages.find]
where = ["src"]
include = ["autograder*"]

[tool.pytest.ini_options]
testpaths = ["exercises"]
"""


def _readme(course: Course, notebooks: bool) -> str:
    rows = "\n".join(
        f"| {e.number} | `exercises/{e.filename}` | {e.title} | {e.points:g} |"
        for e in course.exercises
    )
    first = course.exercises[0]
    notebook_text = ""
    if notebooks:
        notebook_text = """
## Notebooks

`notebooks/` holds one notebook per exercise: the same lesson and functions, a cell to try them
on the documents' example, and the exercise's public checks. Open them in any Jupyter front end
(JupyterLab, for one: `python -m pip install jupyterlab`, then `jupyter lab`; or VS Code); for a
kernel with the course's packages, run `python -m pip install '.[notebooks]'` in the environment
above. `pytest exercises` checks the modules in `exercises/`, not the notebooks. Work on each
exercise in one place: when both its module and its notebook hold work, the module is graded
(the feedback says so), so leave the module untouched if you work in the notebook.

`experiments/why_attention.py` trains a plain RNN encoder-decoder, the same with Bahdanau
attention, and a small self-attention model on sequences of growing length, then plots their
accuracy and how the RNN's gradient fades with distance (about a minute on a laptop's CPU):
`python experiments/why_attention.py --out-png why_attention.png` (the plot needs matplotlib,
which `'.[notebooks]'` installs).
"""
    return f"""\
# {course.name}

Build attention mechanisms in PyTorch from their parts, one exercise at a time.

| # | module | what you build | points |
| --- | --- | --- | --- |
{rows}

## Install

With Python 3.11 or newer, in this folder:

```bash
python -m venv .venv
source .venv/bin/activate            # Windows: .venv\\Scripts\\activate
python -m pip install .              # PyTorch 2.13, pytest and the course's checks
```

On Linux, `python -m pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu`
first gets the small CPU build of PyTorch instead of the multi-GB CUDA one.

## Work through the exercises

```bash
pytest exercises                     # every exercise's public checks, and a scoreboard
pytest exercises/test_{first.module}.py   # one exercise at a time
```

Open `exercises/{first.filename}`, read the docstring, and replace each
`raise NotImplementedError("Hint: ...")` with your code. An exercise you have not started shows
as *not attempted*; a failing check says what it expected, what your code returned, and a hint.
A check still running after the exercise's time limit is stopped, and says where.
Edit only the `exNN_*.py` modules, not the `test_*.py` files.

The contract every function keeps: any number of leading batch dimensions, the input's dtype,
gradients flow through it, and its inputs are left unmodified. Every weight matrix is
`(in_features, out_features)`, applied as `x @ W`. Each exercise is graded on its own, so its
module may import torch, math and the standard library but not another exercise's module nor
the course's `autograder` package: copy what you need.
{notebook_text}
## Public checks and your grade

The public checks use the course documents' numbers and a few properties. When you submit, more
tests grade your work on many more inputs (batches, float64, extreme values, masks, gradients),
so passing every public check is not yet full marks.
"""


def is_junk(path: Path) -> bool:
    """Caches and editor droppings, never shipped."""
    return any(part in _JUNK for part in path.parts) or path.suffix in _JUNK_SUFFIXES


def _copy_tree(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_file() and not is_junk(relative):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, target / relative)


def _imported(source: str) -> list[tuple[int, str]]:
    """(line, module) of every absolute import in `source` that it cannot do without; [] if it
    does not parse."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return []
    optional = optional_imports(tree, as_main=True)  # notebooks and scripts run as __main__
    return imported_modules(tree, skip=optional, packages=(COURSE_PACKAGE,))


def _code_cells(notebook: Path) -> list[str]:
    """The Python code of the notebook's code cells, magics dropped ([] if not a notebook)."""
    try:
        sources = notebook_code_cells(notebook.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, UnreadableNotebook):
        return []
    return [python_code(source)[0] for source in sources]


def unshipped_imports(folder: Path) -> list[str]:
    """Imports of `autograder` modules the release does not ship, in its Python files and
    notebooks' code cells, as `file[, cell N]:line: module`. Each would fail for a student."""
    shipped = tuple(f"{COURSE_PACKAGE}.{name}" for name in STUDENT_PACKAGES)
    sources: list[tuple[str, str]] = []
    for path in sorted(folder.rglob("*.py")):
        sources.append((str(path.relative_to(folder)), path.read_text(encoding="utf-8")))
    for path in sorted(folder.rglob("*.ipynb")):
        for number, cell in enumerate(_code_cells(path), start=1):
            sources.append((f"{path.relative_to(folder)}, code cell {number}", cell))
    return [
        f"{where}:{line}: {module}"
        for where, source in sources
        for line, module in _imported(source)
        if module.split(".")[0] == COURSE_PACKAGE
        and module not in (COURSE_PACKAGE, *shipped)
        and not module.startswith(tuple(f"{m}." for m in shipped))
    ]


def _write_package(target: Path) -> None:
    target.mkdir(parents=True)
    shutil.copyfile(PACKAGE_DIR / "__init__.py", target / "__init__.py")
    for name in STUDENT_PACKAGES:
        _copy_tree(PACKAGE_DIR / name, target / name)


def solution_secrets(course: Course) -> set[str]:
    """The lines of the reference solutions' bodies, less those a hint gives away on purpose
    (a body line that its region's hint quotes is published in the stub)."""
    secrets = set()
    for exercise in course.exercises:
        path = course.solutions_dir / exercise.filename
        source = path.read_text(encoding="utf-8")
        hints = [region.hint for region in find_regions(source, str(path))]
        body = solution_body_lines(source, str(path))
        secrets.update(line for line in body if not any(line in hint for hint in hints))
    return secrets


def find_solution_code(course: Course, folder: Path) -> list[str]:
    """Where a secret line of a reference solution appears in `folder`, as `file: line`."""
    secrets = sorted(solution_secrets(course))
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += [
            f"{path.relative_to(folder)}: {line}" for line in secrets if line.encode() in data
        ]
    return found


def _prepare_target(out: Path, course: Course, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ReleaseError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise ReleaseError(
                f"{out}: the folder is not empty; give an empty or new folder "
                "(or force, which replaces its contents)"
            )
        if course.root.resolve().is_relative_to(out.resolve()):
            raise ReleaseError(f"{out}: holds the course itself; refusing to replace it")


def _build(course: Course, staging: Path, notebooks: bool) -> None:
    exercises = staging / "exercises"
    exercises.mkdir()
    stubs = generated_exercises(course)
    for path in sorted(course.exercises_dir.iterdir()):
        if path.is_file() and path not in stubs and not is_junk(Path(path.name)):
            shutil.copyfile(path, exercises / path.name)  # public tests (and their helpers)
    for path, content in stubs.items():
        (exercises / path.name).write_text(content, encoding="utf-8")
    if notebooks and course.notebooks_dir.is_dir():
        _copy_tree(course.notebooks_dir, staging / "notebooks")
    if (course.root / EXPERIMENTS).is_dir():  # scripts students run, e.g. why attention won
        _copy_tree(course.root / EXPERIMENTS, staging / EXPERIMENTS)
    has_notebooks = (staging / "notebooks").is_dir()
    workflow = course.root / CLASSROOM_WORKFLOW
    if workflow.is_file():  # GitHub Classroom runs it in each student's repository
        (staging / CLASSROOM_WORKFLOW).parent.mkdir(parents=True)
        shutil.copyfile(workflow, staging / CLASSROOM_WORKFLOW)
    _write_package(staging / "src" / "autograder")
    (staging / COURSE_FILE).write_text(student_course_toml(course), encoding="utf-8")
    (staging / "pyproject.toml").write_text(_pyproject(course, has_notebooks), encoding="utf-8")
    (staging / "README.md").write_text(_readme(course, has_notebooks), encoding="utf-8")
    (staging / ".gitignore").write_text(
        "__pycache__/\n*.egg-info/\n/build/\n.venv/\n.pytest_cache/\nscore.json\n",
        encoding="utf-8",
    )


def build_release(
    course: Course, out: Path, *, force: bool = False, notebooks: bool = True
) -> list[Path]:
    """Write the student release into `out` (new or empty; `force` replaces what it holds).

    `notebooks`: include the course's `notebooks/`, if it has one. Built in a staging folder
    beside `out`, then checked for solution code and for imports of modules it does not ship,
    so a failed build leaves `out` as it was. Returns the files written, relative to `out`.
    """
    out = Path(out)
    _prepare_target(out, course, force)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _build(course, staging, notebooks)
        leaks = find_solution_code(course, staging)
        if leaks:
            raise ReleaseError(
                "the release would contain reference solution code:\n  " + "\n  ".join(leaks)
            )
        missing = unshipped_imports(staging)
        if missing:
            raise ReleaseError(
                "the release imports grader modules it does not ship (only "
                f"{', '.join(f'autograder.{n}' for n in STUDENT_PACKAGES)}), which would fail "
                "for students:\n  " + "\n  ".join(missing)
            )
        for path in (staging, *staging.rglob("*")):  # mkdtemp made it private
            path.chmod(0o755 if path.is_dir() else 0o644)
        if out.is_dir():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())

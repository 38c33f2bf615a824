"""An nbgrader course directory built from the single source.

`autograder nbgrader COURSE_DIR` writes the course directory from the reference solutions,
course.toml and the documents' examples:

    COURSE_DIR/nbgrader_config.py                       course id, timeouts, feedback settings
    COURSE_DIR/source/<assignment>/<assignment>.ipynb   one assignment per exercise
    COURSE_DIR/source/<assignment>/test_<assignment>.py its public tests, from exercises/
    COURSE_DIR/source/<assignment>/course.toml          what they read (the students' version)

Run again, it replaces what it wrote before (after a change to course.toml or a solution) but
refuses to replace a file edited by hand since, unless given `--force`: `MANIFEST` records what
it wrote (see `edited_files`).

An assignment is named after its exercise's module (`ex03_softmax`) and holds one notebook, the
exercise notebook of `autograder.build.notebooks` with nbgrader's cell metadata (schema 3, as
nbgrader 0.9 reads it): the teaching notes, setup, "try it" and heatmap cells are locked; the
exercise cell is a solution cell that keeps the `### BEGIN SOLUTION` / `### END SOLUTION`
markers for `nbgrader generate_assignment` to replace, its `# Hint:` line moved above the
markers so that the released stub keeps it; the last cell is the grade cell, worth the
exercise's points. Its visible part runs the public tests with pytest, as the students'
notebooks do (nbgrader copies the assignment's other files next to the notebook everywhere:
release, submission, autograde); it imports only student packages, since students run it
too. Its hidden part (`### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`), which only
autograde runs, on the instructors' side, grades the code run before it with this project's
hidden suite (`autograder.grading.nbgrader_bridge.hidden_score`) and ends with that score,
which nbgrader takes as partial credit.

nbgrader quirks this relies on or works around (0.9.6):
- a grade cell with any stderr output scores 0 (`utils.determine_grade`): the bridge catches
  stderr and warnings;
- a grade cell whose last output is a number scores that number (partial credit);
- `generate_feedback` shows hidden tests, which `autograde` restores, unless told otherwise:
  the config adds `ClearHiddenTests` to `GenerateFeedback.preprocessors`;
- a cell times out after 30 s by default; grading runs a fresh process, so allow more;
- `CourseDirectory.db_assignments` and `db_students` no longer exist: `generate_assignment`
  creates the assignment in the gradebook, `autograde` the student.

Scores reach nbgrader's gradebook through `autograder.reports.nbgrader_gradebook`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from autograder.build.generated import write_changed
from autograder.build.notebooks import (
    CellSpec,
    checks_code,
    exercise_cells,
    make_notebook,
    notebook_text,
)
from autograder.build.stubs import find_regions
from autograder.course.config import COURSE_FILE, Course, Exercise
from autograder.reports.nbgrader_gradebook import CONFIG_FILE, assignment_name, grade_cell_id

NBGRADER_DIR = "nbgrader"
MANIFEST = ".autograder-generated.json"  # in the course directory: what was written, hashed
HIDDEN_BEGIN, HIDDEN_END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
SCHEMA_VERSION = 3  # nbgrader 0.9's cell metadata schema
EXECUTE_TIMEOUT_S = 600  # a grade cell starts a grading process: more than nbgrader's 30 s


def hoist_hints(source: str, filename: str = "<solution>") -> str:
    """Move each solution region's `# Hint:` line just above its `### BEGIN SOLUTION`, so that
    nbgrader's ClearSolutions, which replaces whole regions, leaves the hint in the stub."""
    lines = source.splitlines()
    for region in find_regions(source, filename):
        lines[region.begin], lines[region.begin + 1] = lines[region.begin + 1], lines[region.begin]
    return "\n".join(lines) + ("\n" if source.endswith("\n") else "")


def public_tests_file(exercise: Exercise) -> str:
    """The public test file shipped in the exercise's assignment folder."""
    return f"test_{exercise.module}.py"


def _grade_cell(exercise: Exercise) -> str:
    """Visible: the public checks (student packages only: it is what students run). Hidden, and
    run only by autograde on the instructors' side: the hidden score, the cell's last value."""
    visible = checks_code(exercise, public_tests_file(exercise), graded=True)
    return (
        f"# Autograder tests ({exercise.points:g} points).\n"
        f"{visible}\n"
        f"{HIDDEN_BEGIN}\n"
        "from autograder.grading.nbgrader_bridge import executed_cells, hidden_score\n\n"
        f"hidden_score(executed_cells(), {json.dumps(exercise.module)})\n"
        f"{HIDDEN_END}"
    )


def _metadata(exercise: Exercise, role: str) -> dict[str, Any]:
    solution = role == "exercise"
    grade = role == "checks"
    metadata: dict[str, Any] = {
        "grade": grade,
        "grade_id": grade_cell_id(exercise) if grade else f"{exercise.id}_{role}",
        "locked": not solution,
        "schema_version": SCHEMA_VERSION,
        "solution": solution,
    }
    if grade:
        metadata["points"] = exercise.points
    return {"nbgrader": metadata}


def source_cells(course: Course, exercise: Exercise) -> list[CellSpec]:
    """The cells of the exercise's nbgrader source notebook (solutions and hidden tests in)."""
    filename = str(course.solutions_dir / exercise.filename)
    cells = []
    for cell in exercise_cells(course, exercise, reference=True):
        if cell.role == "exercise":
            cell = CellSpec(cell.role, cell.cell_type, hoist_hints(cell.source, filename))
        elif cell.role == "checks":
            cell = CellSpec(cell.role, cell.cell_type, _grade_cell(exercise))
        cells.append(cell)
    return cells


def source_notebook(course: Course, exercise: Exercise) -> str:
    """The exercise's nbgrader source notebook as JSON text."""
    cells = source_cells(course, exercise)
    metadata = {i: _metadata(exercise, cell.role) for i, cell in enumerate(cells)}
    return notebook_text(make_notebook(exercise, cells, metadata))


def nbgrader_config(course: Course) -> str:
    """The text of `nbgrader_config.py` for this course."""
    assignments = "\n".join(f"#   {assignment_name(e)}" for e in course.exercises)
    return f'''"""nbgrader's configuration for "{course.name}" ({course.version}).

Generated by `autograder nbgrader` from course.toml. Run again, it refuses to replace this
file once edited, unless given --force.
"""

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

c = get_config()  # noqa: F821 (defined by the loader)

c.CourseDirectory.course_id = {json.dumps(course.slug)}

# One assignment per exercise, one notebook each (`nbgrader generate_assignment NAME` adds it to
# the gradebook):
{assignments}

# A grade cell grades the notebook's code in a fresh process: allow more than nbgrader's 30 s.
c.Execute.timeout = {EXECUTE_TIMEOUT_S}

# `autograde` restores the hidden tests into the graded notebooks, and nbgrader's feedback shows
# them by default: remove them from the feedback.
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
'''


def nbgrader_dir(course: Course) -> Path:
    """The default nbgrader course directory: `nbgrader/` next to course.toml."""
    return course.root / NBGRADER_DIR


def generated_nbgrader_course(course: Course, root: Path | None = None) -> dict[Path, str]:
    """Every file `autograder nbgrader` writes into the nbgrader course directory `root`."""
    root = root or nbgrader_dir(course)
    from autograder.build.release import student_course_toml

    files = {root / CONFIG_FILE: nbgrader_config(course)}
    students_toml = student_course_toml(course)
    for exercise in course.exercises:
        folder = root / "source" / assignment_name(exercise)
        files[folder / f"{assignment_name(exercise)}.ipynb"] = source_notebook(course, exercise)
        tests = public_tests_file(exercise)
        files[folder / tests] = (course.exercises_dir / tests).read_text(encoding="utf-8")
        files[folder / COURSE_FILE] = students_toml
    return files


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _manifest(root: Path) -> dict[str, str]:
    """What `write_nbgrader_course` last wrote into `root`: relative path -> sha256 ({} if
    unknown)."""
    try:
        recorded = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


def edited_files(course: Course, root: Path | None = None) -> list[Path]:
    """The files in the course directory that writing it would replace, and that were edited by
    hand since it was last written: neither what it writes now nor what it wrote then (a file
    it wrote from an older course.toml or solution is simply replaced)."""
    root = root or nbgrader_dir(course)
    written = _manifest(root)
    edited = []
    for path, content in generated_nbgrader_course(course, root).items():
        if not path.exists():
            continue
        current = _digest(path.read_bytes()) if path.is_file() else None
        if current not in (_digest(content.encode()), written.get(_relative(path, root))):
            edited.append(path)
    return edited


def write_nbgrader_course(course: Course, root: Path | None = None) -> list[Path]:
    """Write the nbgrader course directory's generated files, and the manifest of what was
    written (see `edited_files`); returns the paths that changed."""
    root = root or nbgrader_dir(course)
    files = generated_nbgrader_course(course, root)
    # Byte for byte, as `edited_files` compares them with the digests recorded here.
    changed = write_changed(files, byte_exact=True)
    written = {_relative(path, root): _digest(content.encode()) for path, content in files.items()}
    (root / MANIFEST).write_text(json.dumps(written, indent=1, sort_keys=True), encoding="utf-8")
    return changed


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix()

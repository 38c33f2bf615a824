"""Read what a student handed in, without running it, into one source text per exercise module.

Accepted: a folder laid out like `exercises/` (nbgrader's `submitted/<student>/<assignment>/`
is one), a single `.py` file, or a Jupyter notebook. A folder may also be wrapped in folders
that hold nothing else (a student zipped the folder rather than its files), or be a whole copy
of the student release (a GitHub repository), whose `exercises/` and `notebooks/` are read.
A notebook, or a file whose name is not an exercise module, serves the exercise it is named
after (`ex03_softmax.ipynb`), or else every exercise whose functions it defines: the others are
not submitted. When two files serve one exercise, a module file comes before a notebook, but a
file still as its stub never hides one with work in it. Sources are copied into a private
folder the workers import from; the submission is never written to.

A notebook becomes one module of its code cells, each after a `# --- code cell N` line, and
`ModuleSource.cells` says where each cell starts: a worker runs a notebook cell by cell, as
nbgrader's autograde does, so a cell that raises (a plot the sandbox cannot draw) or runs too
long stops there and is reported, and the cells after it still run, instead of costing the
whole exercise.

Problems are collected as messages naming the file (a symlink out of the submission, a file over
the size cap, text that is not UTF-8), never raised: the rest of the submission is still graded.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.config import Course
from autograder.course.ipython import python_code
from autograder.course.source import UnreadableNotebook, notebook_code_cells, parse_source
from autograder.course.stubs import has_work
from autograder.files import FileTooLarge, NotARegularFile, read_capped
from autograder.sandbox.spec import CodeCell

MAX_FILE_BYTES = 1_000_000  # a module, or the code of a notebook
MAX_NOTEBOOK_BYTES = 20 * 2**20  # a notebook file, outputs (plots...) included
MAX_NOTEBOOKS = 40  # read in one folder: a notebook per exercise, and then some
MAX_ERRORS = 50  # problems with a submission's files named in its report


@dataclass(frozen=True)
class ModuleSource:
    """One exercise module's code, and the file it came from as the student named it."""

    text: str
    file: str  # `ex03_softmax.py`, `work.ipynb`
    cells: tuple[CodeCell, ...] = ()  # a notebook's code cells, where each starts in `text`


@dataclass
class Submission:
    """The source of each exercise module found, and what was wrong with the rest."""

    modules: dict[str, ModuleSource] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    # for a module not found, a file that defines its functions under another name
    misnamed: dict[str, str] = field(default_factory=dict)
    # module -> why other files with work for it were not graded
    set_aside: dict[str, str] = field(default_factory=dict)


def _read_text(path: Path, root: Path, errors: list[str]) -> str | None:
    shown = path.name if path == root else str(path.relative_to(root))
    if path.is_symlink():
        target = path.resolve()
        if root.is_dir() and not target.is_relative_to(root.resolve()):
            errors.append(f"{shown}: a symlink pointing outside the submission, refused")
            return None
    limit = MAX_NOTEBOOK_BYTES if path.suffix == ".ipynb" else MAX_FILE_BYTES
    try:
        # "-sig": without the byte-order mark some editors write, which Python ignores too
        return read_capped(path, limit, follow_symlinks=True).decode("utf-8-sig")
    except NotARegularFile:
        errors.append(f"{shown}: not a regular file; not graded")
    except FileTooLarge as error:
        errors.append(f"{shown}: {error.size} bytes, over the {limit}-byte limit; not graded")
    except UnicodeDecodeError as error:
        errors.append(f"{shown}: not UTF-8 text (byte {error.start}); save it as UTF-8")
    except OSError as error:
        errors.append(f"{shown}: cannot be read ({error.strerror})")
    return None


def notebook_module(text: str, shown: str, errors: list[str]) -> ModuleSource | None:
    """The code cells of a notebook joined into a module, IPython magics and shell lines
    dropped, and cells that do not parse left out (each named in `errors`)."""
    try:
        sources = notebook_code_cells(text)
    except UnreadableNotebook:
        errors.append(f"{shown}: not a readable Jupyter notebook")
        return None
    kept: list[str] = []
    starts: list[CodeCell] = []
    next_line = 1
    for number, source in enumerate(sources, start=1):
        code, dropped = python_code(source)
        errors.extend(
            f"{shown}, code cell {number}, line {load.line}: `{load.text}` was not run (the "
            "grader runs only the notebook's own code): copy what it defines into the notebook"
            for load in dropped
        )
        try:
            name = f"{shown} cell {number}"
            compile(parse_source(code, name), name, "exec", dont_inherit=True)
        except (RecursionError, MemoryError):  # compiling a tree the parser could read
            errors.append(f"{shown}, code cell {number}: nested too deeply to read; cell skipped")
            continue
        except SyntaxError as error:
            line = f", line {error.lineno}" if error.lineno else ""
            errors.append(f"{shown}, code cell {number}{line}: {error.msg}; cell skipped")
            continue
        piece = f"# --- code cell {number}\n{code}"
        kept.append(piece)
        starts.append(CodeCell(number, next_line))
        next_line += piece.count("\n") + 2  # its lines, and the blank line joining the next
    module = "\n\n".join(kept) + "\n"
    if len(module) > MAX_FILE_BYTES:
        errors.append(
            f"{shown}: {len(module)} characters of code, over the {MAX_FILE_BYTES} limit; "
            "not graded"
        )
        return None
    return ModuleSource(module, shown, tuple(starts))


def _defined_names(tree: ast.Module) -> set[str]:
    """Every name a module binds (functions, classes, assignments, imports), at any depth."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.split(".")[0])
    return names


def _served_modules(path: Path, source: str, course: Course, errors: list[str]) -> list[str]:
    """The exercise modules a whole-file source (a notebook, or a module named otherwise)
    stands for: the one it is named after, else those whose functions it defines. A source
    that does not parse stands for none, and says so under its own name."""
    named = [e.module for e in course.exercises if e.module == path.stem]
    if named:
        return named
    try:
        names = _defined_names(parse_source(source))
    except SyntaxError as error:
        where = f" (line {error.lineno}, column {error.offset})" if error.lineno else ""
        errors.append(f"{path.name} does not parse{where}: {error.msg}")
        return []
    served = [e.module for e in course.exercises if names & set(e.functions)]
    if not served:
        wanted = ", ".join(f for e in course.exercises for f in e.functions[:1])
        errors.append(f"{path.name}: defines none of the course's functions ({wanted})")
    return served


def _notebook_sources(
    path: Path, text: str, course: Course, errors: list[str]
) -> list[tuple[str, ModuleSource]]:
    """The exercise modules a notebook serves, each with the notebook's code."""
    notebook = notebook_module(text, path.name, errors)
    if notebook is None:
        return []
    return [(module, notebook) for module in _served_modules(path, notebook.text, course, errors)]


def _has_work(source: ModuleSource, functions: tuple[str, ...]) -> bool:
    try:
        return has_work(parse_source(source.text), functions)
    except SyntaxError:
        return True  # an attempt, if a broken one: the worker will say where


def _chosen(sources: list[ModuleSource], functions: tuple[str, ...]) -> ModuleSource:
    """The first of the sources found for one exercise that is not still its stub."""
    if len(sources) > 1:
        return next((s for s in sources if _has_work(s, functions)), sources[0])
    return sources[0]


def load_submission(path: Path, course: Course) -> Submission:
    """Everything gradable in `path`; `errors` says what was not and why."""
    submission = Submission()
    try:
        _load(path, course, submission)
    except OSError as error:  # what the file system refuses beyond an unlistable folder
        where = error.filename or path
        submission.errors.append(f"{where}: cannot be read ({error.strerror or error})")
    return submission


def _load(path: Path, course: Course, submission: Submission) -> None:
    """Add what is gradable in `path` to `submission`, and what is not to its errors."""
    modules = {e.filename: e.module for e in course.exercises}
    if not path.exists():
        submission.errors.append(f"{path}: no such file or folder")
        return
    if not path.is_dir():
        text = _read_text(path, path, submission.errors)
        if text is None:
            return
        if path.name in modules:
            submission.modules[modules[path.name]] = ModuleSource(text, path.name)
        elif path.suffix == ".py":
            for module in _served_modules(path, text, course, submission.errors):
                submission.modules[module] = ModuleSource(text, path.name)
        elif path.suffix == ".ipynb":
            submission.modules |= _notebook_sources(path, text, course, submission.errors)
        else:
            submission.errors.append(f"{path.name}: expected a .py module or a .ipynb notebook")
        return
    layout = (course.exercises_dir.name, course.notebooks_dir.name)
    modules_set = {e.module for e in course.exercises}
    found: dict[str, list[ModuleSource]] = {}  # in order of preference
    folders = _work_folders(path, modules, layout, submission.errors)
    for folder in folders:
        entries = _visible(folder, submission.errors)
        for entry in entries:
            if entry.name in modules:
                text = _read_text(entry, path, submission.errors)
                if text is not None:
                    found.setdefault(modules[entry.name], []).append(ModuleSource(text, entry.name))
        notebooks = sorted(
            (e for e in entries if e.suffix == ".ipynb"), key=lambda e: e.stem not in modules_set
        )
        if len(notebooks) > MAX_NOTEBOOKS:
            shown = folder.relative_to(path) if folder != path else Path(path.name)
            submission.errors.append(
                f"{shown}: {len(notebooks)} notebooks; only {MAX_NOTEBOOKS} were read, those "
                "named after an exercise first"
            )
        for notebook in notebooks[:MAX_NOTEBOOKS]:
            text = _read_text(notebook, path, submission.errors)
            if text is not None:
                for module, source in _notebook_sources(notebook, text, course, submission.errors):
                    found.setdefault(module, []).append(source)
    functions = {e.module: e.functions for e in course.exercises}
    for module, sources in found.items():
        chosen = submission.modules[module] = _chosen(sources, functions[module])
        others = [s.file for s in sources if s is not chosen and _has_work(s, functions[module])]
        if others:
            submission.set_aside[module] = (
                f"{' and '.join(others)} {'has' if len(others) == 1 else 'have'} work for this "
                f"exercise too, but {chosen.file} was graded (a module comes first, unless it is "
                "still the stub)"
            )
    missing = {e.module: e.functions for e in course.exercises if e.module not in found}
    if missing:
        strays = [e for f in folders for e in _visible(f, submission.errors) if e.suffix == ".py"]
        submission.misnamed = _misnamed(strays, missing, path)
    if not submission.modules and not submission.errors:
        listed = ", ".join(sorted(modules)[:3])
        submission.errors.append(
            f"{path}: no exercise module found (expected files like {listed}, or a notebook)"
            + _elsewhere(path, modules, submission.errors)
        )
    if len(submission.errors) > MAX_ERRORS:
        more = len(submission.errors) - MAX_ERRORS
        submission.errors[MAX_ERRORS:] = [f"... and {more} more problems with its files"]


MAX_STRAY_FILES = 50  # other modules of a submission read for `_misnamed`'s hint


def _misnamed(files: list[Path], missing: dict[str, tuple[str, ...]], root: Path) -> dict[str, str]:
    """For each missing module, the first of `files` (modules named otherwise: `Softmax.py`,
    `ex03_softmax (1).py`) that defines one of its functions at its top level, as a hint for
    the student. A hint only: the text is searched, not parsed, and only so many files."""
    found: dict[str, str] = {}
    for file in files[:MAX_STRAY_FILES]:
        text = _read_text(file, root, []) or ""
        for module, functions in missing.items():
            names = "|".join(map(re.escape, functions))
            if module not in found and re.search(rf"^(async\s+)?def\s+({names})\b", text, re.M):
                found[module] = file.name
    return found


_WRAPPER_DEPTH = 3  # `submission/attention-course/exercises/`, at the most
_ZIP_LEFTOVERS = frozenset({"__MACOSX"})  # what macOS's zip adds beside the folder it packs


def _visible(folder: Path, errors: list[str]) -> list[Path]:
    """The entries of `folder` but hidden ones; none if it cannot be listed (said in `errors`,
    once), so that the rest of the submission is still graded."""
    try:
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as error:
        problem = f"{folder}: cannot be read ({error.strerror or error})"
        if problem not in errors:
            errors.append(problem)
        return []


def _holds_work(folder: Path, modules: dict[str, str], errors: list[str]) -> bool:
    return any(p.name in modules or p.suffix == ".ipynb" for p in _visible(folder, errors))


def _inside(folder: Path, path: Path) -> bool:
    """Whether `folder` is in the submission at `path` (not a symlink out of it)."""
    return folder.is_dir() and folder.resolve().is_relative_to(path.resolve())


def _work_folders(
    path: Path, modules: dict[str, str], layout: tuple[str, ...], errors: list[str]
) -> list[Path]:
    """The folders of the submission at `path` that hold the work: `path`; else, while a
    folder holds no exercise file and only one folder (besides a zip tool's leftovers), that
    one; else that folder's `layout` subfolders (a copy of the release: exercises/, notebooks/)
    that hold exercise files."""
    folder = path
    for _ in range(_WRAPPER_DEPTH):
        if _holds_work(folder, modules, errors):
            return [folder]
        inner = [p for p in _visible(folder, errors) if p.name not in _ZIP_LEFTOVERS]
        if len(inner) != 1 or not _inside(inner[0], path):
            break
        folder = inner[0]
    subfolders = [folder / name for name in layout]
    held = [f for f in subfolders if _inside(f, path) and _holds_work(f, modules, errors)]
    return held or [folder]


def _elsewhere(path: Path, modules: dict[str, str], errors: list[str]) -> str:
    """Where exercise files sit one folder down, for a submission with none at its top."""
    found = [
        p.name
        for p in _visible(path, errors)
        if _inside(p, path) and _holds_work(p, modules, errors)
    ]
    if not found:
        return ""
    folders = " and ".join(f"{name}/" for name in found)
    return f"; exercise files are in {folders}: hand in the files, not a folder around them"


def materialise(submission: Submission, folder: Path, *, for_other_user: bool) -> dict[str, Path]:
    """Write each module's source into `folder`; returns their paths. With `for_other_user`
    (workers run as another user) the folder can be traversed but not listed, and its files
    read, so that a worker reaches its own module (Landlock lets it read that file only);
    otherwise both stay the grader's own, out of other users' reach."""
    folder.chmod(0o711 if for_other_user else 0o700)
    paths = {}
    for module, source in submission.modules.items():
        target = folder / f"{module}.py"
        target.write_text(source.text, encoding="utf-8")
        target.chmod(0o644 if for_other_user else 0o600)
        paths[module] = target
    return paths

"""Read what a student handed in, without running it, into one source text per exercise module.

Accepted: a folder laid out like `exercises/` (nbgrader's `submitted/<student>/<assignment>/`
is such a folder too), a single `.py` file, or a Jupyter notebook. A notebook, or a file whose
name is not an exercise module, serves the exercise it is named after (`ex03_softmax.ipynb`), or
else every exercise whose functions it defines: the others are not submitted. Sources are copied
into a private folder the workers import from; the submission is never written to.

Problems are collected as messages naming the file (a symlink out of the submission, a file over
the size cap, text that is not UTF-8), never raised: the rest of the submission is still graded.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.config import Course

MAX_FILE_BYTES = 1_000_000
_MAGIC = re.compile(r"^\s*[%!]")


@dataclass
class Submission:
    """The source of each exercise module found, and what was wrong with the rest."""

    name: str
    sources: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def _read_text(path: Path, root: Path, errors: list[str]) -> str | None:
    shown = path.name if path == root else str(path.relative_to(root))
    if path.is_symlink():
        target = path.resolve()
        if root.is_dir() and not target.is_relative_to(root.resolve()):
            errors.append(f"{shown}: a symlink pointing outside the submission, refused")
            return None
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.append(
                f"{shown}: {size} bytes, over the {MAX_FILE_BYTES}-byte limit; not graded"
            )
            return None
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        errors.append(f"{shown}: not UTF-8 text (byte {error.start}); save it as UTF-8")
    except OSError as error:
        errors.append(f"{shown}: cannot be read ({error.strerror})")
    return None


def notebook_source(text: str, shown: str, errors: list[str]) -> str | None:
    """The code cells of a notebook joined into a module, IPython magics and shell lines dropped."""
    try:
        cells = json.loads(text)["cells"]
        sources = [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c.get("cell_type") == "code"
        ]
    except (ValueError, KeyError, TypeError):
        errors.append(f"{shown}: not a readable Jupyter notebook")
        return None
    kept = []
    for number, source in enumerate(sources, start=1):
        code = "\n".join(line for line in source.splitlines() if not _MAGIC.match(line))
        try:
            compile(code, f"{shown} cell {number}", "exec", dont_inherit=True)
        except SyntaxError as error:
            errors.append(
                f"{shown}, code cell {number}, line {error.lineno}: {error.msg}; cell skipped"
            )
            continue
        kept.append(f"# --- code cell {number}\n{code}")
    return "\n\n".join(kept) + "\n"


def _whole_module(path: Path, text: str, errors: list[str]) -> str | None:
    return notebook_source(text, path.name, errors) if path.suffix == ".ipynb" else text


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
        names = _defined_names(ast.parse(source))
    except SyntaxError as error:
        where = f"line {error.lineno}, column {error.offset}"
        errors.append(f"{path.name} does not parse ({where}): {error.msg}")
        return []
    served = [e.module for e in course.exercises if names & set(e.functions)]
    if not served:
        wanted = ", ".join(f for e in course.exercises for f in e.functions[:1])
        errors.append(f"{path.name}: defines none of the course's functions ({wanted})")
    return served


def load_submission(path: Path, course: Course) -> Submission:
    """Everything gradable in `path`; `errors` says what was not and why."""
    submission = Submission(name=path.name)
    modules = {e.filename: e.module for e in course.exercises}
    if not path.exists():
        submission.errors.append(f"{path}: no such file or folder")
        return submission
    if path.is_file():
        text = _read_text(path, path, submission.errors)
        if text is None:
            return submission
        if path.name in modules:
            submission.sources[modules[path.name]] = text
        elif path.suffix in (".py", ".ipynb"):
            source = _whole_module(path, text, submission.errors)
            if source is not None:
                served = _served_modules(path, source, course, submission.errors)
                submission.sources = dict.fromkeys(served, source)
        else:
            submission.errors.append(f"{path.name}: expected a .py module or a .ipynb notebook")
        return submission
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    for entry in entries:
        if entry.name in modules:
            text = _read_text(entry, path, submission.errors)
            if text is not None:
                submission.sources[modules[entry.name]] = text
    notebooks = [e for e in entries if e.suffix == ".ipynb"]
    for notebook in notebooks:
        text = _read_text(notebook, path, submission.errors)
        source = notebook_source(text, notebook.name, submission.errors) if text else None
        if source:
            for module in _served_modules(notebook, source, course, submission.errors):
                submission.sources.setdefault(module, source)
    if not submission.sources and not submission.errors:
        listed = ", ".join(sorted(modules)[:3])
        submission.errors.append(
            f"{path}: no exercise module found (expected files like {listed}, or a notebook)"
        )
    return submission


def materialise(submission: Submission, folder: Path) -> dict[str, Path]:
    """Write each module's source into `folder`; returns their paths. The folder can be
    traversed but not listed, so a worker running as another user reaches its own module
    (Landlock lets it read that file only)."""
    folder.chmod(0o711)
    paths = {}
    for module, source in submission.sources.items():
        target = folder / f"{module}.py"
        target.write_text(source, encoding="utf-8")
        target.chmod(0o644)
        paths[module] = target
    return paths

"""Import a student's exercise module from a folder, turning failures into readable messages."""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import sys
import traceback
from collections.abc import Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

from autograder.course.independence import (
    COURSE_PACKAGE,
    import_problem,
    imported_modules,
    optional_imports,
    other_exercise_in,
)
from autograder.course.source import parse_source


class ExerciseImportError(Exception):
    """The exercise module is missing or fails to import; the message says where and why."""


def describe_import_failure(
    path: Path, error: BaseException, others: frozenset[str] = frozenset()
) -> str:
    """One readable paragraph: where the module broke and how, without the grader's frames.
    `others`: the other exercises' modules, which it may not import."""
    if isinstance(error, SyntaxError):
        where = f"line {error.lineno}, column {error.offset}" if error.lineno else "unknown line"
        text = (error.text or "").rstrip()
        caret = f"\n    {text}" if text else ""
        return f"{path.name} does not parse: {error.msg} ({where}){caret}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
    if isinstance(error, ModuleNotFoundError) and error.name:
        line = f"line {frames[-1].lineno}" if frames else ""
        problem = import_problem(path.name, error.name, others, line)
        if problem:
            return problem
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return f"importing {path.name} raised {type(error).__name__}: {error}{where}"


class _Unimportable(importlib.abc.MetaPathFinder):
    """Finds `names` nowhere, under any package (`exercises.ex03_softmax`), as a grader's
    worker does not; the error says why, for `importer` (a file name)."""

    def __init__(self, names: frozenset[str], importer: str) -> None:
        self.names, self.importer = names, importer

    def find_spec(self, name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if other_exercise_in(name, self.names):
            raise ModuleNotFoundError(import_problem(self.importer, name, self.names), name=name)
        return None


@contextlib.contextmanager
def unimportable(names: frozenset[str], importer: str) -> Iterator[None]:
    """While inside, importing any of `names` fails (even one imported before), as it does in
    a grader's worker, which can import no exercise's module but its own; the error says why,
    for `importer` (the file name of the module that may not import them)."""
    imported = {name: sys.modules.pop(name) for name in names if name in sys.modules}
    finder = _Unimportable(names, importer)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)
        sys.modules.update(imported)


def _refuse_course_package(path: Path, source: str) -> None:
    """Fail as the grader would if the module imports the course's package where it must
    succeed. Read from the source: this process has imported that package itself, so it cannot
    be made unimportable."""
    try:
        tree = parse_source(source)
    except SyntaxError:
        return  # importing it says where
    optional = optional_imports(tree, as_main=False)
    for line, module in imported_modules(tree, skip=optional):
        if module.split(".")[0] == COURSE_PACKAGE:
            problem = import_problem(path.name, module, frozenset(), f"line {line}")
            raise ExerciseImportError(problem)


def load_exercise(folder: Path, module: str, others: frozenset[str] = frozenset()) -> ModuleType:
    """Import `folder/module.py` under its own name, fresh (a previous import is replaced).
    `others`: the other exercises' modules, named as such if importing one fails (see
    `unimportable`)."""
    path = (folder / f"{module}.py").resolve()
    if not path.is_file():
        raise ExerciseImportError(f"{folder} has no {module}.py")
    try:
        source = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:  # Python may run it, but the grader would refuse it
        problem = f"{path.name}: not UTF-8 text (byte {error.start}); save it as UTF-8"
        raise ExerciseImportError(problem) from None
    _refuse_course_package(path, source)
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    try:
        spec.loader.exec_module(loaded)
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        del sys.modules[module]
        raise ExerciseImportError(describe_import_failure(path, error, others)) from None
    return loaded

"""Import a student's exercise module from a folder, turning failures into readable messages."""

from __future__ import annotations

import importlib.util
import sys
import traceback
from pathlib import Path
from types import ModuleType


class ExerciseImportError(Exception):
    """The exercise module is missing or fails to import; the message says where and why."""


def describe_import_failure(path: Path, error: BaseException) -> str:
    """One readable paragraph: where the module broke and how, without the grader's frames."""
    if isinstance(error, SyntaxError):
        where = f"line {error.lineno}, column {error.offset}" if error.lineno else "unknown line"
        text = (error.text or "").rstrip()
        caret = f"\n    {text}" if text else ""
        return f"{path.name} does not parse: {error.msg} ({where}){caret}"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == str(path)]
    where = f" (line {frames[-1].lineno}: {frames[-1].line})" if frames else ""
    return f"importing {path.name} raised {type(error).__name__}: {error}{where}"


def load_exercise(folder: Path, module: str) -> ModuleType:
    """Import `folder/module.py` under its own name, fresh (a previous import is replaced)."""
    path = (folder / f"{module}.py").resolve()
    if not path.is_file():
        raise ExerciseImportError(f"{folder} has no {module}.py")
    spec = importlib.util.spec_from_file_location(module, path)
    assert spec is not None and spec.loader is not None
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[module] = loaded
    try:
        spec.loader.exec_module(loaded)
    except (Exception, SystemExit, KeyboardInterrupt) as error:
        del sys.modules[module]
        raise ExerciseImportError(describe_import_failure(path, error)) from None
    return loaded

"""Load and validate `course.toml` into typed, immutable objects.

Every problem is reported as a `ConfigError` naming the file, the key and what was expected,
so an instructor never has to read a traceback to fix a typo.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

COURSE_FILE = "course.toml"
_MODULE_NAME = re.compile(r"^ex\d{2}_[a-z][a-z0-9_]*$")
_EXERCISE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DOTTED_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
DTYPES = ("float32", "float64")


class ConfigError(ValueError):
    """`course.toml` is malformed; the message names the file, the key and the problem."""


@dataclass(frozen=True)
class Tolerance:
    """How close a result must be: |actual - expected| <= atol + rtol * |expected|."""

    atol: float
    rtol: float


@dataclass(frozen=True)
class Exercise:
    """One exercise: a module of functions the student implements."""

    id: str
    module: str
    title: str
    functions: tuple[str, ...]
    points: float
    forbidden: tuple[str, ...]
    tolerance: Mapping[str, Tolerance]
    documents_atol: float
    time_limit_s: float
    memory_limit_mb: int
    test_points: Mapping[str, float]

    @property
    def number(self) -> int:
        """The exercise's number, from its module name (`ex03_softmax` -> 3)."""
        return int(self.module[2:4])

    @property
    def filename(self) -> str:
        return f"{self.module}.py"


@dataclass(frozen=True)
class Course:
    """The whole course as `course.toml` describes it."""

    name: str
    slug: str
    version: str
    root: Path
    solutions_dir: Path
    exercises_dir: Path
    exercises: tuple[Exercise, ...]

    def exercise(self, exercise_id: str) -> Exercise:
        """The exercise with this id; `KeyError` naming the known ids otherwise."""
        for exercise in self.exercises:
            if exercise.id == exercise_id:
                return exercise
        known = ", ".join(e.id for e in self.exercises)
        raise KeyError(f"no exercise {exercise_id!r} in {self.root / COURSE_FILE} (known: {known})")

    def by_module(self, module: str) -> Exercise | None:
        """The exercise whose module is `module`, or None."""
        return next((e for e in self.exercises if e.module == module), None)

    def other_modules(self, module: str) -> frozenset[str]:
        """The exercises' modules but `module`: code of `module` may not import them."""
        return frozenset(e.module for e in self.exercises if e.module != module)

    @property
    def notebooks_dir(self) -> Path:
        """Where the students' notebooks are generated: `notebooks/` next to course.toml."""
        return self.root / "notebooks"

    @property
    def max_score(self) -> float:
        return sum(e.points for e in self.exercises)


class _Table:
    """A TOML table plus where it sits, so every error can name the full key."""

    def __init__(self, file: Path, path: str, data: Any) -> None:
        self.file, self.path = file, path
        if not isinstance(data, dict):
            self.fail("", "a table", data)
        self.data: dict[str, Any] = data

    def fail(self, key: str, expected: str, got: Any) -> NoReturn:
        where = ".".join(p for p in (self.path, key) if p) or "top level"
        raise ConfigError(f"{self.file}: {where}: expected {expected}, got {got!r}")

    def reject_unknown(self, allowed: set[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.fail(key, f"one of the keys {', '.join(sorted(allowed))}", key)

    def get(
        self, key: str, kind: type | tuple[type, ...], expected: str, default: Any = ...
    ) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(key, f"{expected} (the key is missing)", None)
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            self.fail(key, expected, value)
        if not isinstance(value, kind):
            self.fail(key, expected, value)
        return value

    def text(self, key: str, pattern: re.Pattern[str] | None = None, default: Any = ...) -> str:
        value = self.get(key, str, "a string", default)
        if pattern is not None and not pattern.match(value):
            self.fail(key, f"a string matching {pattern.pattern}", value)
        return value

    def number(self, key: str, default: Any = ..., positive: bool = True) -> float:
        value = self.get(key, (int, float), "a number", default)
        if positive and not value > 0:
            self.fail(key, "a number greater than 0", value)
        return float(value)

    def strings(self, key: str, pattern: re.Pattern[str], default: Any = ...) -> tuple[str, ...]:
        values = self.get(key, list, "a list of strings", default)
        for i, value in enumerate(values):
            if not isinstance(value, str) or not pattern.match(value):
                self.fail(f"{key}[{i}]", f"a string matching {pattern.pattern}", value)
        if len(set(values)) != len(values):
            self.fail(key, "a list without repeats", values)
        return tuple(values)

    def table(self, key: str, default: Any = ...) -> _Table:
        value = self.get(key, dict, "a table", default)
        return _Table(self.file, ".".join(p for p in (self.path, key) if p), value)


def _tolerances(table: _Table, inherited: Mapping[str, Tolerance]) -> dict[str, Tolerance]:
    table.reject_unknown(set(DTYPES))
    result = dict(inherited)
    for dtype in DTYPES:
        if dtype in table.data:
            entry = table.table(dtype)
            entry.reject_unknown({"atol", "rtol"})
            base = inherited.get(dtype)
            result[dtype] = Tolerance(
                atol=entry.number("atol", base.atol if base else ...),
                rtol=entry.number("rtol", base.rtol if base else ..., positive=False),
            )
        elif dtype not in result:
            table.fail(dtype, "a table with atol and rtol", None)
    return result


_LIMIT_KEYS = {"time_limit_s", "memory_limit_mb", "documents_atol", "tolerance"}
_EXERCISE_KEYS = {"id", "module", "title", "functions", "points", "forbidden", "test_points"}


def _exercise(
    entry: _Table, defaults: _Table, default_tolerance: Mapping[str, Tolerance]
) -> Exercise:
    entry.reject_unknown(_EXERCISE_KEYS | _LIMIT_KEYS)
    tolerance = _tolerances(entry.table("tolerance", {}), default_tolerance)
    test_points_table = entry.table("test_points", {})
    test_points = {name: test_points_table.number(name) for name in test_points_table.data}
    memory = entry.number("memory_limit_mb", defaults.number("memory_limit_mb"))
    return Exercise(
        id=entry.text("id", _EXERCISE_ID),
        module=entry.text("module", _MODULE_NAME),
        title=entry.text("title"),
        functions=entry.strings("functions", re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")),
        points=entry.number("points"),
        forbidden=entry.strings("forbidden", re.compile(rf"{_DOTTED_NAME.pattern}|^@$"), ()),
        tolerance=tolerance,
        documents_atol=entry.number("documents_atol", defaults.number("documents_atol")),
        time_limit_s=entry.number("time_limit_s", defaults.number("time_limit_s")),
        memory_limit_mb=int(memory),
        test_points=test_points,
    )


def parse_course(data: Mapping[str, Any], root: Path, file: Path | None = None) -> Course:
    """Validate an already-parsed `course.toml` document; paths are resolved against `root`."""
    file = file or root / COURSE_FILE
    top = _Table(file, "", dict(data))
    top.reject_unknown({"course", "defaults", "exercises"})
    meta = top.table("course")
    meta.reject_unknown({"name", "slug", "version", "solutions", "exercises"})
    defaults = top.table("defaults")
    defaults.reject_unknown(_LIMIT_KEYS)
    default_tolerance = _tolerances(defaults.table("tolerance"), {})

    raw_exercises = top.get("exercises", list, "an array of tables [[exercises]]")
    if not raw_exercises:
        top.fail("exercises", "at least one [[exercises]] table", raw_exercises)
    exercises = tuple(
        _exercise(_Table(file, f"exercises[{i}]", raw), defaults, default_tolerance)
        for i, raw in enumerate(raw_exercises)
    )
    for attribute in ("id", "module"):
        values = [getattr(e, attribute) for e in exercises]
        for i, value in enumerate(values):
            if value in values[:i]:
                top.fail(f"exercises[{i}].{attribute}", "a value no earlier exercise uses", value)
    return Course(
        name=meta.text("name"),
        slug=meta.text("slug", _EXERCISE_ID),
        version=meta.text("version"),
        root=root,
        solutions_dir=root / meta.text("solutions", default="solutions"),
        exercises_dir=root / meta.text("exercises", default="exercises"),
        exercises=exercises,
    )


def load_course(path: Path | str | None = None) -> Course:
    """Read `course.toml` (a file, or a directory holding it; default: the project's own)."""
    path = Path(path) if path is not None else default_course_file()
    if path.is_dir():
        path = path / COURSE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (the course configuration)") from None
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path}: not UTF-8 text ({error.reason} at byte {error.start})"
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    return parse_course(data, path.resolve().parent, path)


def default_course_file() -> Path:
    """The course.toml next to the `autograder` package (the course checkout)."""
    return Path(__file__).resolve().parents[2] / COURSE_FILE

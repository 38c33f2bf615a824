"""The native grading report: the one result schema every other output is derived from.

The JSON form is a contract read by other tools, so it is validated on read (``from_dict``)
and before every write (``to_json``/``write_json``). Errors name the offending field path,
e.g. ``exercises.softmax.tests[2].status: expected one of passed|failed|error|timeout, got 'ok'``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from autograder.files import atomic_write_text

SCHEMA_PREFIX = "attention-autograder/report/"
SCHEMA_MAJOR = 1
SCHEMA = f"{SCHEMA_PREFIX}{SCHEMA_MAJOR}"

DECIMALS = 6  # scores are rounded to this many decimals in JSON
TOLERANCE = 1e-6  # per summed score, so rounding to DECIMALS never breaks consistency

TestStatus = Literal["passed", "failed", "error", "timeout"]
Visibility = Literal["visible", "hidden", "after_due_date", "after_published"]
ExerciseStatus = Literal["complete", "partial", "failed", "not_attempted", "not_submitted", "error"]
TEST_STATUSES: tuple[str, ...] = get_args(TestStatus)
VISIBILITIES: tuple[str, ...] = get_args(Visibility)
EXERCISE_STATUSES: tuple[str, ...] = get_args(ExerciseStatus)


class ReportFormatError(ValueError):
    """A report does not match the schema; the message starts with the bad field's path."""


@dataclass(frozen=True, kw_only=True)
class TestResult:
    """The outcome of one test of one exercise."""

    __test__ = False  # not a pytest test class, despite the name

    name: str
    score: float
    max_score: float
    status: TestStatus
    message: str = ""  # "" when passed
    visibility: Visibility = "visible"
    diagnosis: str | None = None  # a named common mistake, if one was recognised

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": round_score(self.score),
            "max_score": round_score(self.max_score),
            "status": self.status,
            "message": self.message,
            "visibility": self.visibility,
            "diagnosis": self.diagnosis,
        }

    @classmethod
    def from_dict(cls, data: Any, *, path: str = "test") -> TestResult:
        obj = _object(data, path)
        return cls(
            name=_string(_get(obj, "name", path), f"{path}.name"),
            score=_number(_get(obj, "score", path), f"{path}.score"),
            max_score=_number(_get(obj, "max_score", path), f"{path}.max_score"),
            status=_choice(_get(obj, "status", path), f"{path}.status", TEST_STATUSES),
            message=_string(_get(obj, "message", path), f"{path}.message"),
            visibility=_choice(_get(obj, "visibility", path), f"{path}.visibility", VISIBILITIES),
            diagnosis=_optional_string(_get(obj, "diagnosis", path), f"{path}.diagnosis"),
        )


@dataclass(frozen=True, kw_only=True)
class ExerciseResult:
    """The outcome of one exercise. In JSON the id is the key in ``exercises``, not a field."""

    id: str
    title: str
    score: float
    max_score: float
    status: ExerciseStatus
    message: str = ""  # why it could not be fully graded, e.g. a SyntaxError location
    output: str = ""  # the student's captured stdout/stderr, already capped by the grader
    tests: tuple[TestResult, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tests", tuple(self.tests))

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "score": round_score(self.score),
            "max_score": round_score(self.max_score),
            "status": self.status,
            "message": self.message,
            "output": self.output,
            "tests": [test.to_dict() for test in self.tests],
        }

    @classmethod
    def from_dict(cls, id: str, data: Any, *, path: str | None = None) -> ExerciseResult:
        path = path or f"exercises.{id}"
        obj = _object(data, path)
        tests = _array(_get(obj, "tests", path), f"{path}.tests")
        return cls(
            id=id,
            title=_string(_get(obj, "title", path), f"{path}.title"),
            score=_number(_get(obj, "score", path), f"{path}.score"),
            max_score=_number(_get(obj, "max_score", path), f"{path}.max_score"),
            status=_choice(_get(obj, "status", path), f"{path}.status", EXERCISE_STATUSES),
            message=_string(_get(obj, "message", path), f"{path}.message"),
            output=_string(_get(obj, "output", path), f"{path}.output"),
            tests=tuple(
                TestResult.from_dict(test, path=f"{path}.tests[{i}]")
                for i, test in enumerate(tests)
            ),
        )


@dataclass(frozen=True, kw_only=True)
class Report:
    """The whole grading result of one submission. Exercises are in course order."""

    schema: str = SCHEMA
    score: float
    max_score: float
    gradable: bool
    errors: tuple[str, ...] = ()  # grader-level problems: bad input, missing module...
    warnings: tuple[str, ...] = ()
    submission: str = ""  # display name or path
    student: str | None = None
    duration_s: float = 0.0
    exercises: dict[str, ExerciseResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "errors", tuple(self.errors))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "exercises", dict(self.exercises))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "score": round_score(self.score),
            "max_score": round_score(self.max_score),
            "gradable": self.gradable,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "submission": self.submission,
            "student": self.student,
            "duration_s": round_score(self.duration_s, 3),
            "exercises": {key: ex.to_dict() for key, ex in self.exercises.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> Report:
        """Parse and validate (types, enums, schema version, score consistency)."""
        obj = _object(data, "(root)")
        schema = _schema(_get(obj, "schema", ""))
        exercises = _object(_get(obj, "exercises", ""), "exercises")
        report = cls(
            schema=schema,
            score=_number(_get(obj, "score", ""), "score"),
            max_score=_number(_get(obj, "max_score", ""), "max_score"),
            gradable=_boolean(_get(obj, "gradable", ""), "gradable"),
            errors=_strings(_get(obj, "errors", ""), "errors"),
            warnings=_strings(_get(obj, "warnings", ""), "warnings"),
            submission=_string(_get(obj, "submission", ""), "submission"),
            student=_optional_string(_get(obj, "student", ""), "student"),
            duration_s=_number(_get(obj, "duration_s", ""), "duration_s"),
            exercises={key: ExerciseResult.from_dict(key, ex) for key, ex in exercises.items()},
        )
        _check_consistency(report)
        return report

    def validate(self) -> None:
        """Raise ReportFormatError unless this report would survive a JSON round trip."""
        for key, ex in self.exercises.items():
            if not isinstance(ex, ExerciseResult) or ex.id != key:
                found = ex.id if isinstance(ex, ExerciseResult) else type(ex).__name__
                raise ReportFormatError(
                    f"exercises.{key}: key does not match exercise id {found!r}"
                )
        Report.from_dict(self.to_dict())


def summarise(items: Iterable[TestResult | ExerciseResult]) -> tuple[float, float]:
    """(total score, total max score) of some tests, or of some exercises."""
    items = list(items)
    return math.fsum(i.score for i in items), math.fsum(i.max_score for i in items)


def round_score(value: Any, decimals: int = DECIMALS) -> Any:
    """A score as written to JSON; anything but a finite number is returned unchanged."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return round(float(value), decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return value  # left as is, for validation to report


# --- JSON files -------------------------------------------------------------------------


def to_json(report: Report, *, indent: int | None = 2) -> str:
    """Validated JSON text (ASCII-only, so any string, even a lone surrogate, survives)."""
    report.validate()
    return json.dumps(report.to_dict(), indent=indent, allow_nan=False) + "\n"


def from_json(text: str | bytes) -> Report:
    def reject_constant(name: str) -> Any:
        raise ReportFormatError(f"(root): invalid JSON: {name} is not a valid number")

    try:
        data = json.loads(text, parse_constant=reject_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ReportFormatError(f"(root): invalid JSON: {exc}") from exc
    return Report.from_dict(data)


def read_json(path: str | os.PathLike[str]) -> Report:
    return from_json(Path(path).read_bytes())


def write_json(report: Report, path: str | os.PathLike[str]) -> None:
    """Validate, then write atomically: readers see the old file or the new one, never a part."""
    atomic_write_text(path, to_json(report))


# --- validation helpers -------------------------------------------------------------------


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _expected(path: str, what: str, value: Any) -> ReportFormatError:
    return ReportFormatError(
        f"{path}: expected {what}, got {type(value).__name__} {_describe(value)}"
    )


def _get(obj: Mapping[str, Any], key: str, path: str) -> Any:
    if key not in obj:
        raise ReportFormatError(f"{path + '.' if path else ''}{key}: missing required field")
    return obj[key]


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _expected(path, "an object", value)
    return value


def _array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _expected(path, "an array", value)
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise _expected(path, "a string", value)
    return value


def _optional_string(value: Any, path: str) -> str | None:
    return None if value is None else _string(value, path)


def _strings(value: Any, path: str) -> tuple[str, ...]:
    return tuple(_string(item, f"{path}[{i}]") for i, item in enumerate(_array(value, path)))


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _expected(path, "true or false", value)
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _expected(path, "a finite number", value)
    return float(value)


def _choice(value: Any, path: str, options: tuple[str, ...]) -> Any:
    if not isinstance(value, str) or value not in options:
        raise ReportFormatError(
            f"{path}: expected one of {'|'.join(options)}, got {_describe(value)}"
        )
    return value


def _schema(value: Any) -> str:
    schema = _string(value, "schema")
    major = schema.removeprefix(SCHEMA_PREFIX).split(".")[0]
    if not schema.startswith(SCHEMA_PREFIX) or major != str(SCHEMA_MAJOR):
        raise ReportFormatError(
            f"schema: unsupported report format {schema!r}; this autograder reads "
            f"{SCHEMA!r} (major version {SCHEMA_MAJOR}) only"
        )
    return schema


def _check_total(path: str, value: float, parts: list[float], what: str) -> None:
    total = math.fsum(parts)
    if abs(value - total) > TOLERANCE * max(1, len(parts)):
        raise ReportFormatError(f"{path}: {value:g} is not the sum of {what} ({total:g})")


def _check_range(path: str, score: float, max_score: float) -> None:
    if not -TOLERANCE <= score <= max_score + TOLERANCE:
        raise ReportFormatError(f"{path}: {score:g} is not between 0 and max_score {max_score:g}")


def _check_consistency(report: Report) -> None:
    for key, ex in report.exercises.items():
        path = f"exercises.{key}"
        for i, test in enumerate(ex.tests):
            _check_range(f"{path}.tests[{i}].score", test.score, test.max_score)
        _check_total(f"{path}.score", ex.score, [t.score for t in ex.tests], "its tests' scores")
        _check_range(f"{path}.score", ex.score, ex.max_score)
    exercises = list(report.exercises.values())
    _check_total("score", report.score, [e.score for e in exercises], "the exercise scores")
    _check_total(
        "max_score", report.max_score, [e.max_score for e in exercises], "the exercise max_scores"
    )
    _check_range("score", report.score, report.max_score)
    if report.duration_s < 0:
        raise ReportFormatError(f"duration_s: must not be negative, got {report.duration_s:g}")

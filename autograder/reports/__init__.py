"""Grading reports: the native JSON schema (``model``) and adapters over it.

``FORMATS`` maps an output format name to a pure ``Report -> str`` renderer.
"""

from __future__ import annotations

from collections.abc import Callable

from . import gradescope, html, junit, markdown
from .model import (
    SCHEMA,
    ExerciseResult,
    Report,
    ReportFormatError,
    TestResult,
    from_json,
    read_json,
    summarise,
    to_json,
    write_json,
)

FORMATS: dict[str, Callable[[Report], str]] = {
    "json": to_json,
    "gradescope": gradescope.render,
    "junit": junit.render,
    "markdown": markdown.render,
    "html": html.render,
}

__all__ = [
    "FORMATS",
    "SCHEMA",
    "ExerciseResult",
    "Report",
    "ReportFormatError",
    "TestResult",
    "from_json",
    "read_json",
    "summarise",
    "to_json",
    "write_json",
]

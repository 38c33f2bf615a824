"""Shared fixtures for the project's own tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course.config import Course, load_course

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def course() -> Course:
    return load_course(ROOT / "course.toml")


def run_public_tests(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """`python -m pytest exercises ARGS` in a child process, as a student would run it."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "exercises", "-p", "no:cacheprovider", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )

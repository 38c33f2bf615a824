"""The hidden suites grade what they should: the reference passes every hidden test, the stubs
are "not attempted" everywhere, and every wrong submission in tests/mistakes/ loses points on
its own exercise only. Messages never give away a hidden test's expected values."""

from __future__ import annotations

import gc
import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path

import pytest
import torch

from autograder.course import examples
from autograder.course.config import Course
from autograder.grading.session import GradingSession, TestOutcome, run_suites
from autograder.grading.student import InProcessModule

# The project root, computed here so `pytest tests/...` works without `python -m`.
ROOT = Path(__file__).resolve().parents[1]
MISTAKES_DIR = ROOT / "tests" / "mistakes"
MISTAKES = sorted(MISTAKES_DIR.glob("*/*.py"))


def grade(course: Course, submission: Mapping[str, Path]) -> list[TestOutcome]:
    """Run every hidden suite in this process on `submission`, {module name: its file}.

    A stand-in for the worker-backed grader: student modules run in process, like the reference.
    One torch thread, as a worker would: tiny tensors only lose time to a thread pool. The objects
    alive before the run are frozen, or pytest's gc.collect at the end of every run walks them all.
    """

    def proxy(path: Path) -> InProcessModule:
        spec = importlib.util.spec_from_file_location(
            f"graded_{path.parent.name}_{path.stem}", path
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return InProcessModule(module)

    references = {e.id: proxy(course.solutions_dir / e.filename) for e in course.exercises}
    students = {module: proxy(path) for module, path in submission.items()}
    sources = {module: path.read_text(encoding="utf-8") for module, path in submission.items()}
    session = GradingSession(course, references, lambda e: students[e.module], sources)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()
    try:
        return run_suites(session)
    finally:
        gc.unfreeze()
        torch.set_num_threads(threads)


def folder(course: Course, path: Path) -> dict[str, Path]:
    """A submission made of the exercise modules in `path`."""
    return {e.module: path / e.filename for e in course.exercises}


def printed_values() -> set[str]:
    """Every number the course documents print, as printed (four decimals, no sign)."""

    def numbers(value):
        if isinstance(value, tuple):
            for item in value:
                yield from numbers(item)
        elif isinstance(value, float):
            yield value

    return {
        f"{abs(x):.4f}" for name, v in vars(examples).items() if name.isupper() for x in numbers(v)
    }


def leaks(message: str) -> list[str]:
    """What a failure message gives away that it must not: tensor reprs, documented values."""
    found = ["tensor("] if "tensor(" in message else []
    return found + sorted(
        v for v in printed_values() if re.search(rf"(?<!\d){re.escape(v)}", message)
    )


def not_passed(outcomes: list[TestOutcome]) -> list[str]:
    return [
        f"{o.exercise}::{o.name} {o.status}: {o.message}" for o in outcomes if o.status != "passed"
    ]


@pytest.fixture(scope="module")
def reference_outcomes(course):
    return grade(course, folder(course, course.solutions_dir))


def test_every_exercise_has_a_hidden_suite_of_8_to_15_tests(course, reference_outcomes):
    counts = {e.id: 0 for e in course.exercises}
    for outcome in reference_outcomes:
        counts[outcome.exercise] += 1
    assert all(8 <= n <= 15 for n in counts.values()), counts


def test_the_reference_passes_every_hidden_test(reference_outcomes):
    assert reference_outcomes
    assert not_passed(reference_outcomes) == []


def test_stubs_are_not_attempted_in_every_hidden_test(course):
    outcomes = grade(course, folder(course, course.exercises_dir))
    assert {o.exercise for o in outcomes} == {e.id for e in course.exercises}
    wrong = [
        f"{o.exercise}::{o.name}"
        for o in outcomes
        if not (o.status == "failed" and o.not_attempted)
    ]
    assert wrong == []


def test_the_leak_check_finds_reprs_and_documented_values():
    assert leaks("expected tensor([0.1385, 0.2379])") == ["tensor(", "0.1385", "0.2379"]
    assert leaks("returned shape (2, 5), expected (2, 3): wrong values") == []


def test_the_corpus_readme_lists_every_mistake():
    readme = (MISTAKES_DIR / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^- `(\w+/\w+)\.py`: \S", readme, flags=re.M)
    assert sorted(listed) == [f"{path.parent.name}/{path.stem}" for path in MISTAKES]


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_a_mistake_fails_its_own_exercise_and_nothing_else(course, mistake):
    exercise = course.exercise(mistake.parent.name)
    outcomes = grade(course, {**folder(course, course.solutions_dir), exercise.module: mistake})
    own = [o for o in outcomes if o.exercise == exercise.id]
    others = [o for o in outcomes if o.exercise != exercise.id]
    assert own and others
    assert any(o.status == "failed" for o in own), "no hidden test catches this mistake"
    assert not_passed(others) == []
    assert [o for o in own if o.status not in ("passed", "failed")] == [], "a suite broke"
    for outcome in own:
        assert not outcome.not_attempted
        assert leaks(outcome.message) == [], outcome.message

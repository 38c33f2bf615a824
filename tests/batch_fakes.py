"""Shared by the batch tests: a small course, a fake grader and a class-room of submissions.

The fake grader's score is computed from which exercise files a submission holds, and it logs
every call (and every construction) to a file, so the tests can count exactly what was graded,
in which process. Spawned worker processes unpickle it from this module, by name.
"""

from __future__ import annotations

import csv
import functools
import os
import sqlite3
import time
from pathlib import Path

from autograder.batch import BatchSummary, grade_all
from autograder.batch.discovery import content_hash
from autograder.course.config import Course, parse_course
from autograder.reports import ExerciseResult, Report, TestResult

TESTS_DIR = Path(__file__).resolve().parent
REPO = TESTS_DIR.parent


def make_course() -> Course:
    tolerance = {"atol": 1e-6, "rtol": 1e-6}
    data = {
        "course": {"name": "Batch test", "slug": "batch", "version": "1"},
        "defaults": {
            "time_limit_s": 1.0,
            "memory_limit_mb": 512,
            "documents_atol": 1e-4,
            "tolerance": {"float32": tolerance, "float64": tolerance},
        },
        "exercises": [
            {"id": "alpha", "module": "ex01_alpha", "title": "A", "functions": ["f"], "points": 10},
            {"id": "beta", "module": "ex02_beta", "title": "B", "functions": ["g"], "points": 5},
        ],
    }
    return parse_course(data, TESTS_DIR)


def _log(path: str | None, *fields: object) -> None:
    if path:
        line = "\t".join(str(f) for f in fields) + "\n"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())  # one O_APPEND write: whole lines, even across processes
        finally:
            os.close(fd)


class FakeGrader:
    """A picklable grader: an exercise scores its points if its module file was handed in."""

    def __init__(
        self,
        course: Course,
        *,
        log: str | None = None,
        sleep: float = 0.0,
        fail_for: tuple[str, ...] = (),
        interrupt_for: tuple[str, ...] = (),
        die_for: tuple[str, ...] = (),
        after_start_of: str | None = None,
    ) -> None:
        """`after_start_of`: every other student's grading waits until that student's has
        started, and a little longer (so that they are in flight together)."""
        self.course, self.log, self.sleep = course, log, sleep
        self.fail_for, self.interrupt_for, self.die_for = fail_for, interrupt_for, die_for
        self.after_start_of = after_start_of
        _log(log, "init", "-", "-", os.getpid())

    def __enter__(self) -> FakeGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        _log(self.log, "exit", "-", "-", os.getpid())

    def grade(self, submission: Path, student: str | None = None) -> Report:
        digest = content_hash(submission)
        _log(self.log, "start", student, digest, os.getpid())
        time.sleep(self.sleep)
        if self.after_start_of not in (None, student):
            deadline = time.monotonic() + 30
            while self.after_start_of not in [c[0] for c in calls(Path(self.log or ""))]:
                assert time.monotonic() < deadline, f"{self.after_start_of} never started"
                time.sleep(0.05)
            time.sleep(1.0)  # still grading when that student's process dies
            time.sleep(0.5)
        if student in self.fail_for:
            raise RuntimeError("fake grader bug")
        if student in self.interrupt_for:
            raise KeyboardInterrupt
        if student in self.die_for:
            os._exit(3)  # the worker process dies: a segfault, the OOM killer...
        exercises = {}
        for e in self.course.exercises:
            present = (submission / e.filename).is_file()
            test = TestResult(
                name="test_present",
                score=e.points if present else 0.0,
                max_score=e.points,
                status="passed" if present else "failed",
            )
            exercises[e.id] = ExerciseResult(
                id=e.id,
                title=e.title,
                score=test.score,
                max_score=e.points,
                status="complete" if present else "not_submitted",
                tests=(test,),
            )
        _log(self.log, "done", student, digest, os.getpid())
        return Report(
            score=sum(e.score for e in exercises.values()),
            max_score=sum(e.max_score for e in exercises.values()),
            gradable=True,
            submission=str(submission),
            student=student,
            exercises=exercises,
        )


class BrokenFactory:
    def __init__(self, course: Course) -> None:
        raise OSError("no fork server today")


def calls(log: Path, kind: str = "start") -> list[tuple[str, str, int]]:
    """(student, content hash, pid) of each logged event of this kind."""
    if not log.exists():
        return []
    rows = [line.split("\t") for line in log.read_text().splitlines()]
    return [(s, h, int(pid)) for k, s, h, pid in rows if k == kind]


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return folder


BOTH = {"ex01_alpha.py": "def f(): ...\n", "ex02_beta.py": "def g(): ...\n"}
ALPHA = {"ex01_alpha.py": "def f(): ...\n"}
BETA = {"ex02_beta.py": "def g(): ...\n"}


class Env:
    """A class-room: ROOT with three students, and where the outputs go."""

    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "subs"
        self.db = tmp_path / "out" / "results.sqlite"
        self.reports = tmp_path / "out" / "reports"
        self.log = tmp_path / "calls.log"
        self.grades = tmp_path / "out" / "grades.csv"
        self.course = make_course()
        write(self.root / "alice", BOTH)
        write(self.root / "bob", ALPHA)
        write(self.root / "carol", {**BETA, "notes.md": "hello"})

    def grade(self, workers: int = 1, progress: bool = False, **fake: object) -> BatchSummary:
        factory = functools.partial(FakeGrader, log=str(self.log), **fake)
        return grade_all(
            self.root,
            course=self.course,
            db=self.db,
            reports_dir=self.reports,
            workers=workers,
            grader_factory=factory,
            progress=progress,
            csv_path=self.grades,
        )

    def rows(self) -> list[tuple]:
        with sqlite3.connect(self.db) as conn:
            return conn.execute(
                "SELECT student, assignment, content_hash, score, max_score FROM results "
                "ORDER BY student, graded_at"
            ).fetchall()

    def csv(self) -> list[dict[str, str]]:
        with open(self.grades, newline="") as f:
            return list(csv.DictReader(f))

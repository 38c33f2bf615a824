"""Batch grading: discovery, hashing, the resumable SQLite store, workers, CSV, hostile names.

A fake grader stands in for the real one: its score is computed from which exercise files a
submission holds, and it logs every call (and every construction) to a file, so the tests can
count exactly what was graded, in which process.
"""

from __future__ import annotations

import csv
import functools
import importlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.course.config import Course, parse_course
from autograder.grading.batch import (
    DB_SCHEMA_VERSION,
    MAX_FILE_BYTES,
    BatchError,
    Submission,
    SubmissionRefused,
    content_hash,
    csv_text,
    export_csv,
    find_submissions,
    grade_all,
    report_filename,
)
from autograder.reports import ExerciseResult, Report, TestResult, read_json

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
    ) -> None:
        self.course, self.log, self.sleep = course, log, sleep
        self.fail_for, self.interrupt_for, self.die_for = fail_for, interrupt_for, die_for
        _log(log, "init", "-", "-", os.getpid())

    def __enter__(self) -> FakeGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        _log(self.log, "exit", "-", "-", os.getpid())

    def grade(self, submission: Path, student: str | None = None) -> Report:
        digest = content_hash(submission)
        _log(self.log, "start", student, digest, os.getpid())
        time.sleep(self.sleep)
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


@pytest.fixture
def env(tmp_path):
    """A class-room: ROOT with three students, and where the outputs go."""

    class Env:
        root = tmp_path / "subs"
        db = tmp_path / "out" / "results.sqlite"
        reports = tmp_path / "out" / "reports"
        log = tmp_path / "calls.log"
        course = make_course()

        def grade(self, workers: int = 1, progress: bool = False, **fake: object):
            factory = functools.partial(FakeGrader, log=str(self.log), **fake)
            return grade_all(
                self.root,
                course=self.course,
                db=self.db,
                reports_dir=self.reports,
                workers=workers,
                grader_factory=factory,
                progress=progress,
                csv_path=tmp_path / "out" / "grades.csv",
            )

        def rows(self) -> list[tuple]:
            with sqlite3.connect(self.db) as conn:
                return conn.execute(
                    "SELECT student, assignment, content_hash, score, max_score FROM results "
                    "ORDER BY student, graded_at"
                ).fetchall()

        def csv(self) -> list[dict[str, str]]:
            with open(tmp_path / "out" / "grades.csv", newline="") as f:
                return list(csv.DictReader(f))

    e = Env()
    write(e.root / "alice", BOTH)
    write(e.root / "bob", ALPHA)
    write(e.root / "carol", {**BETA, "notes.md": "hello"})
    return e


# --- discovery ---------------------------------------------------------------------------


def test_find_submissions_flat_layout_ignores_hidden_files_and_caches(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "elsewhere"
    for name in ("alice", "bob", ".hidden", "__pycache__", "shared/real"):
        (root / name).mkdir(parents=True)
    outside.mkdir()
    (root / "notes.txt").write_text("x")
    (root / "dan").symlink_to(root / "shared" / "real")  # inside ROOT: accepted
    (root / "mallory").symlink_to(outside)  # outside ROOT: refused
    (root / "link-to-file").symlink_to(root / "notes.txt")
    (root / "dangling").symlink_to(tmp_path / "missing")

    found = find_submissions(root)

    assert [(s.student, s.assignment) for s in found] == [
        ("alice", None),
        ("bob", None),
        ("dan", None),
        ("mallory", None),
        ("shared", None),
    ]
    problems = {s.student: s.problem for s in found}
    assert problems["mallory"] and "outside ROOT" in problems["mallory"]
    assert problems["dan"] is None and problems["alice"] is None
    assert found[0] == Submission("alice", None, root / "alice")


def test_find_submissions_nbgrader_tree_from_the_course_or_from_submitted(tmp_path):
    course = tmp_path / "course"
    submitted = course / "submitted"
    for name in ("alice/ps1", "alice/ps2", "alice/.ipynb_checkpoints", "bob/ps1", ".x/ps1"):
        (submitted / name).mkdir(parents=True)
    (course / "source" / "ps1").mkdir(parents=True)  # other nbgrader folders: not submissions
    (submitted / "readme.txt").write_text("x")
    (submitted / "bob" / "timestamp.txt").write_text("x")

    expected = [("alice", "ps1"), ("alice", "ps2"), ("bob", "ps1")]
    for root in (course, submitted):
        found = find_submissions(root)
        assert [(s.student, s.assignment) for s in found] == expected
        assert found[0].path == submitted / "alice" / "ps1"
        assert found[0].key == ("alice", "ps1")
    assert Submission("x", None, tmp_path).key == ("x", "")


# --- content hash ------------------------------------------------------------------------


def test_content_hash_is_deterministic_and_sensitive_to_content_only(tmp_path):
    one = write(tmp_path / "one", {"a.py": "x = 1\n", "sub/b.py": "y = 2\n"})
    two = write(tmp_path / "two", {"sub/b.py": "y = 2\n", "a.py": "x = 1\n"})
    os.utime(two / "a.py", (0, 0))
    reference = content_hash(one)
    assert content_hash(one) == reference == content_hash(two)
    assert len(reference) == 64

    # Caches, checkpoints, git metadata and empty folders are not content.
    write(two, {"__pycache__/a.pyc": b"\0", ".ipynb_checkpoints/a.ipynb": "{}", ".git/HEAD": "x"})
    (two / "empty").mkdir()
    assert content_hash(two) == reference

    (two / "a.py").write_text("x = 2\n")
    assert content_hash(two) != reference
    (two / "a.py").write_text("x = 1\n")
    assert content_hash(two) == reference
    (two / "a.py").rename(two / "c.py")
    assert content_hash(two) != reference


def test_content_hash_does_not_follow_symlinks_and_refuses_huge_files(tmp_path):
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)  # sparse: cheap to make
    linked = write(tmp_path / "linked", {"a.py": "x = 1\n"})
    (linked / "data").symlink_to(big)  # not followed: hashed as its target text
    before = content_hash(linked)
    (linked / "data").unlink()
    (linked / "data").symlink_to(tmp_path / "elsewhere")
    assert content_hash(linked) != before

    huge = write(tmp_path / "huge", {"a.py": "x = 1\n"})
    os.link(big, huge / "weights.bin")
    with pytest.raises(SubmissionRefused, match=r"weights\.bin: .*over the 5 MB limit"):
        content_hash(huge)


# --- names -------------------------------------------------------------------------------


def test_report_filenames_are_safe_readable_and_distinct():
    assert report_filename("alice") == "alice.json"
    assert report_filename("alice", "ps1") == "alice__ps1.json"
    hostile = ["../etc/passwd", ".bashrc", "a/b", "a\\b", "..", "-rf", "x" * 300, "a\0b"]
    names = [report_filename(s) for s in hostile]
    for name in names:
        assert "/" not in name and "\\" not in name and "\0" not in name
        assert not name.startswith((".", "-")) and len(name) < 100
    assert len(set(names)) == len(names)
    assert report_filename("José").startswith("Jose-")
    assert report_filename("a__b", "c") != report_filename("a", "b__c")
    assert report_filename("a_", "_b") != report_filename("a", "__b")


def test_csv_text_escapes_formulas():
    for value in ("=HYPERLINK(1)", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert csv_text(value) == "'" + value
    assert csv_text("alice") == "alice"


# --- grading runs ------------------------------------------------------------------------


def test_first_run_grades_all_then_a_rerun_skips_all(env):
    summary = env.grade(progress=True)  # the rich bar on stderr, once

    assert (summary.graded, summary.skipped, summary.failed) == (3, 0, 0)
    assert not summary.interrupted
    assert [(r.student, r.score, r.max_score, r.status) for r in summary.results] == [
        ("alice", 15.0, 15.0, "graded"),
        ("bob", 10.0, 15.0, "graded"),
        ("carol", 5.0, 15.0, "graded"),
    ]
    alice = read_json(env.reports / "alice.json")
    assert alice.student == "alice" and alice.score == 15.0
    assert [(s, a, score) for s, a, _, score, _ in env.rows()] == [
        ("alice", "", 15.0),
        ("bob", "", 10.0),
        ("carol", "", 5.0),
    ]
    assert {h for _, _, h, _, _ in env.rows()} == {
        content_hash(env.root / n) for n in ("alice", "bob", "carol")
    }
    assert len(calls(env.log)) == 3
    assert len(calls(env.log, "init")) == 1  # one grader for the whole run

    (env.reports / "bob.json").unlink()  # a lost report is rewritten from the database
    (env.reports / ".carol.json.x1y2.tmp").write_text('{"sco')  # left by a killed write
    again = env.grade()

    assert (again.graded, again.skipped, again.failed) == (0, 3, 0)
    assert len(calls(env.log)) == 3
    assert len(calls(env.log, "init")) == 1  # nothing to grade: no grader started
    assert read_json(env.reports / "bob.json").score == 10.0
    assert sorted(p.name for p in env.reports.iterdir()) == ["alice.json", "bob.json", "carol.json"]
    assert [r["score"] for r in env.csv()] == ["15", "10", "5"]


def test_a_changed_submission_is_regraded_and_a_reverted_one_counts_again(env):
    env.grade()
    original = content_hash(env.root / "bob")
    write(env.root / "bob", BETA)  # bob adds beta: 10 -> 15

    summary = env.grade()

    assert (summary.graded, summary.skipped) == (1, 2)
    assert [c[0] for c in calls(env.log)] == ["alice", "bob", "carol", "bob"]
    assert read_json(env.reports / "bob.json").score == 15.0
    assert [r["score"] for r in env.csv() if r["student"] == "bob"] == ["15"]

    (env.root / "bob" / "ex02_beta.py").unlink()  # back to the first version: already graded
    summary = env.grade()

    assert (summary.graded, summary.skipped) == (0, 3)
    assert content_hash(env.root / "bob") == original
    assert [r["score"] for r in env.csv() if r["student"] == "bob"] == ["10"]
    assert read_json(env.reports / "bob.json").score == 10.0
    assert [score for s, _, _, score, _ in env.rows() if s == "bob"] == [10.0, 15.0]


def test_a_grader_exception_is_an_error_report_and_is_retried_next_run(env, caplog):
    summary = env.grade(fail_for=("bob",))

    assert (summary.graded, summary.failed) == (2, 1)
    bob = read_json(env.reports / "bob.json")
    assert not bob.gradable and bob.score == 0 and bob.max_score == 15
    assert "RuntimeError: fake grader bug" in bob.errors[0]
    assert {e.status for e in bob.exercises.values()} == {"error"}
    assert "fake grader bug" in caplog.text  # the traceback goes to the log
    assert [s for s, *_ in env.rows()] == ["alice", "carol"]  # not stored: our bug, not bob's

    summary = env.grade()

    assert (summary.graded, summary.skipped) == (1, 2)
    assert read_json(env.reports / "bob.json").gradable


def test_refused_submissions_symlink_outside_and_huge_file(env, tmp_path):
    outside = write(tmp_path / "outside", BOTH)
    (env.root / "mallory").symlink_to(outside)
    with open(env.root / "carol" / "weights.bin", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)

    summary = env.grade()

    assert (summary.graded, summary.failed) == (2, 2)
    assert [c[0] for c in calls(env.log)] == ["alice", "bob"]  # neither refusal reached it
    mallory = read_json(env.reports / "mallory.json")
    assert not mallory.gradable and "outside ROOT" in mallory.errors[0]
    carol = read_json(env.reports / "carol.json")
    assert "weights.bin" in carol.errors[0] and "5 MB" in carol.errors[0]

    again = env.grade()  # a refusal is a property of the content: stored, not redone

    assert (again.graded, again.skipped, again.failed) == (0, 4, 0)
    assert {r["student"]: r["score"] for r in env.csv()}["mallory"] == "0"


def test_csv_has_exercise_columns_and_defuses_formulas(env):
    for name in ("=HYPERLINK(1)", "+1", "-2", "@cmd", "..x", os.fsdecode(b"jos\xe9")):
        write(env.root / name, ALPHA)  # "..x" is hidden: ignored

    env.grade()

    with open(env.db.parent / "grades.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", "assignment", "score", "max_score", "alpha", "beta"]
    body = {row[0]: row[1:] for row in rows[1:]}
    assert body["alice"] == ["", "15", "15", "10", "5"]
    assert body["carol"] == ["", "5", "15", "0", "5"]
    assert {"'=HYPERLINK(1)", "'+1", "'-2", "'@cmd", "jos\\xe9"} <= set(body)
    for path in env.reports.iterdir():
        assert not path.name.startswith((".", "-")), path.name
    assert len(list(env.reports.iterdir())) == 8

    other = env.db.parent / "again.csv"  # the standalone export gives the same file
    assert export_csv(env.db, env.course, other) == 8
    assert other.read_bytes() == (env.db.parent / "grades.csv").read_bytes()


def test_nbgrader_tree_is_keyed_by_student_and_assignment(env, tmp_path):
    course = tmp_path / "nb"
    write(course / "submitted" / "alice" / "ps1", ALPHA)
    write(course / "submitted" / "alice" / "ps2", BOTH)
    write(course / "submitted" / "bob" / "ps1", BETA)
    env.root = course

    summary = env.grade()

    assert [(r.student, r.assignment, r.score) for r in summary.results] == [
        ("alice", "ps1", 10.0),
        ("alice", "ps2", 15.0),
        ("bob", "ps1", 5.0),
    ]
    assert sorted(p.name for p in env.reports.iterdir()) == [
        "alice__ps1.json",
        "alice__ps2.json",
        "bob__ps1.json",
    ]
    assert [(r["student"], r["assignment"], r["score"]) for r in env.csv()] == [
        ("alice", "ps1", "10"),
        ("alice", "ps2", "15"),
        ("bob", "ps1", "5"),
    ]


def test_reports_dir_inside_root_is_not_a_student(env):
    env.reports = env.root / "reports"
    env.grade()
    assert env.grade().skipped == 3
    assert sorted(p.name for p in env.reports.iterdir()) == ["alice.json", "bob.json", "carol.json"]


def test_a_database_of_another_version_or_kind_is_refused(env, tmp_path):
    env.grade()
    with sqlite3.connect(env.db) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    with pytest.raises(BatchError, match=rf"schema version 99.*version {DB_SCHEMA_VERSION} only"):
        env.grade()

    env.db = tmp_path / "not-a-db.sqlite"
    env.db.write_text("hello, I am a text file" * 100)
    with pytest.raises(BatchError, match="not a usable results database"):
        env.grade()

    env.db = tmp_path / "other.sqlite"
    with sqlite3.connect(env.db) as conn:
        conn.execute("CREATE TABLE things (x)")
    conn.close()
    with pytest.raises(BatchError, match="not an autograder results database"):
        env.grade()
    with pytest.raises(BatchError, match="no such results database"):
        export_csv(tmp_path / "missing.sqlite", env.course, tmp_path / "x.csv")


def test_a_grader_that_cannot_start_stops_the_batch_before_anything_is_stored(env):
    with pytest.raises(BatchError, match="could not start: OSError: no fork server today"):
        grade_all(
            env.root,
            course=env.course,
            db=env.db,
            reports_dir=env.reports,
            workers=1,
            grader_factory=BrokenFactory,
            progress=False,
        )
    assert env.rows() == []


def test_ctrl_c_in_process_keeps_what_finished(env):
    write(env.root / "dave", BOTH)

    summary = env.grade(interrupt_for=("carol",))

    assert summary.interrupted
    assert [r.student for r in summary.results] == ["alice", "bob"]
    assert [s for s, *_ in env.rows()] == ["alice", "bob"]
    assert calls(env.log, "exit")  # the grader was closed

    summary = env.grade()

    assert (summary.graded, summary.skipped) == (2, 2)
    assert [c[0] for c in calls(env.log)] == ["alice", "bob", "carol", "carol", "dave"]


def test_two_worker_processes_each_with_one_grader(env):
    for name in ("dave", "erin", "frank"):
        write(env.root / name, ALPHA)

    summary = env.grade(workers=2, fail_for=("erin",))

    assert (summary.graded, summary.failed) == (5, 1)
    assert {r.student: r.score for r in summary.results} == {
        "alice": 15.0,
        "bob": 10.0,
        "carol": 5.0,
        "dave": 10.0,
        "erin": 0.0,
        "frank": 10.0,
    }
    assert "fake grader bug" in read_json(env.reports / "erin.json").errors[0]
    graders = calls(env.log, "init")
    pids = {pid for *_, pid in calls(env.log)}
    assert len(graders) <= 2 and pids <= {pid for *_, pid in graders}
    assert os.getpid() not in pids
    assert len(calls(env.log, "exit")) == len(graders)  # each grader was closed
    assert len(env.rows()) == 5


def test_a_worker_process_that_dies_fails_its_submission_only(env):
    summary = env.grade(workers=2, die_for=("bob",))

    assert (summary.graded, summary.failed) == (2, 1)
    bob = read_json(env.reports / "bob.json")
    assert not bob.gradable and "process died" in bob.errors[0]
    assert [c[0] for c in calls(env.log)].count("bob") == 2  # retried once, in a fresh pool
    assert [s for s, *_ in env.rows()] == ["alice", "carol"]


def test_a_grader_that_cannot_start_in_a_worker_process(env):
    with pytest.raises(BatchError, match="could not start in a worker process: OSError"):
        grade_all(
            env.root,
            course=env.course,
            db=env.db,
            reports_dir=env.reports,
            workers=2,
            grader_factory=BrokenFactory,
            progress=False,
        )
    assert env.rows() == []


# --- SIGKILL and resume ------------------------------------------------------------------

KILLED_RUN = """
import functools, importlib, sys
from pathlib import Path
sys.path[:0] = [{tests!r}, {repo!r}]
tests = importlib.import_module({module!r})
from autograder.grading.batch import grade_all
grade_all(
    Path({root!r}), course=tests.make_course(), db=Path({db!r}), reports_dir=Path({reports!r}),
    workers=2, progress=False,
    grader_factory=functools.partial(tests.FakeGrader, log={log!r}, sleep=0.4),
)
raise SystemExit("the batch finished before it was killed")
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def test_sigkill_then_resume_grades_only_what_is_missing(env, tmp_path):
    for name in ("dave", "erin", "frank", "grace", "heidi"):
        write(env.root / name, {"ex01_alpha.py": f"# {name}\n"})
    students = sorted(p.name for p in env.root.iterdir())
    script = KILLED_RUN.format(
        tests=str(TESTS_DIR),
        repo=str(REPO),
        module=FakeGrader.__module__,
        root=str(env.root),
        db=str(env.db),
        reports=str(env.reports),
        log=str(env.log),
    )
    importlib.import_module(FakeGrader.__module__)  # the script imports this module by name

    def committed() -> int:
        if not env.db.exists():
            return 0
        try:
            with sqlite3.connect(env.db) as conn:
                return conn.execute("SELECT count(*) FROM results").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are not there yet
            return 0

    with open(tmp_path / "killed.err", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", script], stderr=err)
        try:
            _wait_until(lambda: committed() >= 3 or proc.poll() is not None, 60, "3 results")
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, (tmp_path / "killed.err").read_text()

    first_run = calls(env.log)
    workers = {pid for *_, pid in calls(env.log, "init")}
    assert len(workers) == 2
    _wait_until(lambda: not any(map(_alive, workers)), 10, "orphaned workers exit")
    stored_before = {(s, h) for s, _, h, _, _ in env.rows()}
    assert 3 <= len(stored_before) < len(students)

    summary = env.grade()

    second_run = calls(env.log)[len(first_run) :]
    assert (summary.skipped, summary.graded) == (len(stored_before), len(second_run))
    everything = {(s, content_hash(env.root / s)) for s in students}
    rows = env.rows()
    assert {(s, h) for s, _, h, _, _ in rows} == everything and len(rows) == len(students)
    regraded = {(s, h) for s, h, _ in second_run}
    assert not regraded & stored_before  # nothing committed is ever graded again
    started_before = [(s, h) for s, h, _ in first_run]
    assert len(started_before) == len(set(started_before))
    in_flight = set(started_before) - stored_before  # lost to the kill: at most one per worker
    assert len(in_flight) <= 2 and in_flight <= regraded
    assert len(second_run) == len(regraded)  # each graded once in this run
    for student in students:  # every report complete, no temp file left behind
        assert read_json(env.reports / f"{student}.json").student == student
    assert sorted(p.name for p in env.reports.iterdir()) == [f"{s}.json" for s in students]
    with sqlite3.connect(env.db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert json.loads(env.csv()[0]["score"]) == 15

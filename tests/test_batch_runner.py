"""Batch runs with the fake grader: resuming, failures, worker processes, Ctrl-C and SIGKILL."""

from __future__ import annotations

import importlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from batch_fakes import (
    ALPHA,
    BETA,
    BOTH,
    REPO,
    TESTS_DIR,
    BrokenFactory,
    Env,
    FakeGrader,
    calls,
    write,
)

from autograder.batch import BatchError, grade_all
from autograder.batch.discovery import MAX_FILE_BYTES, content_hash
from autograder.reports import read_json


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


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
    assert "weights.bin" in carol.errors[0] and f"{MAX_FILE_BYTES >> 20} MB" in carol.errors[0]

    again = env.grade()  # a refusal is a property of the content: stored, not redone

    assert (again.graded, again.skipped, again.failed) == (0, 4, 0)
    assert {r["student"]: r["score"] for r in env.csv()}["mallory"] == "0"


def test_hostile_folder_and_file_names_stay_on_their_line(env, caplog):
    """A name with a carriage return cannot split a CSV row nor start a cell as a formula, and
    escape codes in a name never reach the terminal or the log as they are."""
    hostile = "mallory\r=HYPERLINK(1)\x1b[2J"
    write(env.root / hostile, BOTH)
    with open(env.root / hostile / "x\n::error::forged\x1b]0;t\x07.bin", "wb") as f:
        f.truncate(MAX_FILE_BYTES + 1)

    env.grade()

    rows = env.csv()
    assert [r["student"] for r in rows] == ["alice", "bob", "carol", "mallory?=HYPERLINK(1)?[2J"]
    refused = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert len(refused) == 1 and "?::error::forged?]0;t?.bin" in refused[0], refused
    assert not any(c in refused[0] for c in "\r\n\x1b\x07")


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
    # bob is in flight with alice when alice's grading process dies: both are suspects.
    summary = env.grade(workers=2, die_for=("alice",), after_start_of="alice")

    assert (summary.graded, summary.failed) == (2, 1)
    alice = read_json(env.reports / "alice.json")
    assert not alice.gradable and "process died" in alice.errors[0]
    assert [c[0] for c in calls(env.log)].count("alice") == 2  # retried once, alone
    # bob, broken with alice's pool, was graded again alone: alice cannot cost it its grade.
    assert [s for s, *_ in env.rows()] == ["bob", "carol"]


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
from autograder.batch import grade_all
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


def test_a_change_of_the_grading_grades_everything_again(env):
    # A fixed hidden suite, reference or course.toml entry: the stored grades are stale.
    env.grade()
    alpha, *others = env.course.exercises
    env.course = replace(env.course, exercises=(replace(alpha, points=20.0), *others))

    again = env.grade()

    assert (again.graded, again.skipped) == (3, 0)
    assert len(calls(env.log)) == 6
    assert [r["score"] for r in env.csv()] == ["25", "20", "5"]  # the new grading's
    assert len(env.rows()) == 6, "the first grading's results are kept"
    assert (env.grade().graded, env.grade().skipped) == (0, 3)


# --- what is under ROOT, and what the exports cover -----------------------------------


def test_entries_of_root_that_are_no_student_folder_are_warned_about(env, caplog):
    write(env.root, {"smithjohn_12345_ex01_alpha.py": "def f(): ...\n", ".DS_Store": "x"})
    write(env.root / ".hidden", ALPHA)
    (env.root / "__pycache__").mkdir()  # caches and git metadata: skipped without a word

    summary = env.grade()

    assert (summary.graded, summary.failed) == (3, 0)
    expects = "grade-all expects one folder per student, holding that student's files"
    assert [r.message for r in caplog.records if r.levelname == "WARNING"] == [
        f"{env.root / '.DS_Store'}: skipped, hidden; {expects}",
        f"{env.root / '.hidden'}: skipped, hidden; {expects}",
        f"{env.root / 'smithjohn_12345_ex01_alpha.py'}: skipped, a file; {expects}",
    ]


def test_a_root_without_any_submission_is_an_error(env, caplog):
    empty = env.root.parent / "downloads"
    write(empty, {"smithjohn_12345_ex01_alpha.py": "def f(): ...\n"})
    env.root = empty

    with pytest.raises(BatchError, match=r"downloads: no submission found; grade-all expects"):
        env.grade()

    assert "smithjohn_12345_ex01_alpha.py: skipped, a file" in caplog.text
    assert not env.reports.exists() and not env.db.exists()


def test_the_csv_holds_only_the_submissions_under_this_root(env):
    env.grade()
    (env.root / "bob").rename(env.root / "robert")  # renamed
    for path in (env.root / "carol").iterdir():  # deleted
        path.unlink()
    (env.root / "carol").rmdir()

    summary = env.grade()

    assert (summary.graded, summary.skipped) == (1, 1)
    assert [(r["student"], r["score"]) for r in env.csv()] == [("alice", "15"), ("robert", "10")]
    assert {s for s, *_ in env.rows()} == {"alice", "bob", "carol", "robert"}, "all kept"


def test_an_nbgrader_assignment_named_after_an_exercise_is_that_exercise_only(env, tmp_path):
    course = tmp_path / "nb"
    write(course / "submitted" / "alice" / "ex01_alpha", BOTH)  # beta too: not this assignment
    write(course / "submitted" / "bob" / "ex02_beta", BETA)
    write(course / "submitted" / "bob" / "ps1", ALPHA)  # not an exercise's module: the course
    write(course / "submitted" / "carol" / "ex01_alpha", ALPHA)
    env.root = course

    summary = env.grade(fail_for=("carol",))

    assert [(r.student, r.assignment, r.score, r.max_score) for r in summary.results] == [
        ("alice", "ex01_alpha", 10.0, 10.0),
        ("bob", "ex02_beta", 5.0, 5.0),
        ("bob", "ps1", 10.0, 15.0),
        ("carol", "ex01_alpha", 0.0, 10.0),
    ]
    alice = read_json(env.reports / "alice__ex01_alpha.json")
    assert list(alice.exercises) == ["alpha"] and (alice.score, alice.max_score) == (10, 10)
    carol = read_json(env.reports / "carol__ex01_alpha.json")  # an error report, the same
    assert list(carol.exercises) == ["alpha"] and not carol.gradable
    assert list(read_json(env.reports / "bob__ps1.json").exercises) == ["alpha", "beta"]
    assert [(s, a, score, top) for s, a, _, score, top in env.rows()] == [
        ("alice", "ex01_alpha", 10.0, 10.0),
        ("bob", "ex02_beta", 5.0, 5.0),
        ("bob", "ps1", 10.0, 15.0),
    ]
    assert [
        (r["student"], r["score"], r["max_score"], r["alpha"], r["beta"]) for r in env.csv()
    ] == [
        ("alice", "10", "10", "10", ""),
        ("bob", "5", "5", "", "5"),
        ("bob", "10", "15", "10", "0"),
    ]
    assert env.grade().skipped == 3  # read back from the database as stored
    assert read_json(env.reports / "alice__ex01_alpha.json") == alice

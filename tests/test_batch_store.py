"""The results database: the gradebook CSV, and databases of another version or kind."""

from __future__ import annotations

import csv
import functools
import os
import sqlite3

import pytest
from batch_fakes import ALPHA, Env, FakeGrader, write

from autograder.batch import BatchError, export_csv, grade_all
from autograder.batch.store import DB_SCHEMA_VERSION
from autograder.reports.nbgrader_gradebook import GradebookSummary


@pytest.fixture
def env(tmp_path):
    return Env(tmp_path)


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


def test_a_version_1_database_is_upgraded_and_its_results_graded_again(env):
    # Version 1 stored no grading: its results stand for none, and are graded again.
    env.db.parent.mkdir(parents=True)
    with sqlite3.connect(env.db) as conn:
        conn.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema_version', '1');"
            "CREATE TABLE results (student TEXT NOT NULL, assignment TEXT NOT NULL, "
            "content_hash TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, "
            "report_json TEXT NOT NULL, graded_at TEXT NOT NULL, "
            "PRIMARY KEY (student, assignment, content_hash));"
            "CREATE TABLE latest (student TEXT NOT NULL, assignment TEXT NOT NULL, "
            "content_hash TEXT NOT NULL, seen_at TEXT NOT NULL, "
            "PRIMARY KEY (student, assignment));"
            "INSERT INTO results VALUES ('alice', '', 'old', 1, 15, '{}', '2026-01-01');"
        )
    conn.close()

    summary = env.grade()

    assert (summary.graded, summary.skipped) == (3, 0)
    with sqlite3.connect(env.db) as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        kept = conn.execute("SELECT grading, score FROM results WHERE content_hash = 'old'")
        assert version == (str(DB_SCHEMA_VERSION),) and kept.fetchall() == [("", 1.0)]
    conn.close()
    assert [r["score"] for r in env.csv()] == ["15", "10", "5"]


def test_both_exports_cover_this_runs_submissions_and_the_database_all(env, monkeypatch):
    env.grade()
    env.root = env.root.parent / "other-class"  # the same database, another ROOT
    write(env.root / "dave", ALPHA)
    sent = []

    def write_reports(course_dir, course, reports):
        sent.extend((student, assignment, report.score) for student, assignment, report in reports)
        return GradebookSummary(written=len(sent))

    monkeypatch.setattr("autograder.batch.store.write_reports", write_reports)
    grade_all(
        env.root, course=env.course, db=env.db, reports_dir=env.reports, workers=1,
        grader_factory=functools.partial(FakeGrader, log=str(env.log)), progress=False,
        csv_path=env.grades, nbgrader_course=env.root.parent / "nbgrader",
    )  # fmt: skip

    assert sent == [("dave", "", 10.0)]
    assert [row["student"] for row in env.csv()] == ["dave"]
    everything = env.db.parent / "all.csv"  # the standalone export: every latest result
    assert export_csv(env.db, env.course, everything) == 4


def test_a_stored_report_that_no_longer_reads_keeps_its_csv_row(env):
    env.grade()
    with sqlite3.connect(env.db) as conn:
        conn.execute("UPDATE results SET report_json = '{\"score\": 1}' WHERE student = 'bob'")
    out = env.db.parent / "again.csv"
    assert export_csv(env.db, env.course, out) == 3
    with open(out, newline="") as f:
        body = {row[0]: row[1:] for row in list(csv.reader(f))[1:]}
    assert body["bob"] == ["", "10", "15", "", ""]  # its totals, no exercise scores
    assert body["alice"] == ["", "15", "15", "10", "5"]

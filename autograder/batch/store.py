"""The results database (SQLite, WAL mode), its lock, and the gradebooks exported from it: a CSV,
and nbgrader's.

Schema version `DB_SCHEMA_VERSION`: `meta(key, value)` holds `schema_version`;
`results(student, assignment, content_hash, grading, score, max_score, report_json, graded_at)`
one row per content graded under one grading (`grading_fingerprint`), assignment "" outside
nbgrader trees; `latest(student, assignment, content_hash, seen_at)` the content each student
had at the last run, which is what the CSV shows, with its most recent grade (so a submission
reverted to an earlier, already graded version shows that version's grade); a run exports only
the submissions it found, while the database keeps every one. A `<db>.lock` file
next to it keeps two runs from sharing one database. A version 1 database (no grading column)
is upgraded in place, its results kept under an unknown grading, so they are graded again.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from collections.abc import Collection, Iterator
from datetime import UTC, datetime
from pathlib import Path

from autograder.batch.errors import BatchError
from autograder.course.config import Course
from autograder.files import atomic_write_text
from autograder.reports import spreadsheet
from autograder.reports.model import Report, ReportFormatError, from_json, to_json
from autograder.reports.nbgrader_gradebook import GradebookSummary, write_reports

DB_SCHEMA_VERSION = 2

_RESULTS = """
CREATE TABLE results (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    grading TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    report_json TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment, content_hash, grading)
)"""
_SCHEMA = f"""
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
{_RESULTS};
CREATE TABLE latest (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment)
);
"""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


class ResultStore:
    """The results database: each graded content's report, and each student's latest.

    Only the batch's parent process writes it. `create=False` opens an existing database
    (for `export_csv`); either way a database of another kind or version raises `BatchError`.
    """

    def __init__(self, path: Path, *, create: bool = True) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise BatchError(f"{self.path}: no such results database")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except sqlite3.Error as error:
            raise BatchError(f"{self.path}: cannot open the results database ({error})") from None
        try:
            with self.transaction(immediate=create):  # a read-only check for export_csv
                self._check_schema(create)
            if create:
                self.conn.execute("PRAGMA journal_mode=WAL")  # persistent; readers never block
                self.conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.DatabaseError as error:
            self.conn.close()
            raise BatchError(
                f"{self.path}: not a usable results database ({error}); "
                "use another database path, or move this file away"
            ) from None
        except BaseException:
            self.conn.close()
            raise

    def _check_schema(self, create: bool) -> None:
        tables = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master")}
        if not tables and create:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.conn.execute(statement)
            self.conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("schema_version", str(DB_SCHEMA_VERSION)), ("created_at", _now())],
            )
            return
        if "meta" not in tables:
            raise BatchError(
                f"{self.path}: not an autograder results database (no meta table); "
                "use another database path"
            )
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        version = row[0] if row else None
        if version == "1" and create:
            self._upgrade_from_version_1()
            version = str(DB_SCHEMA_VERSION)
        if version != str(DB_SCHEMA_VERSION):
            raise BatchError(
                f"{self.path}: results database schema version {version}, but this autograder "
                f"reads version {DB_SCHEMA_VERSION} only; use another database path (everything "
                "is then graded again), or the autograder version that wrote this one"
            )

    def _upgrade_from_version_1(self) -> None:
        """Add the grading column: the results kept have an unknown grading ("")."""
        self.conn.execute("ALTER TABLE results RENAME TO results_version_1")
        self.conn.execute(_RESULTS)
        self.conn.execute(
            "INSERT INTO results SELECT student, assignment, content_hash, '', score, "
            "max_score, report_json, graded_at FROM results_version_1"
        )
        self.conn.execute("DROP TABLE results_version_1")
        self.conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(DB_SCHEMA_VERSION),)
        )

    @contextlib.contextmanager
    def transaction(self, *, immediate: bool = True) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def close(self) -> None:
        self.conn.close()

    def find(self, key: tuple[str, str], content: str, grading: str) -> str | None:
        """The stored report JSON of this submission's content under this grading, or None."""
        row = self.conn.execute(
            "SELECT report_json FROM results "
            "WHERE student = ? AND assignment = ? AND content_hash = ? AND grading = ?",
            (*key, content, grading),
        ).fetchone()
        return row[0] if row else None

    def add(self, key: tuple[str, str], content: str, grading: str, report: Report) -> None:
        """Store a result and make it the student's latest, in one transaction."""
        now = _now()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO results (student, assignment, content_hash, grading, score, "
                "max_score, report_json, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (student, assignment, content_hash, grading) DO UPDATE SET "
                "score = excluded.score, max_score = excluded.max_score, "
                "report_json = excluded.report_json, graded_at = excluded.graded_at",
                (
                    *key,
                    content,
                    grading,
                    report.score,
                    report.max_score,
                    to_json(report, indent=None),
                    now,
                ),
            )
            self._set_latest(key, content, now)

    def mark_latest(self, key: tuple[str, str], content: str) -> None:
        """This stored content is what the student has now (a skipped, maybe reverted, one)."""
        row = self.conn.execute(
            "SELECT content_hash FROM latest WHERE student = ? AND assignment = ?", key
        ).fetchone()
        if row is None or row[0] != content:
            with self.transaction():
                self._set_latest(key, content, _now())

    def _set_latest(self, key: tuple[str, str], content: str, now: str) -> None:
        self.conn.execute(
            "INSERT INTO latest (student, assignment, content_hash, seen_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (student, assignment) DO UPDATE SET "
            "content_hash = excluded.content_hash, seen_at = excluded.seen_at",
            (*key, content, now),
        )

    def latest(self) -> list[tuple[str, str, float, float, str]]:
        """(student, assignment, score, max_score, report JSON) of each student's latest
        content, as most recently graded."""
        return self.conn.execute(
            "SELECT r.student, r.assignment, r.score, r.max_score, r.report_json "
            "FROM latest AS l JOIN results AS r "
            "ON r.student = l.student AND r.assignment = l.assignment "
            "AND r.content_hash = l.content_hash "
            "WHERE r.graded_at = (SELECT max(graded_at) FROM results AS newer "
            "WHERE newer.student = r.student AND newer.assignment = r.assignment "
            "AND newer.content_hash = r.content_hash) "
            "ORDER BY r.student, r.assignment"
        ).fetchall()


@contextlib.contextmanager
def exclusive_lock(db: Path) -> Iterator[None]:
    """Hold `<db>.lock` for the run, so two batches never grade into one database at once."""
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = db.parent / f"{db.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BatchError(f"{db}: another grading run is using this database") from None
        yield
    finally:
        os.close(fd)  # releases the lock


Key = tuple[str, str]  # (student, assignment), as stored


def _latest(db: Path, keys: Collection[Key] | None) -> list[tuple[str, str, float, float, str]]:
    """`ResultStore.latest` of the database at `db`: only the rows of `keys`, if given."""
    store = ResultStore(Path(db), create=False)
    try:
        rows = store.latest()
    finally:
        store.close()
    if keys is None:
        return rows
    wanted = set(keys)
    return [row for row in rows if (row[0], row[1]) in wanted]


def export_csv(
    db: Path, course: Course, csv_path: Path, keys: Collection[Key] | None = None
) -> int:
    """Write one row per (student, assignment) from the database (columns: see
    `reports.spreadsheet`); returns the number of rows. The row is the student's latest
    submission: the content found by the most recent run (so a submission
    reverted to an earlier version shows that version's grade). `keys`, if given, are the
    (student, assignment) to export (those a run found); otherwise every one stored. Written
    atomically.
    """
    rows = _latest(db, keys)
    reports = [(student, assignment, _stored(*rest)) for student, assignment, *rest in rows]
    atomic_write_text(csv_path, spreadsheet.render(course, reports))
    return len(rows)


def _stored(score: float, max_score: float, report_json: str) -> Report:
    """A stored report; if it no longer reads as one, its stored totals alone (a CSV row then
    has no exercise scores, rather than no row at all)."""
    try:
        return from_json(report_json)
    except ReportFormatError:
        return Report(score=score, max_score=max_score, gradable=False)


def export_to_nbgrader(
    db: Path, course: Course, course_dir: Path, keys: Collection[Key] | None = None
) -> GradebookSummary:
    """Write each student's latest scores into the gradebook of the nbgrader course at
    `course_dir`: a `submitted/<student>/<assignment>` result to that assignment, a one-level
    result to every exercise's assignment. `keys` as for `export_csv`."""
    rows = _latest(db, keys)
    reports = ((student, assignment, from_json(text)) for student, assignment, *_, text in rows)
    return write_reports(course_dir, course, reports)

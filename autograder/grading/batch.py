"""Grade a whole folder of submissions, resumably: `grade_all(root, course=..., db=..., ...)`.

Layouts. Every immediate subfolder of ROOT is one student's submission (the folder name is the
student id). When ROOT is nbgrader's `submitted/` folder, or a course folder containing one,
each `submitted/<student>/<assignment>/` is one submission, always keyed by (student,
assignment) even if there is only one assignment. Hidden entries (`.x`), `__pycache__` and
files at ROOT are ignored; a symlinked folder that points outside ROOT is refused.

Resuming. Each submission is fingerprinted by a sha256 of its files' relative paths and bytes
(`content_hash`). Results live in an SQLite database keyed by (student, assignment, hash), one
transaction per finished submission, written by this (parent) process only; worker processes
only grade. A run skips every submission whose key is already stored, so a run killed at any
moment, even by SIGKILL, loses at most the submissions that were being graded at that moment,
and a rerun grades exactly those and whatever was not reached. A changed submission has a new
hash and is graded again. Report files are written atomically after the commit, and rewritten
from the database when missing or stale.

What is stored. Reports the grader returns, including ungradable ones (bad input), and
refusals decided here (a folder symlinked out of ROOT, a file over `MAX_FILE_BYTES`): those
are properties of the submission's content. An exception in the grader, a worker process that
dies, or a report that fails validation is a fault of ours, not of the submission: an error
report is written to the reports folder, but nothing is stored, so the next run retries it.

Database (schema version `DB_SCHEMA_VERSION`, WAL mode): `meta(key, value)` holds
`schema_version`; `results(student, assignment, content_hash, score, max_score, report_json,
graded_at)` one row per graded content, assignment "" outside nbgrader trees; `latest(student,
assignment, content_hash, seen_at)` the content each student had at the last run, which is
what the CSV shows (so a submission reverted to an earlier, already graded version shows that
version's grade). A `<db>.lock` file next to it keeps two runs from sharing one database.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import io
import json
import logging
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import re
import signal
import sqlite3
import stat
import threading
import traceback
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from autograder.course.config import Course
from autograder.reports.model import (
    ExerciseResult,
    Report,
    ReportFormatError,
    atomic_write_text,
    from_json,
    to_json,
    write_json,
)

log = logging.getLogger(__name__)

DB_SCHEMA_VERSION = 1
MAX_FILE_BYTES = 5 * 1024 * 1024  # one file over this: the submission is refused
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # all files together
MAX_FILES = 5000
SKIPPED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".git"})
NBGRADER_SUBMITTED = "submitted"
REFUSED_PREFIX = "refused-"  # content_hash of a refused submission: "refused-" + sha256(reason)
MAX_ATTEMPTS = 2  # a submission in flight when a worker process died is retried once
MAX_POOL_BREAKS = 3  # worker processes dying this many times in a row, nothing graded: give up


class BatchError(Exception):
    """The batch cannot run (database, lock, grader start-up); the message says why."""


class SubmissionRefused(Exception):
    """The submission is not graded at all (too large, symlinked out of ROOT...)."""


class GraderLike(Protocol):
    def grade(self, submission: Path, student: str | None = None, /) -> Report: ...


GraderFactory = Callable[[Course], AbstractContextManager[GraderLike]]


def real_grader(course: Course) -> AbstractContextManager[GraderLike]:
    """The default `grader_factory`: the course's real `Grader` (imported only when used)."""
    from autograder.grading.grader import Grader

    return Grader(course)


# --- finding submissions ---------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """One submission: a student's folder, or nbgrader's `submitted/<student>/<assignment>`.

    `problem` is set when the folder is refused without being read (it is not graded).
    """

    student: str
    assignment: str | None
    path: Path
    problem: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(student, assignment) as stored: "" for the assignment of a one-level layout."""
        return self.student, self.assignment or ""


def _student_text(name: str) -> str:
    """A folder name as text that can be stored: undecodable bytes shown as `\\xe9`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _ignored(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED_DIRS


def _folders(parent: Path, root: Path) -> Iterator[tuple[str, Path, str | None]]:
    """(name, path, problem) of the subfolders of `parent` a submission may be, sorted."""
    for entry in sorted(parent.iterdir(), key=lambda p: p.name):
        if _ignored(entry.name):
            continue
        if entry.is_symlink():
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling, or a loop: not a folder
                continue
            if not target.is_dir():
                continue
            if not target.is_relative_to(root):
                yield entry.name, entry, "the folder is a symlink pointing outside ROOT; refused"
                continue
            yield entry.name, entry, None
        elif entry.is_dir():
            yield entry.name, entry, None


def find_submissions(root: Path) -> list[Submission]:
    """The submissions under `root`, sorted by (student, assignment); see the module doc."""
    root = Path(root)
    real_root = root.resolve()
    if real_root.name == NBGRADER_SUBMITTED:
        submitted = root
    elif (root / NBGRADER_SUBMITTED).is_dir() and not (root / NBGRADER_SUBMITTED).is_symlink():
        submitted = root / NBGRADER_SUBMITTED
        real_root = submitted.resolve()
    else:
        return [
            Submission(_student_text(name), None, path, problem)
            for name, path, problem in _folders(root, real_root)
        ]
    found = []
    for student, student_dir, problem in _folders(submitted, real_root):
        try:
            assignments = list(_folders(student_dir, real_root)) if problem is None else []
        except OSError as error:
            problem = f"the folder cannot be read ({error.strerror or error}); refused"
        if problem is not None:
            found.append(Submission(_student_text(student), None, student_dir, problem))
            continue
        for assignment, path, problem in assignments:
            found.append(
                Submission(_student_text(student), _student_text(assignment), path, problem)
            )
    return found


# --- content hash ----------------------------------------------------------------------


def _read_capped(path: str, shown: str) -> bytes:
    """A regular file's bytes, without following a symlink or blocking on a FIFO."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SubmissionRefused(f"{shown}: changed while being read")
        data = f.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SubmissionRefused(_too_large(shown, len(data)))
    return data


def _too_large(shown: str, size: int) -> str:
    return (
        f"{shown}: {size} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit per file; "
        "the submission is not graded"
    )


def content_hash(path: Path) -> str:
    """sha256 (hex) over the sorted relative paths and bytes of the submission's files.

    Regular files and symlinks (by their target text; never followed) count; `__pycache__`,
    `.ipynb_checkpoints` and `.git` folders, empty folders and special files do not. Raises
    `SubmissionRefused` for a file over `MAX_FILE_BYTES`, more than `MAX_TOTAL_BYTES` in all
    or more than `MAX_FILES` files.
    """
    entries: list[tuple[bytes, bytes, str]] = []  # (relative path, kind, absolute path)
    stack: list[tuple[str, bytes]] = [(os.fspath(path), b"")]
    total = 0
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as scan:
            for entry in scan:
                relative = prefix + os.fsencode(entry.name)
                if entry.is_symlink():
                    kind = b"L"
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRS:
                        stack.append((entry.path, relative + b"/"))
                    continue
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    if size > MAX_FILE_BYTES:
                        raise SubmissionRefused(_too_large(os.fsdecode(relative), size))
                    total += size
                    if total > MAX_TOTAL_BYTES:
                        raise SubmissionRefused(
                            f"over {MAX_TOTAL_BYTES // (1024 * 1024)} MB of files in all; "
                            "the submission is not graded"
                        )
                    kind = b"F"
                else:
                    continue  # a FIFO, socket or device: not content
                entries.append((relative, kind, entry.path))
                if len(entries) > MAX_FILES:
                    raise SubmissionRefused(
                        f"more than {MAX_FILES} files; the submission is not graded"
                    )
    digest = hashlib.sha256(b"attention-autograder/submission/1\0")
    for relative, kind, absolute in sorted(entries):
        if kind == b"L":
            data = os.fsencode(os.readlink(absolute))
        else:
            data = _read_capped(absolute, os.fsdecode(relative))
        for part in (kind, relative, data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def _fingerprint(submission: Submission) -> tuple[str, str | None]:
    """(content hash, refusal reason or None). A refusal has a hash derived from its reason."""
    problem = submission.problem
    if problem is None:
        try:
            return content_hash(submission.path), None
        except SubmissionRefused as error:
            problem = str(error)
        except OSError as error:
            problem = f"cannot be read: {error.strerror or error}"
    return REFUSED_PREFIX + hashlib.sha256(problem.encode("utf-8", "replace")).hexdigest(), problem


# --- untrusted names --------------------------------------------------------------------

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
MAX_NAME = 80


def _readable(text: str) -> str:
    ascii_text = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    cleaned = _UNSAFE.sub("_", ascii_text).lstrip(".-")[:MAX_NAME]
    return cleaned or "_"


def report_filename(student: str, assignment: str | None = None) -> str:
    """`<student>.json` or `<student>__<assignment>.json`, safe as one file name.

    Characters other than ASCII letters, digits and `._@+-` become `_` (accents are dropped
    first), leading dots and dashes go, long names are cut; whenever that changed anything, or
    a part could make `__` ambiguous, a short hash of the original name(s) keeps names distinct.
    """
    parts = [student] if assignment is None else [student, assignment]
    cleaned = [_readable(part) for part in parts]
    changed = cleaned != parts
    if assignment is not None and any(
        "__" in part or part.startswith("_") or part.endswith("_") for part in parts
    ):
        changed = True
    name = "__".join(cleaned)
    if changed:
        original = "\0".join(parts).encode("utf-8", "surrogateescape")
        name += "-" + hashlib.sha256(original).hexdigest()[:10]
    return name + ".json"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: str) -> str:
    """A text cell a spreadsheet will not run as a formula: `'` before = + - @ tab CR."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _display(name: str, limit: int = 40) -> str:
    from rich.markup import escape

    printable = "".join(c if c.isprintable() else "?" for c in name)
    return escape(printable if len(printable) <= limit else printable[: limit - 1] + "…")


# --- the results database --------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE results (
    student TEXT NOT NULL,
    assignment TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    report_json TEXT NOT NULL,
    graded_at TEXT NOT NULL,
    PRIMARY KEY (student, assignment, content_hash)
);
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


class _Store:
    """The results database. Only the batch's parent process writes it."""

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
        if version != str(DB_SCHEMA_VERSION):
            raise BatchError(
                f"{self.path}: results database schema version {version}, but this autograder "
                f"reads version {DB_SCHEMA_VERSION} only; use another database path (everything "
                "is then graded again), or the autograder version that wrote this one"
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

    def find(self, key: tuple[str, str], content: str) -> str | None:
        """The stored report JSON of this submission's content, or None."""
        row = self.conn.execute(
            "SELECT report_json FROM results "
            "WHERE student = ? AND assignment = ? AND content_hash = ?",
            (*key, content),
        ).fetchone()
        return row[0] if row else None

    def add(self, key: tuple[str, str], content: str, report: Report) -> None:
        """Store a result and make it the student's latest, in one transaction."""
        now = _now()
        with self.transaction():
            self.conn.execute(
                "INSERT INTO results (student, assignment, content_hash, score, max_score, "
                "report_json, graded_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (student, assignment, content_hash) DO UPDATE SET "
                "score = excluded.score, max_score = excluded.max_score, "
                "report_json = excluded.report_json, graded_at = excluded.graded_at",
                (*key, content, report.score, report.max_score, to_json(report, indent=None), now),
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
        """(student, assignment, score, max_score, report JSON) of each student's latest."""
        return self.conn.execute(
            "SELECT r.student, r.assignment, r.score, r.max_score, r.report_json "
            "FROM latest AS l JOIN results AS r "
            "ON r.student = l.student AND r.assignment = l.assignment "
            "AND r.content_hash = l.content_hash "
            "ORDER BY r.student, r.assignment"
        ).fetchall()


@contextlib.contextmanager
def _exclusive(db: Path) -> Iterator[None]:
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


# --- CSV -------------------------------------------------------------------------------


def _number(value: float) -> str:
    text = f"{round(value, 6):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def export_csv(db: Path, course: Course, csv_path: Path) -> int:
    """Write one row per (student, assignment) from the database; returns the number of rows.

    Columns: student, assignment, score, max_score, then each exercise id (in course order)
    with that exercise's score, empty if the report has no such exercise. The row is the
    student's latest submission: the content found by the most recent run (so a submission
    reverted to an earlier version shows that version's grade). Written atomically.
    """
    store = _Store(Path(db), create=False)
    try:
        rows = store.latest()
    finally:
        store.close()
    ids = [exercise.id for exercise in course.exercises]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "assignment", "score", "max_score", *ids])
    for student, assignment, score, max_score, report_json in rows:
        exercises = json.loads(report_json).get("exercises", {})
        cells = [
            _number(exercises[i]["score"]) if isinstance(exercises.get(i), dict) else ""
            for i in ids
        ]
        writer.writerow(
            [csv_text(student), csv_text(assignment), _number(score), _number(max_score), *cells]
        )
    atomic_write_text(csv_path, buffer.getvalue())
    return len(rows)


# --- results ---------------------------------------------------------------------------

Status = Literal["graded", "skipped", "failed"]


@dataclass(frozen=True)
class BatchResult:
    """One submission's outcome in this run. `failed`: refused, or the grader broke."""

    student: str
    assignment: str | None
    score: float
    max_score: float
    status: Status
    report: Path


@dataclass
class BatchSummary:
    graded: int = 0
    skipped: int = 0
    failed: int = 0
    results: list[BatchResult] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C: what finished is saved; run again to go on


def error_report(course: Course, submission: Submission, message: str) -> Report:
    """A report for a submission that could not be graded: every exercise 0, status error."""
    exercises = {
        e.id: ExerciseResult(
            id=e.id,
            title=e.title,
            score=0.0,
            max_score=e.points,
            status="error",
            message="not graded: see the report's errors",
        )
        for e in course.exercises
    }
    return Report(
        score=0.0,
        max_score=math.fsum(e.points for e in course.exercises),
        gradable=False,
        errors=(message,),
        submission=str(submission.path),
        student=submission.student,
        exercises=exercises,
    )


# --- worker processes ------------------------------------------------------------------

# ("ok", report.to_dict()) | ("error", message) | ("init_error", message)
Outcome = tuple[str, Any]

_worker_state: dict[str, Any] = {}


def _grade_once(grader: GraderLike, path: Path, student: str) -> Outcome:
    try:
        report = grader.grade(path, student)
        return "ok", report.to_dict()
    except Exception as error:
        log.debug("grader raised for %s", student, exc_info=True)
        detail = traceback.format_exc(limit=-8)
        return "error", f"the grader failed ({type(error).__name__}: {error})\n{detail}"


def _watch_parent() -> None:
    """If the batch process dies (even SIGKILL), take this worker and its group down too."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        if os.getpgrp() == os.getpid():  # our own group: this worker and its fork server
            os.killpg(0, signal.SIGKILL)
        os._exit(1)

    threading.Thread(target=watch, name="watch-batch-parent", daemon=True).start()


def _worker_init(factory: GraderFactory, course: Course) -> None:
    # Our own process group: a Ctrl-C in the terminal reaches the batch process only, which
    # lets the submissions in progress finish, instead of breaking their grading halfway.
    with contextlib.suppress(OSError):
        os.setpgrp()
    _watch_parent()
    try:
        manager = factory(course)
        _worker_state["grader"] = manager.__enter__()
    except Exception as error:
        _worker_state["init_error"] = f"{type(error).__name__}: {error}\n{traceback.format_exc()}"
        return
    multiprocessing.util.Finalize(None, manager.__exit__, args=(None, None, None), exitpriority=10)


def _worker_grade(path: str, student: str) -> Outcome:
    if "init_error" in _worker_state:
        return "init_error", _worker_state["init_error"]
    return _grade_once(_worker_state["grader"], Path(path), student)


# --- the batch -------------------------------------------------------------------------


@dataclass
class _Job:
    submission: Submission
    content: str
    attempts: int = 0


class _Bar:
    def __init__(self, enabled: bool, total: int) -> None:
        self.progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
            )
            self.task = self.progress.add_task("grading", total=total)

    def __enter__(self) -> _Bar:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, verb: str, submission: Submission, advance: int = 0) -> None:
        if self.progress is not None:
            name = submission.student
            if submission.assignment is not None:
                name += f"/{submission.assignment}"
            self.progress.update(self.task, description=f"{verb} {_display(name)}", advance=advance)


class _Batch:
    def __init__(
        self, course: Course, store: _Store, reports_dir: Path, bar: _Bar, factory: GraderFactory
    ) -> None:
        self.course, self.store, self.reports_dir = course, store, reports_dir
        self.bar, self.factory = bar, factory
        self.summary = BatchSummary()

    def report_path(self, submission: Submission) -> Path:
        return self.reports_dir / report_filename(submission.student, submission.assignment)

    def done(self, submission: Submission, report: Report, status: Status) -> None:
        self.summary.results.append(
            BatchResult(
                student=submission.student,
                assignment=submission.assignment,
                score=report.score,
                max_score=report.max_score,
                status=status,
                report=self.report_path(submission),
            )
        )
        setattr(self.summary, status, getattr(self.summary, status) + 1)
        self.bar.show(status, submission, advance=1)

    def prepare(self, submissions: list[Submission]) -> list[_Job]:
        """Skip what is stored (fixing its report file), refuse what must be; the rest to do."""
        jobs = []
        for submission in submissions:
            self.bar.show("checking", submission)
            content, problem = _fingerprint(submission)
            stored = self.store.find(submission.key, content)
            if stored is not None:
                try:
                    report = from_json(stored)
                except ReportFormatError as error:
                    log.warning("%s: stored report unreadable (%s); grading again", content, error)
                else:
                    self.store.mark_latest(submission.key, content)
                    path = self.report_path(submission)
                    text = to_json(report)
                    try:
                        up_to_date = path.read_bytes() == text.encode("utf-8")
                    except OSError:
                        up_to_date = False
                    if not up_to_date:
                        atomic_write_text(path, text)
                    self.done(submission, report, "skipped")
                    continue
            if problem is not None:
                log.warning("%s: refused: %s", submission.path, problem)
                self.finish(
                    _Job(submission, content),
                    error_report(self.course, submission, problem),
                    stored=True,
                    status="failed",
                )
            else:
                jobs.append(_Job(submission, content))
        return jobs

    def finish(self, job: _Job, report: Report, *, stored: bool, status: Status) -> None:
        """Commit first, then the report file: a crash between them is repaired next run."""
        if stored:
            self.store.add(job.submission.key, job.content, report)
        write_json(report, self.report_path(job.submission))
        self.done(job.submission, report, status)

    def fail(self, job: _Job, message: str) -> None:
        """Our fault, not the submission's: an error report, nothing stored (retried next run)."""
        log.error("%s: %s", job.submission.path, message)
        short = message.split("\n", 1)[0]
        report = error_report(self.course, job.submission, f"{short}; please report it")
        self.finish(job, report, stored=False, status="failed")

    def outcome(self, job: _Job, outcome: Outcome) -> None:
        kind, payload = outcome
        if kind == "init_error":
            raise BatchError(f"the grader could not start in a worker process: {payload}")
        if kind != "ok":
            self.fail(job, payload)
            return
        try:
            report = Report.from_dict(payload)
        except ReportFormatError as error:
            self.fail(job, f"the grader produced an invalid report ({error})")
            return
        self.finish(job, report, stored=True, status="graded")

    def run_here(self, jobs: list[_Job]) -> None:
        """workers=1: grade in this process, with one grader (easy to debug)."""
        try:
            manager = self.factory(self.course)
            grader = manager.__enter__()
        except Exception as error:
            raise BatchError(
                f"the grader could not start: {type(error).__name__}: {error}"
            ) from error
        with contextlib.ExitStack() as stack:
            stack.push(manager)
            for job in jobs:
                self.bar.show("grading", job.submission)
                self.outcome(job, _grade_once(grader, job.submission.path, job.submission.student))

    def run_pool(self, jobs: list[_Job], workers: int) -> None:
        """Grade in `workers` spawned processes, each holding one grader for its whole life."""
        queue = deque(jobs)
        breaks = 0
        while queue:
            graded_before = self.summary.graded + self.summary.failed
            if self._one_pool(queue, workers):
                breaks = (
                    0 if self.summary.graded + self.summary.failed > graded_before else breaks + 1
                )
                if breaks >= MAX_POOL_BREAKS:
                    raise BatchError(
                        f"the grading worker processes died {breaks} times in a row without "
                        "grading anything; see the messages above"
                    )

    def _one_pool(self, queue: deque[_Job], workers: int) -> bool:
        """Grade from `queue` until it is empty or the pool breaks (then True)."""
        executor = ProcessPoolExecutor(
            max_workers=min(workers, len(queue)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(self.factory, self.course),
        )
        running: dict[Future[Outcome], _Job] = {}
        broken = False
        try:
            try:
                while running or (queue and not broken):
                    while queue and not broken and len(running) < workers:
                        job = queue.popleft()
                        self.bar.show("grading", job.submission)
                        path, student = str(job.submission.path), job.submission.student
                        try:
                            running[executor.submit(_worker_grade, path, student)] = job
                        except BrokenProcessPool:  # broke under another submission
                            queue.appendleft(job)
                            broken = True
                    if not running:
                        break
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        broken |= self._collect(running.pop(future), future, queue)
            except KeyboardInterrupt:
                self.summary.interrupted = True
                queue.clear()
                log.warning(
                    "interrupted: finishing the %d submission(s) in progress "
                    "(Ctrl-C again to stop now; they are then graded next run)",
                    len(running),
                )
                try:
                    for future in list(running):
                        wait([future])
                        self._collect(running.pop(future), future, queue)
                except KeyboardInterrupt:
                    _kill_workers(executor)
                queue.clear()
        except BaseException:
            _kill_workers(executor)
            raise
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
        return broken

    def _collect(self, job: _Job, future: Future[Outcome], queue: deque[_Job]) -> bool:
        """Handle one finished future; True if the pool broke under it."""
        try:
            outcome = future.result()
        except BrokenProcessPool:
            job.attempts += 1
            if job.attempts < MAX_ATTEMPTS:
                queue.appendleft(job)
            else:
                self.fail(job, "the grading process died while grading this submission")
            return True
        except Exception as error:  # e.g. a result that could not be sent back
            self.fail(job, f"the grading process failed ({type(error).__name__}: {error})")
            return False
        self.outcome(job, outcome)
        return False


def _kill_workers(executor: ProcessPoolExecutor) -> None:
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)  # the worker's own group, fork server included
        with contextlib.suppress(OSError):
            process.kill()


def _remove_stale_temp_files(reports_dir: Path) -> None:
    """Temp files `atomic_write_text` left when a run was killed mid-write (never reports)."""
    for path in reports_dir.glob(".*.json.*.tmp"):
        with contextlib.suppress(OSError):
            path.unlink()


def grade_all(
    root: Path,
    *,
    course: Course,
    db: Path,
    reports_dir: Path,
    workers: int = 2,
    csv_path: Path | None = None,
    grader_factory: GraderFactory = real_grader,
    progress: bool = True,
) -> BatchSummary:
    """Grade every submission under `root` not graded yet; see the module doc.

    Each report goes to `reports_dir/<student>.json` (`<student>__<assignment>.json` for an
    nbgrader tree); `csv_path`, if given, gets `export_csv` at the end. Ctrl-C stops cleanly:
    the submissions in progress finish (in-process, with workers=1: are dropped), what finished
    is saved and the summary says `interrupted`. Raises `BatchError` when the batch cannot run
    (database of another version or in use, grader that cannot start).

    `grader_factory(course)` is called once per worker process (spawned: it must be picklable,
    and a script calling this with workers > 1 needs the `if __name__ == "__main__":` guard).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    root, db, reports_dir = Path(root), Path(db), Path(reports_dir)
    if not root.is_dir():
        raise BatchError(f"{root}: no such folder")
    reports_dir.mkdir(parents=True, exist_ok=True)
    real_reports = reports_dir.resolve()
    submissions = [s for s in find_submissions(root) if s.path.resolve() != real_reports]
    summary = BatchSummary()
    with _exclusive(db):
        store = _Store(db)
        try:
            _remove_stale_temp_files(reports_dir)
            with _Bar(progress, len(submissions)) as bar:
                batch = _Batch(course, store, reports_dir, bar, grader_factory)
                summary = batch.summary
                try:
                    jobs = batch.prepare(submissions)
                    if jobs and workers == 1:
                        batch.run_here(jobs)
                    elif jobs:
                        batch.run_pool(jobs, workers)
                except KeyboardInterrupt:
                    summary.interrupted = True
        finally:
            store.close()
        if csv_path is not None:
            export_csv(db, course, Path(csv_path))
    return summary

"""Grade what is not graded yet: `grade_all(root, course=..., db=..., ...)`.

A run skips every submission whose (student, assignment, content hash) is stored. Only this
(parent) process writes the database, one transaction per finished submission; worker
processes only grade. So a run killed at any moment, even by SIGKILL, loses at most the
submissions being graded at that moment, and a rerun grades exactly those and whatever was not
reached. Report files are written atomically after the commit, and rewritten from the database
when missing or stale.

Stored: the reports the grader returns, ungradable ones included, and refusals (a folder
symlinked out of ROOT, a file over `MAX_FILE_BYTES`): properties of the content. Not stored: an
exception in the grader, a worker process that dies, a report that fails validation: our fault,
not the submission's; an error report is written and the next run retries it.

An nbgrader `submitted/<student>/<assignment>` whose assignment is named after an exercise's
module (`ex03_softmax`) is that one exercise: its report, stored and written, holds that
exercise only, with its score and max_score (`for_assignment`).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import signal
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol

from autograder.batch.discovery import (
    Submission,
    find_submissions,
    fingerprint,
    grading_fingerprint,
)
from autograder.batch.errors import BatchError
from autograder.batch.names import report_filename
from autograder.batch.progress import ProgressBar
from autograder.batch.store import ResultStore, exclusive_lock, export_csv, export_to_nbgrader
from autograder.course.config import Course
from autograder.files import atomic_write_text, not_a_folder
from autograder.grading.errors import SuiteError
from autograder.reports.common import printable
from autograder.reports.model import (
    ExerciseResult,
    Report,
    ReportFormatError,
    from_json,
    summarise,
    to_json,
    write_json,
)
from autograder.reports.nbgrader_gradebook import GradebookSummary
from autograder.sandbox.confine import set_dumpable
from autograder.sandbox.pool import ForkServer, SandboxError

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2  # a submission in flight when a worker process died is retried once
MAX_POOL_BREAKS = 3  # worker processes dying this many times in a row, nothing graded: give up


class GraderLike(Protocol):
    def grade(self, submission: Path, student: str | None = None, /) -> Report: ...


GraderFactory = Callable[[Course], AbstractContextManager[GraderLike]]


def real_grader(course: Course, strict: bool = False) -> AbstractContextManager[GraderLike]:
    """The default `grader_factory`: the course's real `Grader` (imported only when used).

    In a grading process of the pool (single-threaded as yet), the fork server is forked from
    that process before the grader loads any reference or suite: one import of torch per
    grading process, not two, where the pool's processes already keep every core busy.
    Elsewhere the server is a fresh interpreter, importing torch alongside this process.
    """
    in_pool = multiprocessing.parent_process() is not None and threading.active_count() == 1
    server = ForkServer(fork_this_process=True) if in_pool else None
    from autograder.grading.grader import Grader

    return Grader(course, strict=strict, fork_server=server)


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
    problem: str | None = None  # why the grader could not grade it (its score is then 0)


@dataclass
class BatchSummary:
    graded: int = 0
    skipped: int = 0
    failed: int = 0
    results: list[BatchResult] = field(default_factory=list)
    interrupted: bool = False  # Ctrl-C: what finished is saved; run again to go on
    gradebook: GradebookSummary | None = None  # with nbgrader_course: what reached nbgrader


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


def for_assignment(course: Course, submission: Submission, report: Report) -> Report:
    """The report of an nbgrader assignment named after an exercise's module: that exercise
    only, its score and max_score the report's. Any other report is returned as it is."""
    exercise = course.by_module(submission.assignment or "")
    if exercise is None or exercise.id not in report.exercises:
        return report
    kept = {exercise.id: report.exercises[exercise.id]}
    score, max_score = summarise(kept.values())
    return replace(report, score=score, max_score=max_score, exercises=kept)


# --- worker processes (spawned: they import these by name) ----------------------------

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
    try:
        # First, while this process runs one thread: the real grader forks its fork server.
        manager = factory(course)
        _worker_state["grader"] = manager.__enter__()
    except Exception as error:
        # A course the grader cannot use is said plainly; anything else is a fault of ours.
        known = isinstance(error, SuiteError | SandboxError | OSError)
        trace = "" if known else f"\n{traceback.format_exc()}"
        _worker_state["init_error"] = f"{type(error).__name__}: {error}{trace}"
        return
    finally:
        _watch_parent()  # a batch that died meanwhile is seen at once
    multiprocessing.util.Finalize(None, manager.__exit__, args=(None, None, None), exitpriority=10)
    multiprocessing.util.Finalize(None, _exit_without_unwinding, exitpriority=0)


def _exit_without_unwinding() -> None:
    """The last step of a grading process, its results sent and its grader closed: skip
    unwinding an interpreter with torch loaded (a third of a second at the end of a batch)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


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


class _Batch:
    def __init__(
        self,
        course: Course,
        store: ResultStore,
        reports_dir: Path,
        bar: ProgressBar,
        factory: GraderFactory,
    ) -> None:
        self.course, self.store, self.reports_dir = course, store, reports_dir
        self.bar, self.factory = bar, factory
        self.grading = grading_fingerprint(course)  # a result stored under another is stale
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
                problem=None if report.gradable else "; ".join(report.errors) or "not gradable",
            )
        )
        setattr(self.summary, status, getattr(self.summary, status) + 1)
        self.bar.show(status, submission, advance=1)

    def prepare(self, submissions: list[Submission]) -> list[_Job]:
        """Skip what is stored (fixing its report file), refuse what must be; the rest to do."""
        jobs = []
        for submission in submissions:
            self.bar.show("checking", submission)
            content, problem = fingerprint(submission)
            stored = self.store.find(submission.key, content, self.grading)
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
                log.warning("%s: refused: %s", printable(str(submission.path)), printable(problem))
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
        report = for_assignment(self.course, job.submission, report)
        if stored:
            self.store.add(job.submission.key, job.content, self.grading, report)
        write_json(report, self.report_path(job.submission))
        self.done(job.submission, report, status)

    def fail(self, job: _Job, message: str) -> None:
        """Our fault, not the submission's: an error report, nothing stored (retried next run)."""
        log.error("%s: %s", printable(str(job.submission.path)), message)
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
        """Grade in `workers` spawned processes, each holding one grader for its whole life.

        The submissions in flight when a grading process died are graded again one at a time,
        each in a pool of its own: only the one that kills its process is failed for it."""
        queue = deque(jobs)
        breaks = 0
        while queue and not self.summary.interrupted:
            suspect = next((job for job in queue if job.attempts), None)
            if suspect is not None:
                queue.remove(suspect)
            batch, size = (deque([suspect]), 1) if suspect else (queue, workers)
            graded_before = self.summary.graded + self.summary.failed
            broken = self._one_pool(batch, size)
            if batch is not queue:
                queue.extendleft(batch)  # a retry it left for later, if any
            if broken:
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


def _submissions(root: Path, reports_dir: Path) -> list[Submission]:
    """The submissions under `root` (not `reports_dir`), each skipped entry logged as a
    warning; `BatchError` when there is none."""
    if problem := not_a_folder(root):
        raise BatchError(f"{root}: {problem}")
    skipped: list[str] = []
    real_reports = reports_dir.resolve()
    try:
        found = find_submissions(root, skipped)
    except OSError as error:
        raise BatchError(f"{root}: cannot be read ({error.strerror or error})") from None
    for line in skipped:
        log.warning("%s", line)
    submissions = [s for s in found if s.path.resolve() != real_reports]
    if not submissions:
        raise BatchError(
            f"{root}: no submission found; grade-all expects one folder per student "
            "(or nbgrader's submitted/<student>/<assignment>/)"
        )
    return submissions


def grade_all(
    root: Path,
    *,
    course: Course,
    db: Path,
    reports_dir: Path,
    workers: int = 2,
    csv_path: Path | None = None,
    nbgrader_course: Path | None = None,
    grader_factory: GraderFactory = real_grader,
    progress: bool = True,
) -> BatchSummary:
    """Grade every submission under `root` not graded yet; see the module doc.

    Each report goes to `reports_dir/<student>.json` (`<student>__<assignment>.json` for an
    nbgrader tree); `csv_path`, if given, gets `export_csv` at the end, and `nbgrader_course`,
    an nbgrader course directory, gets the latest scores in its gradebook (`export_to_nbgrader`):
    both of the submissions found under `root` only. Each entry of `root` that is not a
    submission is logged as a warning; none found at all raises `BatchError`.
    Ctrl-C stops cleanly: the submissions in progress finish (in-process, with workers=1: are
    dropped), what finished is saved and the summary says `interrupted`. Raises `BatchError`
    when the batch cannot run (database of another version or in use, grader that cannot
    start).

    `grader_factory(course)` is called once per worker process (spawned: it must be picklable,
    and a script calling this with workers > 1 needs the `if __name__ == "__main__":` guard).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    root, db, reports_dir = Path(root), Path(db), Path(reports_dir)
    submissions = _submissions(root, reports_dir)
    keys = {submission.key for submission in submissions}
    reports_dir.mkdir(parents=True, exist_ok=True)
    # Pool workers send results back through pipes: keep other processes of this user from
    # reading or writing them through /proc (a non-dumpable process's /proc files are root's).
    set_dumpable(False)
    with exclusive_lock(db):
        store = ResultStore(db)
        try:
            _remove_stale_temp_files(reports_dir)
            with ProgressBar(progress, len(submissions)) as bar:
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
            export_csv(db, course, Path(csv_path), keys)
        if nbgrader_course is not None:
            summary.gradebook = export_to_nbgrader(db, course, Path(nbgrader_course), keys)
    return summary

"""Grade one submission: hidden suites in this (trusted) process, student code in workers.

`Grader` holds what outlives one submission, the reference solutions and the fork server, so a
batch pays for them once. `grade()` never raises on bad input: whatever it cannot grade becomes
a message inside a normal report.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from types import ModuleType

import torch

from autograder.course.config import Course, Exercise
from autograder.grading.remote import WORKER_USER, RemoteModule
from autograder.grading.replay import CachedModule, Plan, record_plans
from autograder.grading.scoring import exercise_result
from autograder.grading.session import SubmissionContext, TestOutcome, collect_suites, run_tests
from autograder.grading.signatures import signature_diagnoses
from autograder.grading.student import InProcessModule, ModuleProxy
from autograder.grading.submission import (
    ModuleSource,
    Submission,
    load_submission,
    materialise,
)
from autograder.mistakes import diagnose_failures
from autograder.reports.model import Report
from autograder.sandbox.confine import (
    STRICT_WITHOUT_LANDLOCK,
    Protections,
    not_searchable_by_others,
    probe,
    python_out_of_workers_reach,
    set_dumpable,
)
from autograder.sandbox.pool import ForkServer, SandboxError


def load_reference(course: Course, exercise: Exercise) -> ModuleType:
    """Import one reference solution, in this trusted process, under a private name."""
    path = course.solutions_dir / exercise.filename
    spec = importlib.util.spec_from_file_location(f"_reference_{exercise.module}", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"{path}: the reference solution of {exercise.id!r} is missing")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _message(exercise: Exercise, submission: Submission, proxy: RemoteModule | None) -> str:
    """What the exercise's result says beside its tests: why its module did not import, or how
    its notebook's cells went, or which file under another name defines it, and which other
    file with work was set aside."""
    if proxy:
        lines = [proxy.import_failure or "", *proxy.cell_errors]
    else:
        lines = [_misnamed(exercise, submission)]
    lines.append(submission.set_aside.get(exercise.module, ""))
    return "\n".join(line for line in lines if line)


def _misnamed(exercise: Exercise, submission: Submission) -> str:
    """Why an exercise was not submitted, when a file under another name defines it."""
    file = submission.misnamed.get(exercise.module)
    if file is None:
        return ""
    return (
        f"{exercise.filename} was not submitted: {file} defines its functions, but the grader "
        f"reads only {exercise.filename}; rename it"
    )


def _check_reachable(folder: Path, user: str) -> None:
    """Workers dropped to `user` must reach their module under `folder`. Otherwise every import
    would fail and every student get 0."""
    blocked = not_searchable_by_others(folder)
    if blocked is not None:
        raise SandboxError(
            f"{blocked} is not searchable by other users, so workers (running as {user}) "
            f"could not read the submissions under {folder}; point TMPDIR elsewhere"
        )


def _signature_diagnoses(
    outcomes: list[TestOutcome],
    course: Course,
    submitted: dict[str, ModuleSource],
    references: dict[str, ModuleSource],
) -> dict[tuple[str, str], str]:
    """For each (exercise, test) that failed because a call raised TypeError, the diagnosis of
    the function's signature, if it differs from the reference's."""
    raised = {}
    for outcome in outcomes:
        if outcome.status == "failed" and outcome.raised is not None:
            function, type_name = outcome.raised
            if type_name == "TypeError" and function in course.exercise(outcome.exercise).functions:
                raised[outcome.exercise, outcome.name] = function
    if not raised:
        return {}
    found = signature_diagnoses(course, submitted, references, {e for e, _ in raised})
    return {test: found[test[0], f] for test, f in raised.items() if (test[0], f) in found}


def diagnosed(
    outcomes: list[TestOutcome],
    students: dict[str, ModuleProxy],
    course: Course,
    known: dict[tuple[str, str], str],
) -> list[TestOutcome]:
    """Name the common mistake behind each failed test: `known` ones (by exercise and test,
    say a signature other than the reference's), else one the catalogue recognises (only
    exercises with a failure are probed, with a few more calls to the student)."""
    names = dict(known)
    for exercise in course.exercises:
        failed = [
            o.name
            for o in outcomes
            if o.exercise == exercise.id
            and o.status == "failed"
            and not o.not_attempted
            and (o.exercise, o.name) not in names
        ]
        if failed and exercise.id in students:
            found = diagnose_failures(students[exercise.id], exercise, failed)
            names |= {(exercise.id, test): m.diagnosis() for test, m in found.items()}
    return [replace(o, diagnosis=names.get((o.exercise, o.name))) for o in outcomes]


class Grader:
    """Grades submissions of one course; use as a context manager."""

    def __init__(
        self,
        course: Course,
        *,
        strict: bool = False,
        fork_server: ForkServer | None = None,
        protections: Protections | None = None,
    ) -> None:
        """`strict`: refuse to grade without Landlock (SandboxError). `fork_server`: one already
        started (closed with the grader, or at once if the grader cannot start). `protections`:
        what to apply to workers, by default all the kernel offers (the hardening benchmark
        passes less)."""
        try:
            self.protections = probe() if protections is None else protections
            if strict and not self.protections.landlock_abi:
                raise SandboxError(STRICT_WITHOUT_LANDLOCK)
            self.warnings = tuple(self.protections.missing)  # carried by every report
            if self.protections.uid_drop:
                _check_reachable(Path(tempfile.gettempdir()), WORKER_USER)
                if blocked := python_out_of_workers_reach():
                    self.warnings += (
                        f"{blocked} is not searchable by other users, so graded code (run as "
                        f"{WORKER_USER}) can import only the modules the grader preloads: install "
                        "Python where every user can read it",
                    )
            # Workers run as the grader's user unless it is root: keep them from reading this
            # process's memory or /proc files.
            set_dumpable(False)
            # Suites compute on tiny tensors: extra threads only add synchronisation (the workers,
            # forked from the fork server, are single-threaded too).
            torch.set_num_threads(1)
            self.course = course
            self.references: dict[str, ModuleProxy] = {
                e.id: CachedModule(InProcessModule(load_reference(course, e)))
                for e in course.exercises
            }
            self.tests = collect_suites(course)
            self._reference_sources = {
                e.module: ModuleSource(
                    (course.solutions_dir / e.filename).read_text(encoding="utf-8"), e.filename
                )
                for e in course.exercises
            }
        except BaseException:
            if fork_server is not None:  # the grader's to close, and there is no grader
                fork_server.close()
            raise
        self.plans: dict[str, Plan] = {}  # recorded at the first submission of each exercise
        self._server = fork_server

    def __enter__(self) -> Grader:
        if self._server is None:
            self._server = ForkServer()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def plan(self, exercise_id: str) -> Plan:
        """The calls the exercise's suite makes, recorded on the reference the first time (a
        batch of one exercise's notebooks never runs the other suites)."""
        if exercise_id not in self.plans:
            self.plans |= record_plans(
                self.tests, self.course, self.references, self._reference_sources, [exercise_id]
            )
        return self.plans[exercise_id]

    def grade(self, path: Path, student: str | None = None) -> Report:
        """Grade the submission at `path` (a folder, a module or a notebook)."""
        assert self._server is not None, "use Grader as a context manager"
        if not self._server.alive():  # a dead server would fail every later submission
            self._server.close()
            self._server = ForkServer()  # a fresh interpreter: never a fork of this process
        started = time.monotonic()
        submission = load_submission(path, self.course)
        workspace = Path(tempfile.mkdtemp(prefix="autograder-"))
        try:
            paths = materialise(submission, workspace, for_other_user=self.protections.uid_drop)
            proxies = {
                e.id: RemoteModule(
                    self._server,
                    e,
                    submission.modules[e.module],
                    paths[e.module],
                    workspace,
                    self.protections,
                    self.course.other_modules(e.module),
                )
                for e in self.course.exercises
                if e.module in paths
            }
            for proxy in proxies.values():
                proxy.start()  # all workers confine and import at once
            for exercise_id, proxy in proxies.items():
                proxy.prefetch(self.plan(exercise_id))  # and answer while the tests run

            submitted = [e.id for e in self.course.exercises if e.module in paths]
            context = SubmissionContext(
                self.course, self.references, lambda e: proxies[e.id], submission.modules
            )
            try:
                outcomes = run_tests(self.tests, context, submitted)
                known = _signature_diagnoses(
                    outcomes, self.course, submission.modules, self._reference_sources
                )
                outcomes = diagnosed(outcomes, proxies, self.course, known)
            finally:
                for proxy in proxies.values():
                    proxy.kill()
                for proxy in proxies.values():
                    proxy.close()
        finally:
            shutil.rmtree(workspace, ignore_errors=True)
        exercises = {}
        for exercise in self.course.exercises:
            mine = [o for o in outcomes if o.exercise == exercise.id]
            proxy = proxies.get(exercise.id)
            exercises[exercise.id] = exercise_result(
                exercise,
                mine,
                exercise.module in paths,
                "".join(proxy.output) if proxy else "",
                _message(exercise, submission, proxy),
            )
        return Report(
            score=math.fsum(e.score for e in exercises.values()),
            max_score=self.course.max_score,
            gradable=bool(submission.modules),
            errors=tuple(submission.errors),
            warnings=self.warnings,
            submission=str(path),
            student=student,
            duration_s=time.monotonic() - started,
            exercises=exercises,
        )

"""The adversarial corpus (tests/adversarial/): every attack graded in one real batch.

One `grade_all` batch (2 grading processes, 1 s per call, 1024 MB) grades a submission per attack
(the reference solutions with one module replaced, see tests/adversarial/cases.py), two honest
students and a stub student, from a throwaway copy of the project (tests/adversarial/harness.py).
Then, per case: the attacked exercise ends as the case expects, every other exercise of that
submission gets full marks, the report file, the database and the batch's own result agree, and
the attack printed no `BREACH:` and stayed within its `limits`. And for the whole batch: it
finished, honest students got full marks and the stub 0, nothing but the grader's files was
written, no process, socket or SysV shared memory outlived it, and nothing reached the test's
listeners.

A case is skipped only when the kernel lacks the feature its protection needs. The batch's
folder (`$TMPDIR/adversarial-batch-*`) is removed afterwards; set ADVERSARIAL_KEEP=1 to keep it.
ADVERSARIAL_UNPROTECTED=1 grades with workers unconfined (no Landlock, seccomp or uid drop): a
check of the corpus itself, under which the cases those protections exist for must fail.
"""

from __future__ import annotations

import ast
import json
import math
import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.batch.names import report_filename
from autograder.reports.model import Report, ReportFormatError, from_json
from tests.adversarial import harness
from tests.adversarial.cases import (
    ATTACKS_DIR,
    CASES,
    Case,
    Fails,
    FullMarks,
    NoPoints,
    TestFails,
)

pytestmark = pytest.mark.timeout(harness.RUNNER_TIMEOUT_S + 120)

FEATURES = harness.kernel_features()
MAX_OUTPUT_CHARS = 70_000  # the grader keeps 64 KB of a worker's output, plus a note
EXPECTED_ENTRIES = {
    "project", "submissions", "reports", "tmp", "results.db", "results.db.lock",
    "results.db-wal", "results.db-shm", "runner.log", "summary.json",
}  # fmt: skip
EXPECTED_OBJECTS = {"meta", "results", "latest"}
EVIDENCE = re.compile(r"^EVIDENCE (\w+)=([0-9.]+)$", re.MULTILINE)
BREACH = re.compile(r"^BREACH: .*$", re.MULTILINE)


@dataclass
class Batch:
    adv: Path
    students: list[str]
    runner: harness.RunnerResult
    stored: harness.Stored
    leftovers: list[dict]  # processes of the batch alive after it (killed since)
    segments: dict[int, dict[str, int]]  # SysV shared memory the batch left (removed since)
    received: dict[str, list[bytes]]
    new_sockets: list[tuple]
    temp_files: list[str]  # new agx- entries in the shared temp folders (removed since)
    git_changes: list[str]
    project_changes: list[str]
    submission_changes: list[str]

    @property
    def strays(self) -> list[dict]:
        return (self.runner.summary or {}).get("strays", [])

    def report(self, student: str) -> Report | str:
        """The student's report file, or why there is none."""
        name = report_filename(student)
        if name not in self.stored.files:
            return f"no report file {name}"
        try:
            return from_json(self.stored.files[name])
        except ReportFormatError as error:
            return f"report file {name} is not a valid report: {error}"


@pytest.fixture(scope="module")
def batch() -> Iterator[Batch]:
    adv = harness.make_batch_dir()
    listeners = harness.Listeners()
    temp_before = harness.shared_temp_entries()
    new_temp: list[str] = []
    segments: dict[int, dict[str, int]] = {}
    try:
        students = harness.build(adv, listeners.values)
        pids_before = harness.process_ids()
        segments_before = harness.sysv_segments()
        sockets_before = harness.sockets()
        git_before = harness.git_status()
        project_before = harness.tree_hashes(adv / "project")
        submissions_before = harness.tree_hashes(adv / "submissions")

        runner = harness.run_batch(adv)
        if runner.returncode != 0:
            time.sleep(2.0)  # run_batch.py did not settle and clean up: give the rest time
        leftovers = harness.batch_processes(adv, pids_before, settle_s=3.0)
        ports = {listeners.values["PORT"], listeners.values["UDP_PORT"]}
        theirs = harness.socket_inodes([p["pid"] for p in leftovers])
        new_sockets = sorted(
            s
            for s in harness.sockets() - sockets_before
            if s[4] in theirs or {harness.port_of(s[1]), harness.port_of(s[2])} & ports
        )
        received = listeners.received()
        harness.kill(leftovers)
        # SysV segments made during the batch by a process started during it: the batch's.
        segments = {
            shmid: info
            for shmid, info in harness.sysv_segments().items()
            if shmid not in segments_before and info["cpid"] not in pids_before
        }
        new_temp = sorted(
            e
            for e in harness.shared_temp_entries() - temp_before
            if harness.ours(e) and Path(e) != adv
        )
        yield Batch(
            adv=adv,
            students=students,
            runner=runner,
            stored=harness.read_stored(adv),
            leftovers=leftovers,
            segments=segments,
            received=received,
            new_sockets=new_sockets,
            temp_files=new_temp,
            git_changes=harness.attributable(
                sorted(harness.git_status() ^ git_before), ["agx", *students]
            ),
            project_changes=harness.changed(project_before, harness.tree_hashes(adv / "project")),
            submission_changes=harness.changed(
                submissions_before, harness.tree_hashes(adv / "submissions")
            ),
        )
    finally:
        listeners.close()
        harness.remove_segments(sorted(segments))
        if not os.environ.get("ADVERSARIAL_KEEP"):
            shutil.rmtree(adv, ignore_errors=True)
        for entry in new_temp:  # only what the batch left, by name (see harness.ours)
            path = Path(entry)
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


# --- judging one case ---------------------------------------------------------------------


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, abs_tol=1e-6)


def _test_lines(tests, limit: int = 4) -> list[str]:
    lines = [
        f"    {t.name}: {t.status}, {t.score:g}/{t.max_score:g}: {t.message[:160]}" for t in tests
    ]
    return lines[:limit] + (
        [f"    ... and {len(lines) - limit} more"] if len(lines) > limit else []
    )


def outcome_problems(case: Case, result) -> list[str]:
    """What is wrong with the attacked exercise's result, given the case's expected outcome."""
    outcome, tests = case.outcome, result.tests
    problems = []
    if isinstance(outcome, NoPoints):
        scored = [t for t in tests if t.score > 0 and t.name.split("[")[0] not in outcome.allow]
        if scored:
            total = sum(t.score for t in scored)
            problems.append(f"scored {total:g} points the attack must not get, on:")
            problems += _test_lines(scored)
        for message in outcome.messages:
            if not any(message in t.message for t in tests) and message not in result.message:
                problems.append(f"no test message says {message!r}")
    elif isinstance(outcome, Fails):
        wrong = [t for t in tests if t.status != outcome.status]
        if not tests or wrong:
            problems.append(f"every test should end with status {outcome.status!r}; these do not:")
            problems += _test_lines(wrong)
        if not any(outcome.message in t.message for t in tests):
            problems.append(f"no test message says {outcome.message!r}; messages were:")
            problems += _test_lines(tests, 2)
    elif isinstance(outcome, FullMarks):
        if not _close(result.score, result.max_score):
            problems.append(f"a valid answer got {result.score:g}/{result.max_score:g}:")
            problems += _test_lines([t for t in tests if t.status != "passed"])
    elif isinstance(outcome, TestFails):
        named = [t for t in tests if t.name.split("[")[0] == outcome.test]
        if not named or any(t.status == "passed" for t in named):
            problems.append(f"{outcome.test} should fail: the mistake went unnoticed")
    return problems


def case_problems(batch: Batch, case: Case) -> list[str]:
    student = case.student
    report = batch.report(student)
    if isinstance(report, str):
        return [report]
    problems = []
    # The report file, the database and the batch's own result must tell the same story.
    row = batch.stored.rows.get(student)
    if row is None:
        problems.append("no row in the results database")
    else:
        if json.loads(row["report"]) != report.to_dict():
            problems.append("the report file and the database's report differ (forged?)")
        if not _close(row["score"], report.score):
            problems.append(
                f"the database says {row['score']:g}, the report file {report.score:g} (forged?)"
            )
    result = (batch.runner.summary or {}).get("results", {}).get(student)
    if result is not None and not _close(result["score"], report.score):
        problems.append(f"the batch computed {result['score']:g}, the report says {report.score:g}")
    # The attacked exercise, then every other one.
    attacked = report.exercises.get(case.exercise)
    if attacked is None:
        return [*problems, f"the report has no exercise {case.exercise}"]
    problems += outcome_problems(case, attacked)
    for exercise in report.exercises.values():
        if exercise.id != case.exercise and not _close(exercise.score, exercise.max_score):
            problems.append(
                f"exercise {exercise.id} (not attacked) got {exercise.score:g}/"
                f"{exercise.max_score:g}, status {exercise.status}:"
            )
            problems += _test_lines([t for t in exercise.tests if t.status != "passed"], 2)
        if len(exercise.output) > MAX_OUTPUT_CHARS:
            problems.append(
                f"exercise {exercise.id} kept {len(exercise.output)} characters of output"
            )
    # What the attack says it achieved.
    problems += [
        f"the attack reports {line}" for line in dict.fromkeys(BREACH.findall(attacked.output))
    ]
    for key, limit in case.limits.items():
        values = [float(v) for k, v in EVIDENCE.findall(attacked.output) if k == key]
        if values and max(values) > limit:
            problems.append(f"the attack reports {key}={max(values):g}, over the limit {limit:g}")
    # What it left behind.
    named = re.compile(rf"(?<!\w){re.escape(student)}(?!\w)").search  # the whole name
    own = report_filename(student)
    extra = [name for name in batch.stored.files if named(name) and name != own]
    if extra:
        problems.append(f"files in the reports folder: {extra}")
    objects = [name for _, name, sql in batch.stored.objects if named(name) or named(sql)]
    if objects:
        problems.append(f"objects in the results database: {objects}")
    first, end = case.sysv_keys
    left = [i["size"] >> 20 for i in batch.segments.values() if first <= i["key"] < end]
    if left:
        problems.append(f"it left {len(left)} SysV shared memory segments, {sum(left)} MB in all")
    if case.leaves:
        alive = [p for p in batch.strays + batch.leftovers if p["comm"] == case.leaves]
        if alive:
            problems.append(f"{len(alive)} process(es) named {case.leaves} outlived the batch")
    return problems


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_attack(batch, case):
    if case.requires and not FEATURES.intersection(case.requires):
        names = " and ".join(harness.FEATURE_NAMES[f] for f in case.requires)
        pytest.skip(f"the kernel lacks {names}")
    problems = case_problems(batch, case)
    assert not problems, f"{case.student}, expected {case.outcome}:\n" + "\n".join(problems)


# --- the whole batch ----------------------------------------------------------------------


def test_the_batch_finished(batch):
    runner, summary = batch.runner, batch.runner.summary
    tail = "\n".join(runner.log.splitlines()[-15:])
    assert runner.returncode == 0 and summary is not None, (
        f"run_batch.py ended with {runner.returncode} after {runner.duration_s:.0f} s:\n{tail}"
    )
    attempts = summary["attempts"]
    first = attempts[0] if attempts else {"error": "never ran"}
    assert first["error"] is None, f"the batch raised: {first['error']}\n{first.get('trace', '')}"
    assert not first["interrupted"]
    assert (first["graded"], first["failed"]) == (len(batch.students), 0), (
        f"{first['failed']} submission(s) failed (the grader broke, nothing stored), "
        f"{first['graded']} of {len(batch.students)} graded"
    )


def test_honest_students_get_full_marks_and_the_stub_nothing(batch):
    problems = []
    for student in (*harness.HONEST, harness.STUB):
        report = batch.report(student)
        if isinstance(report, str):
            problems.append(f"{student}: {report}")
            continue
        expected = 0.0 if student == harness.STUB else report.max_score
        if not _close(report.score, expected):
            problems.append(f"{student}: {report.score:g}/{report.max_score:g}")
            for exercise in report.exercises.values():
                wrong = [t for t in exercise.tests if (t.status == "passed") == (expected == 0)]
                problems += _test_lines(wrong, 2)
    assert not problems, "\n".join(problems)


def test_the_reports_folder_and_the_database_hold_only_true_results(batch):
    stored = batch.stored
    expected_files = {report_filename(s) for s in batch.students}
    problems = [
        f"unexpected file in reports/: {name}"
        for name in sorted(set(stored.files) - expected_files)
    ]
    problems += [f"missing report: {name}" for name in sorted(expected_files - set(stored.files))]
    problems += [
        f"unexpected {kind} in the database: {name} {sql[:120]}"
        for kind, name, sql in stored.objects
        if name not in EXPECTED_OBJECTS and not name.startswith("sqlite_autoindex_")
    ]
    problems += [
        f"a database row for a student who does not exist: {s}"
        for s in set(stored.rows) - set(batch.students)
    ]
    for student in batch.students:
        report, row = batch.report(student), stored.rows.get(student)
        if isinstance(report, str) or row is None:
            continue  # reported by the per-case and honest-student tests
        if json.loads(row["report"]) != report.to_dict() or not _close(row["score"], report.score):
            problems.append(
                f"{student}: the database ({row['score']:g}) and the report file "
                f"({report.score:g}) differ"
            )
    assert not problems, "\n".join(problems)


def test_no_process_outlives_the_batch(batch):
    alive = [
        f"{p['pid']} {p['comm']}: {p['cmdline'][:120]}" for p in batch.strays + batch.leftovers
    ]
    assert not alive, "processes of the batch alive after it (since killed):\n" + "\n".join(alive)


def test_no_file_is_left_or_changed(batch):
    problems = [f"left in a shared temp folder: {entry}" for entry in batch.temp_files]
    workspaces = sorted(p.name for p in (batch.adv / "tmp").iterdir())
    problems += [f"left in the batch's TMPDIR: {name}" for name in workspaces]
    extra = sorted({p.name for p in batch.adv.iterdir()} - EXPECTED_ENTRIES)
    problems += [f"unexpected file next to the database: {name}" for name in extra]
    problems += [f"repository (git status): {line}" for line in batch.git_changes]
    problems += [f"the project's copy: {change}" for change in batch.project_changes]
    problems += [f"a submission: {change}" for change in batch.submission_changes]
    assert not problems, "\n".join(problems[:40])


def test_no_shared_memory_is_left(batch):
    count, total = len(batch.segments), sum(i["size"] for i in batch.segments.values()) >> 20
    assert count == 0, (
        f"the batch left {count} SysV shared memory segment(s), {total} MB in all (removed since)"
    )


def test_nothing_reaches_the_listeners(batch):
    reached = {kind: got for kind, got in batch.received.items() if got}
    assert not reached, f"connections or datagrams received: {reached}"


def test_no_socket_is_left_open(batch):
    assert not batch.new_sockets, (
        f"sockets of the batch (or to the test's ports): {batch.new_sockets}"
    )


# --- the corpus itself --------------------------------------------------------------------


def test_every_attack_has_one_case_and_says_what_it_attacks():
    names = [case.name for case in CASES]
    on_disk = {
        p.stem if p.suffix == ".py" else p.name
        for p in ATTACKS_DIR.iterdir()
        if p.name != "__pycache__"
    }
    assert len(names) == len(set(names)), "a case is listed twice"
    assert set(names) == on_disk
    for case in CASES:
        module = case.source
        if module.is_dir():
            module = next(p for p in module.glob("ex*.py"))
        docstring = " ".join((ast.get_docstring(ast.parse(module.read_text())) or "").split())
        assert "Gain if it worked" in docstring or "Not a cheat" in docstring, (
            f"{module}: the docstring says what the attack does and what it would gain"
        )

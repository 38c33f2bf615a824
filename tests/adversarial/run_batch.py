"""Run one `grade_all` batch for the adversarial tests, from a throwaway copy of the project.

The harness copies this file into that copy and runs it as a child process:

    python PROJECT/run_batch.py --root R --db D --reports P --out SUMMARY.json [--unprotected]

It imports `autograder` from PROJECT (this file's folder), grades with the course of
PROJECT/course.toml with small limits (1 s per call, 1024 MB), and writes SUMMARY.json.
The runner is a child subreaper: a process the attacks start, even one that calls setsid, stays
its descendant, so after the batch (and 2 s to settle) it lists every descendant still alive
(`strays`), then kills them by pid and reaps them. A batch that raises is run again (resumable:
what was stored is skipped), at most `--attempts` times; every attempt is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import dataclasses
import json
import os
import signal
import sys
import time
import traceback
from pathlib import Path

PROJECT = Path(__file__).resolve().parent
PR_SET_CHILD_SUBREAPER = 36
TIME_LIMIT_S = 1.0
MEMORY_LIMIT_MB = 1024
SETTLE_S = 2.0


def limited_course():
    """The project's course, every exercise limited to 1 s per call and 1024 MB."""
    from autograder.course.config import load_course

    course = load_course(PROJECT / "course.toml")
    exercises = tuple(
        dataclasses.replace(e, time_limit_s=TIME_LIMIT_S, memory_limit_mb=MEMORY_LIMIT_MB)
        for e in course.exercises
    )
    return dataclasses.replace(course, exercises=exercises)


def unprotected_grader(course):
    """A grader whose workers get no Landlock, seccomp or uid drop (rlimits and the rest stay):
    `--unprotected`, to check that the corpus catches what the sandbox is there to stop."""
    from autograder.grading.grader import Grader
    from autograder.sandbox.confine import Protections

    return Grader(course, protections=Protections(landlock_abi=0, seccomp=False, uid_drop=False))


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """Every live descendant of `root`, from /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (parent := _ppid(int(name))) is not None:
            children.setdefault(parent, []).append(int(name))
    found, stack = [], [root]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def describe(pid: int) -> dict:
    def read(name: str) -> str:
        try:
            return (
                Path(f"/proc/{pid}/{name}")
                .read_bytes()
                .replace(b"\0", b" ")
                .decode("utf-8", "replace")
                .strip()
            )
        except OSError:
            return ""

    state = read("stat").rsplit(")", 1)[-1].split()[:1]
    return {"pid": pid, "comm": read("comm"), "cmdline": read("cmdline")[:300], "state": state}


def is_own_helper(info: dict) -> bool:
    """multiprocessing's resource tracker: the runner's own, it exits with the runner."""
    return "resource_tracker" in info["cmdline"]


def clean_up_strays() -> list[dict]:
    """Wait for the batch's processes to go, then list, kill and reap whatever remains."""
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        reap_zombies()
        time.sleep(0.1)
    strays = []
    for pid in descendants(os.getpid()):
        info = describe(pid)
        if is_own_helper(info) or info["state"] == ["Z"]:
            continue
        strays.append(info)
    for _ in range(3):  # a fork bomb may still be forking: repeat
        for pid in descendants(os.getpid()):
            if not is_own_helper(describe(pid)):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)
        reap_zombies()
    return strays


def reap_zombies() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    parser = argparse.ArgumentParser()
    for option in ("--root", "--db", "--reports", "--out"):
        parser.add_argument(option, required=True, type=Path)
    parser.add_argument("--attempts", type=int, default=3)
    parser.add_argument("--unprotected", action="store_true")
    args = parser.parse_args()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    sys.path.insert(0, str(PROJECT))
    from autograder.batch import grade_all
    from autograder.batch.runner import real_grader

    factory = unprotected_grader if args.unprotected else real_grader

    course = limited_course()
    attempts, results = [], {}
    for _ in range(args.attempts):
        started = time.monotonic()
        try:
            summary = grade_all(
                args.root, course=course, db=args.db, reports_dir=args.reports, workers=2,
                progress=False, grader_factory=factory,
            )  # fmt: skip
        except BaseException as error:  # recorded, then the batch is resumed
            attempts.append(
                {"error": f"{type(error).__name__}: {error}", "trace": traceback.format_exc()}
            )
            continue
        for r in summary.results:
            results.setdefault(r.student, {"score": r.score, "status": r.status})
            if r.status != "skipped":
                results[r.student] = {"score": r.score, "status": r.status}
        attempts.append(
            {
                "error": None,
                "graded": summary.graded,
                "skipped": summary.skipped,
                "failed": summary.failed,
                "interrupted": summary.interrupted,
                "duration_s": time.monotonic() - started,
            }
        )
        break
    strays = clean_up_strays()
    summary = {"attempts": attempts, "results": results, "strays": strays}
    args.out.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

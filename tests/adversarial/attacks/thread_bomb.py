"""Starts threads in a loop at import (2000 at most, each sleeping a minute).

Gain if it worked: threads are processes to the kernel: enough of them exhaust the user's
process limit or the machine's, for the grader and every other worker.
"""

import threading
import time

STARTED = 0
while STARTED < 2000:
    try:
        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()
    except (RuntimeError, MemoryError):
        break
    STARTED += 1
print(f"EVIDENCE threads={STARTED}", flush=True)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

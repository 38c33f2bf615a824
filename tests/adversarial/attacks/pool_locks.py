"""Takes the locks of grade-all's process pool and dies holding them. A grading process of the
pool holds the pool's queues, whose locks are POSIX semaphores in shared memory; a fork server
forked from it, and every worker forked from that, would inherit the mapping, and the queues
are on the stack the worker was forked from.

Gain if it worked: no grading process can send a result or take the next submission, so the
batch hangs and no classmate is graded.
"""

import sys
from multiprocessing.synchronize import SemLock


def pool_locks():
    frame = sys._getframe()
    while frame is not None:
        for value in list(frame.f_locals.values()):
            for lock in ("_rlock", "_wlock", "_sem"):
                if isinstance(getattr(value, lock, None), SemLock):
                    yield getattr(value, lock)
        frame = frame.f_back


TAKEN = [lock for lock in pool_locks() if lock.acquire(False)]
if TAKEN:
    print(f"BREACH: holds {len(TAKEN)} locks of the grading pool", flush=True)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

"""A time limit on each public check, so that a loop that never ends fails its check instead of
hanging `pytest exercises`: the exercise's `time_limit_s`, as when it is graded.

It uses SIGALRM, so it applies where that exists (not on Windows) and in the main thread only.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Iterator
from types import FrameType


class CheckTimeout(BaseException):
    """A public check ran past its exercise's time limit. Not an Exception, so that an
    `except Exception` in the student's loop cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise CheckTimeout in the code running here once it has run for `seconds`. A timer
    already running (pytest-timeout's) is left to fire if it is the stricter one, and resumed
    otherwise."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable or 0 < signal.getitimer(signal.ITIMER_REAL)[0] <= seconds:
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise CheckTimeout(f"still running after {seconds:g} s, the exercise's time limit")

    previous = signal.signal(signal.SIGALRM, stop)
    start = time.monotonic()
    pending, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if pending:
            signal.setitimer(signal.ITIMER_REAL, max(pending - (time.monotonic() - start), 1e-3))

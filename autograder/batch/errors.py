"""The batch's one error: shared by the store and the runner."""

from __future__ import annotations


class BatchError(Exception):
    """The batch cannot run (database, lock, grader start-up); the message says why."""

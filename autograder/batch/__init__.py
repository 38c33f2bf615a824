"""Grade a whole class, resumably: `grade_all` grades a folder of submissions into SQLite.

`discovery` finds the submissions and fingerprints their content; `names` makes untrusted
student names safe to store, as file names, as CSV cells and on the terminal; `store` is the
results database and the gradebook CSV exported from it; `runner` grades what is not stored yet,
in this process or in a pool of worker processes.
"""

from __future__ import annotations

from autograder.batch.discovery import find_submissions
from autograder.batch.errors import BatchError
from autograder.batch.runner import BatchSummary, grade_all
from autograder.batch.store import export_csv

__all__ = ["BatchError", "BatchSummary", "export_csv", "find_submissions", "grade_all"]

"""Prints 100 KB at import, then exits (`os._exit(0)`): every call of the exercise needs a new
worker, and each one prints again.

The grader keeps 64 KB of a worker's output. Gain if it worked: a cap per worker is no cap per
exercise: an exercise with many calls puts megabytes into the report (and the database, and
whatever displays it) from a module that only fails.
"""

import os

os.write(1, b"agx flood " * 10_000)
os._exit(0)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

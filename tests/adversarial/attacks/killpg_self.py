"""Sends SIGKILL to its whole process group, `os.killpg(0, SIGKILL)`, inside the graded function.

Gain if it worked: a worker sharing the grader's process group would kill the grader (and the
whole batch) with it.
"""

import os
import signal


def softmax(scores, dim=-1):
    os.killpg(0, signal.SIGKILL)

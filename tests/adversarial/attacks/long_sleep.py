"""Sleeps for an hour inside the graded function (no CPU used, so a CPU-time limit never fires).

Gain if it worked: the batch stalls on this student; with a CPU limit only, forever.
"""

import time


def softmax(scores, dim=-1):
    time.sleep(3600)

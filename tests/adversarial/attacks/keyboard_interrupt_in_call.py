"""Raises KeyboardInterrupt inside the graded function.

Gain if it worked: pytest (in a grader that ran student code in-process) ends the whole
session on KeyboardInterrupt, so the failing tests would never be recorded.
"""


def softmax(scores, dim=-1):
    raise KeyboardInterrupt

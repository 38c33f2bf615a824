"""Loops forever inside the graded function.

Gain if it worked: a grader without a deadline never finishes the batch (every later student is
never graded); one that measures time inside the worker never notices.
"""


def softmax(scores, dim=-1):
    while True:
        pass

"""Crashes the interpreter with a segmentation fault (`ctypes.string_at(0)`) inside the call.

Gain if it worked: a grader that runs student code in its own process dies with it: no report
for anyone after this student.
"""

import ctypes


def softmax(scores, dim=-1):
    return ctypes.string_at(0)

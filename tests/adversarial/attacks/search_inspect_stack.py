"""Looks through the caller's stack (`inspect.stack()`) for the expected answer or the reference.

A grader that calls the student and the reference from the same test function has the expected
tensor, or the reference module, in a local variable a few frames up. Gain if it worked: return
the expected value (any tensor of the right shape that is not one of our inputs), or call the
reference's softmax found in a caller's locals.
"""

import inspect
import types

import torch


def softmax(scores, dim=-1):
    for frame in inspect.stack()[1:]:
        for name, value in frame.frame.f_locals.items():
            found = getattr(value, "softmax", None)
            if isinstance(found, types.FunctionType) and found.__code__ is not softmax.__code__:
                print("BREACH: found a softmax in the caller's", name, flush=True)
                return found(scores, dim)
            if isinstance(value, torch.Tensor) and value.shape == scores.shape and "expect" in name:
                print("BREACH: found the expected value in", name, flush=True)
                return value
    raise RuntimeError("nothing found on the stack")

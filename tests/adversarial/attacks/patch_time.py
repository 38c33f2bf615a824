"""Freezes `time.monotonic`, `time.time`, `time.perf_counter` (and their _ns forms), then is slow.

Gain if it worked: a grader measuring the call's duration with the clock of the process that
runs it would see 0 s, so a correct but far too slow function (here: 5 s per call) would pass.
"""

import time

import torch

for name in ("monotonic", "time", "perf_counter", "process_time"):
    setattr(time, name, lambda: 1000.0)
    setattr(time, f"{name}_ns", lambda: 1000 * 10**9)


def softmax(scores, dim=-1):
    time.sleep(5)
    shift = scores.amax(dim=dim, keepdim=True)
    shift = torch.where(shift == float("-inf"), 0.0, shift)
    exps = torch.exp(scores - shift)
    total = exps.sum(dim=dim, keepdim=True)
    return exps / torch.where(total == 0, 1.0, total)

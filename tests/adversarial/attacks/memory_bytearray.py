"""Allocates `bytearray(10**11)` (100 GB) inside the graded function.

Gain if it worked: the machine swaps or the kernel's OOM killer picks a victim, maybe the grader
or a classmate's worker; with overcommit, the allocation "succeeds" and the damage comes later.
"""


def softmax(scores, dim=-1):
    hog = bytearray(10**11)
    raise RuntimeError(f"allocated {len(hog)} bytes")

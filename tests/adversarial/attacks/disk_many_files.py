"""Writes many small files (4096 of 64 KB, 256 MB: this machine is shared) in its working
directory at the first call, each under RLIMIT_FSIZE, and one file in each shared temporary
folder (`/tmp`, `/var/tmp`, `/dev/shm`, which is memory).

Gain if it worked: a per-file size limit does not bound the total: enough files fill the disk or
its inodes; and files outside the worker's scratch folder stay after grading.
"""

import os
import time

WRITTEN = []


def fill():
    block = b"\1" * (64 << 10)
    deadline = time.monotonic() + 0.8
    while len(WRITTEN) < 4096 and time.monotonic() < deadline:
        try:
            with open(f"agx-small-{len(WRITTEN)}", "wb") as f:
                f.write(block)
        except OSError:
            break
        WRITTEN.append(1)
    print(f"EVIDENCE written_mb={len(WRITTEN) * 64 // 1024}", flush=True)
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        try:
            with open(f"{folder}/agx-left-behind-{os.getpid()}", "wb") as f:
                f.write(block)
            print("BREACH: wrote a file in", folder, flush=True)
        except OSError:
            pass


def normalize(scores, dim=-1):
    if not WRITTEN:
        fill()
    return scores / scores.sum(dim=dim, keepdim=True)

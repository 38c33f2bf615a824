"""Fills memory files at import (`os.memfd_create`, then `posix_fallocate`, which makes the
kernel allocate every page without mapping one), then the ordinary heap (4 GB at most in all:
this machine is shared).

A memfd's pages belong to the file, not to a mapping: unmapped, they count neither in the
address-space limit (RLIMIT_AS) nor in the resident set (RSS) a watch reads, yet they are memory
taken from the machine. Gain if it worked: far more memory than the exercise's limit.
"""

import os

MB = 1 << 20
FILES, HELD = [], []
while len(FILES) < 256:
    try:
        fd = os.memfd_create("agx-memfd")
        os.posix_fallocate(fd, 0, 16 * MB)  # RLIMIT_FSIZE caps each file at 16 MB
    except (OSError, MemoryError, ValueError):
        break
    FILES.append(fd)
print(f"EVIDENCE held_mb={len(FILES) * 16}", flush=True)
while len(FILES) * 16 + len(HELD) * 64 < 4096:
    try:
        HELD.append(b"\1" * (64 * MB))
    except MemoryError:
        break
    print(f"EVIDENCE held_mb={len(FILES) * 16 + len(HELD) * 64}", flush=True)


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

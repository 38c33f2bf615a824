"""Back the fork server's memory with huge pages, so that it forks cheaply.

A fork copies the parent's page tables and an exit tears the child's down: with torch's ~150 MB
of private memory in 4 KiB pages, that is most of a worker's cost. Backing that memory with
2 MiB pages (MADV_COLLAPSE, Linux >= 6.1) cuts the tables about 500-fold; a worker that writes
to a shared huge page still copies only 4 KiB of it.

An optimisation only: a kernel without MADV_COLLAPSE or transparent huge pages forks as
before. The collapse costs about a quarter of a second and saves a few milliseconds a worker, so
the server does it only once a batch has shown that it is large (`COLLAPSE_AFTER_SPAWNS`).
`python bench/grading.py` shows the effect.
"""

from __future__ import annotations

import ctypes
import os
import re
from pathlib import Path

COLLAPSE_AFTER_SPAWNS = 64

_MADV_COLLAPSE = 25
_HUGE_PAGE = 2 * 2**20
# A private, anonymous, writable mapping (the heap included): "start-end rw-p 00000000 00:00 0".
_ANONYMOUS = re.compile(r"^([0-9a-f]+)-([0-9a-f]+) rw-p 00000000 00:00 0(?: +\[heap\])?$")

_libc = ctypes.CDLL(None, use_errno=True)
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]


def available() -> bool:
    """Whether this kernel can collapse memory into huge pages on request (Linux >= 6.1, with
    transparent huge pages not turned off)."""
    try:
        enabled = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    version = tuple(int(part) for part in re.findall(r"\d+", os.uname().release)[:2])
    return "[never]" not in enabled and version >= (6, 1)


def anonymous_ranges(maps: str) -> list[tuple[int, int]]:
    """The huge-page-aligned parts of the private anonymous mappings in a `/proc/PID/maps`."""
    ranges = []
    for line in maps.splitlines():
        match = _ANONYMOUS.match(line.rstrip())
        if match:
            start = -(-int(match[1], 16) // _HUGE_PAGE) * _HUGE_PAGE
            end = int(match[2], 16) // _HUGE_PAGE * _HUGE_PAGE
            if end > start:
                ranges.append((start, end))
    return ranges


def collapse_into_huge_pages() -> int:
    """Ask the kernel to back this process's anonymous memory with huge pages; the bytes
    it accepted (0 where the kernel cannot)."""
    with open("/proc/self/maps", encoding="ascii") as maps:
        ranges = anonymous_ranges(maps.read())
    collapsed = 0
    for start, end in ranges:
        if _libc.madvise(start, end - start, _MADV_COLLAPSE) == 0:
            collapsed += end - start
    return collapsed

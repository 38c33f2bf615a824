"""Read a file a student handed in, trusting nothing about it."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class NotARegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder, not a file's content."""


class FileTooLarge(OSError):
    """The file holds more than the reader's limit; `size` is how much it holds."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def read_capped(path: str | Path, limit: int, *, follow_symlinks: bool) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` of them. Opened without
    blocking and checked once open, so that a FIFO or a device (a link to /dev/zero, say) can
    neither stall the reader nor feed it forever, and nothing can be swapped in between."""
    flags = os.O_RDONLY | os.O_NONBLOCK | (0 if follow_symlinks else os.O_NOFOLLOW)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(str(path))
        data = file.read(limit + 1)
    size = max(info.st_size, len(data))
    if size > limit:
        raise FileTooLarge(size)
    return data

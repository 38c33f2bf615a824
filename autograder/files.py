"""Files read and written with care: a file a student handed in, read trusting nothing about
it, and files written atomically, so that a reader never sees one half written."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


class NotARegularFile(OSError):
    """The path is a FIFO, a device, a socket or a folder, not a file's content."""


class FileTooLarge(OSError):
    """The file holds more than the reader's limit; `size` is how much it holds."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


def not_a_folder(path: Path) -> str | None:
    """Why `path` cannot be read as a folder ("no such folder", "not a folder"); None if it can."""
    if path.is_dir():
        return None
    return "not a folder" if path.exists() else "no such folder"


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


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder (`.NAME.*.tmp`), fsync, then
    os.replace: readers see the old file or the new one, never a part. An existing file keeps
    its permissions; a new one gets 0644."""
    path = Path(path)
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fchmod(f.fileno(), mode)
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename itself durable, where supported
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """`atomic_write_bytes` of `text` in UTF-8, its line endings as they are."""
    atomic_write_bytes(path, text.encode("utf-8"))

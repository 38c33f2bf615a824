"""Frames: length-prefixed byte strings over pipes and sockets, with deadlines.

A frame is an 8-byte little-endian length, then that many bytes. Reading never allocates more
than the caller's cap and never waits past its deadline; a peer that hangs up or stalls raises a
`WireError` the caller can report. No torch here: the process-management code imports this
before torch is loaded.
"""

import math
import os
import select
import struct
import time

_FRAME_PREFIX = struct.Struct("<Q")  # payload length
_READ_CHUNK = 1 << 20


class WireError(ValueError):
    """A message or frame is malformed, over a limit, or could not be transferred."""


class FrameTimeout(WireError):
    """The deadline passed before a frame was fully read or written."""


class FrameEOF(WireError):
    """The stream ended cleanly before the first byte of a frame."""


class FrameTooLarge(WireError):
    """A frame declares more bytes than the reader takes; `size` is what it declares."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"frame declares {size} bytes, over the {limit}-byte limit")
        self.size = size


def write_frame(fd: int, payload: bytes, deadline: float | None = None) -> None:
    """Write ``payload`` as one frame (8-byte little-endian length, then the payload).

    ``deadline`` (a ``time.monotonic()`` value) only bounds waiting on a non-blocking fd: a
    blocking write cannot be interrupted, so put the fd in non-blocking mode if the peer is
    untrusted. A closed peer raises ``WireError``; EINTR is retried by Python (PEP 475).
    """
    body = memoryview(payload).cast("B")
    prefix = _FRAME_PREFIX.pack(len(body))
    # A small frame goes out in one write (one wakeup of the reader); a large one is not copied.
    parts = (prefix + body,) if len(body) <= _READ_CHUNK else (prefix, body)
    for view in map(memoryview, parts):
        while view:
            try:
                view = view[os.write(fd, view) :]
            except BlockingIOError:
                _wait(fd, select.POLLOUT, deadline)
            except BrokenPipeError:
                raise WireError("peer closed the stream while a frame was being written") from None
            except OSError as exc:
                raise WireError(f"writing a frame failed: {exc}") from None


def read_frame(fd: int, max_bytes: int, deadline: float | None) -> bytes:
    """Read one frame's payload from a raw fd, waiting at most until ``deadline``.

    Raises ``FrameEOF`` if the stream ends before the frame starts, ``FrameTimeout`` when
    ``deadline`` (a ``time.monotonic()`` value, or None for no limit) passes, and
    ``WireError`` for EOF mid-frame or a declared length over ``max_bytes``.
    """
    prefix = _read_exact(fd, _FRAME_PREFIX.size, deadline, "length prefix", eof_ok=True)
    (length,) = _FRAME_PREFIX.unpack(prefix)
    if length > max_bytes:
        raise FrameTooLarge(length, max_bytes)
    return _read_exact(fd, length, deadline, "payload", eof_ok=False)


def _read_exact(fd: int, n: int, deadline: float | None, what: str, eof_ok: bool) -> bytes:
    chunks: list[bytes] = []
    got = 0
    while got < n:
        _wait(fd, select.POLLIN, deadline)
        try:
            chunk = os.read(fd, min(n - got, _READ_CHUNK))
        except BlockingIOError:  # spurious readiness
            continue
        except OSError as exc:
            raise WireError(f"reading a frame failed: {exc}") from None
        if not chunk:
            if eof_ok and got == 0:
                raise FrameEOF("stream ended before a frame started")
            raise WireError(f"stream ended mid-frame: got {got} of {n} {what} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _wait(fd: int, event: int, deadline: float | None) -> None:
    """Block until ``fd`` is ready for ``event`` (or errored/closed), or raise FrameTimeout."""
    timeout_ms = None
    if deadline is not None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise FrameTimeout("deadline passed while transferring a frame")
        timeout_ms = math.ceil(remaining * 1000)
    poller = select.poll()
    poller.register(fd, event)
    if not poller.poll(timeout_ms):
        raise FrameTimeout("deadline passed while transferring a frame")

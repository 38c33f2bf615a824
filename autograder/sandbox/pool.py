"""The trusted side of the sandbox: start the fork server, get workers from it, stop them.

`ForkServer` owns the server process. `Worker` is one forked worker: its call channel (a unix
socket), a thread draining its output into a capped buffer (so a chatty worker never blocks on a
full pipe), and its process group, killed whole when the worker is done with.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from autograder.sandbox import frames
from autograder.sandbox.confine import erase_environment, unmap_shared_writable_memory
from autograder.sandbox.server import MAX_MESSAGE, THREAD_VARIABLES, serve, warm_up
from autograder.sandbox.spec import WorkerSpec

MAX_OUTPUT_BYTES = 64 * 1024
SERVER_START_TIMEOUT_S = 120.0


class SandboxError(RuntimeError):
    """The sandbox itself failed (not the student's code): the grader cannot go on."""


class ForkServer:
    """A fork server, started at construction and waited for at first use; a context manager.

    By default it is a fresh interpreter. This module does not import torch, so a program can
    start the server first and import torch itself while the server does the same on another
    core. With `fork_this_process`, this process imports torch and forks the server from
    itself, which costs one import of torch instead of two: for a process of its own (a batch's
    grading process) that has loaded nothing hidden yet (no reference, suite or expected value,
    which the server would then hold) and runs no other Python thread.
    """

    def __init__(self, *, fork_this_process: bool = False) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            **dict.fromkeys(THREAD_VARIABLES, "1"),
        }
        self._lock = threading.Lock()
        try:
            self._process: subprocess.Popen[bytes] | ForkedServer = (
                ForkedServer(theirs.fileno(), environment)
                if fork_this_process
                else _start_interpreter(theirs.fileno(), environment)
            )
        except BaseException:
            self._control.close()
            raise
        finally:
            theirs.close()
        self._ready = False
        self.memory = MemoryWatch()

    def _wait_until_ready(self) -> None:
        """The server imports torch while its starter does other work; wait for it once."""
        if self._ready:
            return
        self._control.settimeout(SERVER_START_TIMEOUT_S)
        if self._receive().get("ready") is not True:
            raise SandboxError("the fork server did not start")
        self._control.settimeout(30.0)
        self._ready = True

    def _receive(self) -> dict[str, Any]:
        try:
            message = self._control.recv(MAX_MESSAGE)
        except (TimeoutError, OSError) as error:
            raise SandboxError(f"the fork server stopped answering ({error})") from None
        if not message:
            raise SandboxError(f"the fork server exited (status {self._process.poll()})")
        return json.loads(message)

    def spawn(self, spec: WorkerSpec) -> Worker:
        """Fork a worker that imports `spec.path` and waits for calls."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        read_end, write_end = os.pipe()
        try:
            with self._lock:
                self._wait_until_ready()
                request = json.dumps({"op": "spawn", "spec": asdict(spec)}).encode()
                socket.send_fds(self._control, [request], [theirs.fileno(), write_end])
                pid = int(self._receive()["pid"])
        finally:
            theirs.close()
            os.close(write_end)
        worker = Worker(self, pid, ours, read_end)
        self.memory.watch(worker, spec.memory_limit_mb * 2**20)
        return worker

    def reap(self, pid: int) -> int | None:
        """The worker's wait status once it has exited, or None while it still runs."""
        with self._lock:
            self._control.send(json.dumps({"op": "reap", "pid": pid}).encode())
            reply = self._receive()
        return None if reply.get("alive") else int(reply["status"])

    @property
    def pid(self) -> int:
        """The server process's id (for diagnostics and benchmarks)."""
        return self._process.pid

    def alive(self) -> bool:
        """Whether the server process still runs (an OOM kill, say, may have stopped it)."""
        return self._process.poll() is None

    def close(self) -> None:
        self._control.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _start_interpreter(control_fd: int, environment: dict[str, str]) -> subprocess.Popen[bytes]:
    package_parent = str(Path(__file__).resolve().parents[2])
    launch = (
        f"import sys; sys.path.insert(0, {package_parent!r}); "
        f"from autograder.sandbox.server import main; main({control_fd})"
    )
    return subprocess.Popen(
        [sys.executable, "-I", "-c", launch],
        stdin=subprocess.DEVNULL,
        pass_fds=(control_fd,),
        env=environment,
        cwd=tempfile.gettempdir(),
    )


class ForkedServer:
    """The fork server as a fork of this process; what `ForkServer` uses of a `Popen`."""

    def __init__(self, control_fd: int, environment: dict[str, str]) -> None:
        if threading.active_count() > 1:
            raise SandboxError("cannot fork the fork server: this process runs other threads")
        os.environ.update({name: environment[name] for name in THREAD_VARIABLES})
        warm_up()  # here, so that this process shares the server's torch import
        self.pid = os.fork()
        if self.pid == 0:
            try:
                os.closerange(3, control_fd)  # nothing of this process's but the control socket
                os.closerange(control_fd + 1, os.sysconf("SC_OPEN_MAX"))
                unmap_shared_writable_memory()  # nor memory shared with this process
                os.chdir(tempfile.gettempdir())
                erase_environment()  # nor the environment this process was started with
                os.environ.update(environment)
                serve(control_fd)
            finally:
                os._exit(70)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere: gone all the same (as with Popen)
                pid, status = self.pid, 0
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"fork server {self.pid}", timeout)
            time.sleep(0.005)
        return code

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


def describe_exit(status: int | None) -> str:
    """A wait status in words, for a student."""
    if status is None or status < 0:
        return "stopped"
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = (
            signal.Signals(number).name if number in signal.Signals.__members__.values() else number
        )
        return f"was killed by signal {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


class Worker:
    """One forked worker process and its channel."""

    def __init__(self, server: ForkServer, pid: int, channel: socket.socket, output: int) -> None:
        self.server, self.pid, self.channel = server, pid, channel
        channel.setblocking(False)  # so deadlines bound sends too: a worker may stop reading
        self._output_fd = output
        self._output = bytearray()
        self.output_truncated = False
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()
        self.status: int | None = None
        self.killed_for: str | None = None  # set when the trusted side killed it, and why

    def _drain_output(self) -> None:
        while chunk := os.read(self._output_fd, 65536):
            room = MAX_OUTPUT_BYTES - len(self._output)
            self._output += chunk[: max(room, 0)]
            self.output_truncated |= len(chunk) > room
        os.close(self._output_fd)

    @property
    def output(self) -> str:
        text = self._output.decode("utf-8", errors="replace")
        return text + ("\n[output truncated]" if self.output_truncated else "")

    def send(self, payload: bytes, deadline: float) -> None:
        frames.write_frame(self.channel.fileno(), payload, deadline)

    def receive(self, max_bytes: int, deadline: float) -> bytes:
        return frames.read_frame(self.channel.fileno(), max_bytes, deadline)

    def kill(self) -> None:
        """SIGKILL the worker's process group (it is reaped by `stop`)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)

    def stop(self, exited: bool = False) -> str:
        """Reap the worker (killing its process group first unless it `exited` on its own)."""
        self.server.memory.forget(self)
        if self.status is None:
            self.channel.close()
            status = self.server.reap(self.pid) if exited else None
            if status is None:
                self.kill()
                while (status := self.server.reap(self.pid)) is None:
                    time.sleep(0.001)
            self.status = status
            self._drain.join(timeout=1.0)
        return self.killed_for or describe_exit(self.status)


def resident_bytes(pid: int) -> int:
    """A process's resident memory (shared and memfd pages included), 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


class MemoryWatch:
    """Kills a worker whose resident memory grows past its budget.

    RLIMIT_AS bounds what a worker maps; this catches what escapes it (memory shared with
    other processes). The budget counts from the worker's size at spawn, which includes the
    torch pages it shares with the fork server.
    """

    INTERVAL_S = 0.05

    def __init__(self) -> None:
        self._limits: dict[Worker, int] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, worker: Worker, budget: int) -> None:
        with self._lock:
            self._limits[worker] = resident_bytes(worker.pid) + budget
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, daemon=True)
                self._thread.start()

    def forget(self, worker: Worker) -> None:
        with self._lock:
            self._limits.pop(worker, None)

    def _run(self) -> None:
        while True:
            time.sleep(self.INTERVAL_S)
            with self._lock:
                watched = list(self._limits.items())
            for worker, limit in watched:
                used = resident_bytes(worker.pid)
                if used > limit:
                    worker.killed_for = (
                        f"was killed: it used {used >> 20} MB of memory, over its limit"
                    )
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(worker.pid, signal.SIGKILL)

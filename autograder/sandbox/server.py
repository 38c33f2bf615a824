"""The fork server: a clean process with torch imported, which forks one worker per request.

Started by the trusted process (`ForkServer`) with a control socket and single-threaded math
libraries: as a fresh interpreter (`main`), or as a fork of a trusted process that has imported
torch and nothing hidden yet (`serve`). Either way it holds no reference code, hidden test or
expected value: only torch, numpy and the worker's code. Forking from it makes a worker ready in
milliseconds instead of the seconds an interpreter needs to import torch.

Control protocol: one JSON message per SOCK_SEQPACKET packet. `{"op": "spawn", "spec": {...}}`
with the worker's channel and output fds attached (SCM_RIGHTS) -> `{"pid": N}`;
`{"op": "reap", "pid": N}` -> `{"status": S}` (a wait status) or `{"alive": true}`.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import shutil
import signal
import socket
import sys
import time
from pathlib import Path
from typing import NoReturn

from autograder.sandbox.confine import (
    PathRule,
    close_rules,
    landlock_ruleset,
    open_rules,
    shared_readable_paths,
)
from autograder.sandbox.hugepages import COLLAPSE_AFTER_SPAWNS, collapse_into_huge_pages
from autograder.sandbox.spec import WorkerSpec

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


# Standard modules a student may import. Imported here, workers share them copy-on-write, and
# a worker whose user cannot read the Python installation (a root grader's dropped uid) still
# has them.
STUDENT_MODULES = (
    "collections", "copy", "dataclasses", "functools", "itertools", "math", "numbers",
    "operator", "random", "statistics", "time", "typing", "warnings", "numpy",
)  # fmt: skip


def warm_up() -> None:
    """Import and load what every worker needs, then make this process cheap to fork."""
    import importlib

    import torch

    for name in STUDENT_MODULES:
        importlib.import_module(name)

    torch.set_num_threads(1)
    torch.ones(2, 2, requires_grad=True).softmax(-1).sum().backward()  # load lazy kernels once
    gc.freeze()  # a worker's collections then never touch, and so copy, these objects


MAX_MESSAGE = 65536


def _reply(control: socket.socket, message: dict) -> None:
    control.send(json.dumps(message).encode())


def _open_shared_rules() -> list[PathRule] | None:
    """What every worker may read, opened once: a worker's Landlock rules are then made without
    a path lookup for each (most of their cost), and each worker still gets its own domain.
    None if this process cannot hold them all open (workers then refuse to run)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65536
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    try:
        return open_rules(shared_readable_paths())
    except OSError:
        return None


def _ruleset(spec: WorkerSpec, shared: list[PathRule] | None) -> int | None:
    """The worker's own Landlock ruleset, built here before the fork (None without Landlock,
    or if it cannot be built: the worker then refuses to run, never half-confined)."""
    if not spec.landlock_abi or shared is None:
        return None
    own = open_rules([Path(spec.path), Path(spec.scratch)])
    try:
        return landlock_ruleset(spec.landlock_abi, [*own, *shared])
    except OSError:
        return None
    finally:
        close_rules(own)


def _spawn(
    control: socket.socket,
    request: dict,
    fds: list[int],
    scratches: dict[int, str],
    shared: list[PathRule] | None,
) -> None:
    from autograder.sandbox.worker import run

    spec = WorkerSpec.from_dict(request["spec"])
    channel, output = fds
    ruleset = _ruleset(spec, shared)
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        control.close()
        run(spec, channel, output, ruleset, server)
    if ruleset is not None:
        os.close(ruleset)
    os.close(channel)
    os.close(output)
    scratches[pid] = spec.scratch
    _reply(control, {"pid": pid})


def _reap(control: socket.socket, pid: int, scratches: dict[int, str]) -> None:
    deadline = time.monotonic() + 0.5
    while True:
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, -1
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.002)
    if not done:
        _reply(control, {"alive": True})
        return
    shutil.rmtree(scratches.pop(pid, ""), ignore_errors=True)
    _reply(control, {"status": status})


def main(control_fd: int) -> None:
    """Warm up, then serve spawn and reap requests on `control_fd` until the trusted process
    closes it."""
    if any(os.environ.get(name) != "1" for name in THREAD_VARIABLES):
        sys.exit("autograder.sandbox.server: math libraries must be single-threaded")
    warm_up()
    serve(control_fd)


def _first_to_go_when_memory_runs_out() -> None:
    """Make this process, and so every worker it forks, the kernel's first choice when memory
    runs out: each worker has its own limit, but all of a batch's workers may reach theirs at
    once, and the grading processes must not be the ones killed then."""
    with contextlib.suppress(OSError):
        Path("/proc/self/oom_score_adj").write_text("1000")


def serve(control_fd: int) -> NoReturn:
    """Serve requests in a process already warmed up (`main`, or a fork of a warmed process)."""
    # Ctrl-C in a terminal interrupts the trusted process, which then closes the control socket:
    # this process stops on that, quietly, and its workers with it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _first_to_go_when_memory_runs_out()
    control = socket.socket(fileno=control_fd)
    scratches: dict[int, str] = {}
    spawned = 0
    shared = _open_shared_rules()
    try:
        _reply(control, {"ready": True})
    except BrokenPipeError:
        os._exit(0)  # the trusted process finished before this server was needed
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, MAX_MESSAGE, 2)
        except OSError:
            message = b""
        if not message:
            # The trusted process is done. Every worker is reaped and nothing needs flushing,
            # so skip unwinding an interpreter with torch loaded (most of a second).
            os._exit(0)
        request = json.loads(message)
        if request["op"] == "spawn":
            _spawn(control, request, fds, scratches, shared)
            spawned += 1
            if spawned == COLLAPSE_AFTER_SPAWNS:
                collapse_into_huge_pages()
        elif request["op"] == "reap":
            _reap(control, int(request["pid"]), scratches)

"""The worker: one forked process that imports one student module and answers calls on fd 3.

It runs untrusted code, so it is given nothing it could abuse: a fresh session, only its channel
and output pipe open, stdin from /dev/null, an empty scratch directory as cwd, a minimal
environment and resource limits, all set before the first byte of student code runs. What it
sends back is data (see `wire`); the trusted side decides what it means.
"""

from __future__ import annotations

import ast
import contextlib
import fcntl
import importlib.abc
import importlib.util
import os
import resource
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from autograder.course.independence import COURSE_PACKAGE
from autograder.course.source import parse_source
from autograder.sandbox import wire
from autograder.sandbox.calls import execute_call
from autograder.sandbox.confine import (
    ConfinementError,
    apply_seccomp,
    die_with_parent,
    restrict_self,
    set_no_new_privs,
)
from autograder.sandbox.spec import MAX_CALLS, WorkerSpec, describe_line

CHANNEL_FD = 3
MAX_REQUEST_BYTES = 256 * 2**20


def _limit(kind: int, value: int) -> None:
    resource.setrlimit(kind, (value, value))


def _vm_size_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


def confine(spec: WorkerSpec, channel: int, output: int, ruleset: int | None, server: int) -> None:
    """Set up the process before any student code: fds, session, cwd, environment, user,
    rlimits, death with the fork server (pid `server`), then no_new_privs, Landlock (`ruleset`,
    built by the fork server) and seccomp (see `confine.py`)."""
    os.setsid()
    if ruleset is not None:  # above the fds set up below, and kept when the others are closed
        ruleset = fcntl.fcntl(ruleset, fcntl.F_DUPFD_CLOEXEC, CHANNEL_FD + 1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    if channel != CHANNEL_FD:
        os.dup2(channel, CHANNEL_FD)
    kept = CHANNEL_FD if ruleset is None else ruleset
    os.closerange(CHANNEL_FD + 1, kept)
    os.closerange(kept + 1, os.sysconf("SC_OPEN_MAX"))
    os.set_inheritable(CHANNEL_FD, False)
    os.chdir(spec.scratch)
    os.environ.clear()
    os.environ.update(
        {
            "PATH": "/usr/bin:/bin",
            "HOME": spec.scratch,
            "TMPDIR": spec.scratch,
            "LANG": "C.UTF-8",
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "PYTHONHASHSEED": "0",
        }
    )
    # torch has mapped much address space already: allow that plus the exercise's budget.
    _limit(resource.RLIMIT_AS, _vm_size_bytes() + spec.memory_limit_mb * 2**20)
    _limit(resource.RLIMIT_CPU, spec.cpu_limit_s)
    _limit(resource.RLIMIT_FSIZE, spec.max_file_mb * 2**20)
    _limit(resource.RLIMIT_NOFILE, spec.max_open_files)
    _limit(resource.RLIMIT_CORE, 0)
    if spec.uid is not None and spec.gid is not None:
        os.setgroups([])
        os.setgid(spec.gid)
        os.setuid(spec.uid)
    _limit(resource.RLIMIT_NPROC, 0)  # no new process or thread (root would be exempt)
    die_with_parent(server)  # after the uid changed, which would clear it
    sys.dont_write_bytecode = True
    set_no_new_privs()
    if spec.landlock_abi:
        if ruleset is None:
            raise ConfinementError(0, "the fork server could not build the Landlock ruleset")
        restrict_self(ruleset)
        os.close(ruleset)
    if spec.seccomp:
        apply_seccomp()
    sys.stdout = open(1, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115
    sys.stderr = open(2, "w", buffering=1, encoding="utf-8", errors="replace", closefd=False)  # noqa: SIM115


def _calls(error: BaseException, spec: WorkerSpec) -> list[tuple[str, int | None]]:
    """The calls of the student's code (of the module `spec.path`) that `error` was raised
    through, outermost first, as (function, line): at most MAX_CALLS, the outermost (in a
    notebook, the cell that ran) and the innermost."""
    frames = traceback.extract_tb(error.__traceback__)
    calls = [(f.name, f.lineno) for f in frames if f.filename == spec.path]
    return calls if len(calls) <= MAX_CALLS else [calls[0], *calls[1 - MAX_CALLS :]]


def _failure(error: BaseException, spec: WorkerSpec) -> dict[str, Any]:
    calls = _calls(error, spec)
    function, line = calls[-1] if calls else (None, None)
    return {
        "status": "raised",
        "type": type(error).__name__,
        "message": str(error)[:2000],
        "where": describe_line(spec.cells, line) if line else "",
        "line": line,
        "function": function,
        "calls": calls,
        "not_implemented": isinstance(error, NotImplementedError),
        # the module that could not be found, which may be another exercise's
        "missing_module": error.name if isinstance(error, ModuleNotFoundError) else None,
    }


class CellTimeout(Exception):
    """A notebook cell ran past the exercise's time limit (raised in it by SIGALRM)."""


def _run_cells(module: ModuleType, spec: WorkerSpec) -> list[dict[str, Any]]:
    """Run a notebook's module one code cell at a time in the module's namespace, as nbgrader's
    autograde runs a notebook: a cell that raises, or runs past the time limit, stops there,
    and the next cell runs. Returns how each cell that raised failed.

    The limit is a courtesy: a cell can outlast it (in a long C call, or by catching it), and
    then the trusted side's deadline for the whole import stops the worker."""

    def stop_cell(signum: int, frame: FrameType | None) -> None:
        raise CellTimeout(f"the cell ran longer than {spec.cell_time_limit_s:g} s and was stopped")

    lines = Path(spec.path).read_text(encoding="utf-8").split("\n")
    ends = [cell.line - 1 for cell in spec.cells[1:]] + [len(lines)]
    errors = []
    signal.signal(signal.SIGALRM, stop_cell)
    for cell, end in zip(spec.cells, ends, strict=True):
        try:
            tree = parse_source("\n".join(lines[cell.line - 1 : end]), spec.path)
            tree = ast.increment_lineno(tree, cell.line - 1)
            code = compile(tree, spec.path, "exec", dont_inherit=True)
            signal.setitimer(signal.ITIMER_REAL, spec.cell_time_limit_s)
            try:
                exec(code, module.__dict__)
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        except BaseException as error:  # exit() in a cell too: go on, as after any error
            errors.append(_failure(error, spec))
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    return errors


class _CoursePackageFinder(importlib.abc.MetaPathFinder):
    """Makes the course's package fail to import as if it did not exist, as the public checks
    say it does, rather than with Landlock's PermissionError (its files are out of the worker's
    reach)."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] == COURSE_PACKAGE:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def _import(spec: WorkerSpec) -> tuple[ModuleType, list[dict[str, Any]]]:
    """Import the student's module; for a notebook's, also how the cells that raised failed."""
    # The course's package, this worker's own code included, is not the student's to import:
    # the worker keeps its references, and the package fails to import as if absent.
    for name in [n for n in sys.modules if n.split(".")[0] == COURSE_PACKAGE]:
        del sys.modules[name]
    sys.meta_path.insert(0, _CoursePackageFinder())
    loader_spec = importlib.util.spec_from_file_location(spec.module, spec.path)
    assert loader_spec is not None and loader_spec.loader is not None
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[spec.module] = module
    if spec.cells:
        return module, _run_cells(module, spec)
    # Compiled here rather than by the loader, so that unreadable code is a SyntaxError on
    # every Python (see parse_source); as the loader does, without this module's __future__
    # imports (annotations would no longer be evaluated).
    source = importlib.util.decode_source(Path(spec.path).read_bytes())
    code = compile(parse_source(source, spec.path), spec.path, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module, []


def _answer(module: ModuleType, request: dict[str, Any], spec: WorkerSpec) -> dict[str, Any]:
    function = getattr(module, request["function"], None)
    if not callable(function):
        return {
            "status": "missing",
            "message": f"the module defines no function {request['function']}",
        }
    try:
        # Every call returns its inputs: a function that inspects its callers' frames must not
        # be able to tell the calls whose inputs are checked from the others.
        result = execute_call(
            function, request["args"], request["kwargs"], request["projections"], True
        )
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: report, keep serving
        return _failure(error, spec)
    return {
        "status": "ok",
        "value": result.value,
        "grads": result.grads,
        "inputs_after": result.inputs_after,
    }


def _send(message: dict[str, Any]) -> None:
    try:
        payload = wire.encode(message)
    except (wire.WireError, RecursionError) as error:
        payload = wire.encode({"status": "unsendable", "message": str(error)[:500]})
    wire.write_frame(CHANNEL_FD, payload)


def serve(spec: WorkerSpec) -> None:
    """Import the module, report how that went, then answer calls until the channel closes."""
    try:
        module, cell_errors = _import(spec)
    except BaseException as error:
        if isinstance(error, SyntaxError):
            detail = {"line": error.lineno or 0, "column": error.offset or 0, "message": error.msg}
            _send({"status": "syntax_error", **detail})
        else:
            _send({"status": "import_failed", **_failure(error, spec)})
        return
    _send({"status": "ready", "cell_errors": cell_errors})
    while True:
        try:
            request = _read_request()
        except wire.FrameEOF:
            return
        # A batch is read whole before the first answer, so neither side's writes can wait on
        # the other's.
        calls = (
            [_read_request() for _ in range(request["batch"])] if "batch" in request else [request]
        )
        for call in calls:
            _send(_answer(module, call, spec))


def _read_request() -> dict[str, Any]:
    return wire.decode(wire.read_frame(CHANNEL_FD, MAX_REQUEST_BYTES, None))


def run(spec: WorkerSpec, channel: int, output: int, ruleset: int | None, server: int) -> None:
    """The whole life of a worker, forked by the fork server `server`; never returns into the
    fork server's code."""
    status = 0
    try:
        confine(spec, channel, output, ruleset, server)
    except BaseException as error:
        # Never run student code half-confined: say why on the channel, and stop.
        with contextlib.suppress(OSError):
            os.dup2(channel, CHANNEL_FD)  # fails harmlessly if confine() had already moved it
        with contextlib.suppress(BaseException):
            _send({"status": "sandbox_error", "message": f"{type(error).__name__}: {error}"})
        os._exit(71)
    try:
        # Before any student code: a "sandbox_error" after this one was written by that code.
        _send({"status": "confined"})
        serve(spec)
    except BaseException:
        status = 70
    finally:
        os._exit(status)

"""`RemoteModule`: the `student` the suites call, backed by a sandboxed worker.

Each call is sent as plain data and the answer decoded here, against the wire's limits, into
values this process builds itself. Whatever goes wrong in the worker becomes one of the
`grading.errors` exceptions, so the test at hand fails with a clear message and grading goes on;
a worker that died is replaced by a fresh one at the next call.

`prefetch` sends the calls a suite is known to make (`grading.replay`) in one batch; `call`
then takes a matching answer from the batch instead of a round trip, with the same checks, and
the same exception for a call that timed out or killed the worker.

What a worker can cost this process is bounded: a message over `MAX_ANSWER_BYTES` is refused
unread, an exercise holds at most `MAX_HELD_BYTES` of prefetched answers, every string a worker
sends is capped where it is read, and the exercise's calls share one time budget.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import pwd
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from torch import Tensor

from autograder.course.config import Exercise
from autograder.course.independence import import_problem, imported_modules
from autograder.course.names import call_chain, missing_function_message
from autograder.course.source import parse_source
from autograder.course.stubs import KEPT_STUB_RAISE, has_work
from autograder.grading.errors import (
    AnswerTooLarge,
    NotAttempted,
    StudentRaised,
    WorkerFailed,
    WorkerTimeout,
)
from autograder.grading.replay import CallKey, Plan, call_key, request_payload
from autograder.grading.student import ModuleProxy
from autograder.grading.submission import ModuleSource
from autograder.sandbox import wire
from autograder.sandbox.calls import CallResult, input_label, is_gradient
from autograder.sandbox.confine import Protections
from autograder.sandbox.pool import ForkServer, SandboxError, Worker
from autograder.sandbox.spec import MAX_CALLS, MAX_CELLS, WorkerSpec, describe_line

IMPORT_TIME_FACTOR = 3  # importing a module may take this many call time limits
# After this many timeouts of a function, its remaining calls fail at once (the module's other
# functions go on); after this many of the module's import, every call does.
MAX_TIMEOUTS = 2
# All the waiting on one exercise's workers (imports, calls, imports again after a crash) may
# take this many call time limits: more than the MAX_TIMEOUTS imports that time out (which end
# an exercise by themselves), and two calls besides. The reference answers a suite in 0.1 s.
TIME_BUDGET_FACTOR = MAX_TIMEOUTS * IMPORT_TIME_FACTOR + 2
# The most bytes one message from a worker may take; a longer one is refused unread. The
# reference's largest answer takes 18 kB; a notebook's report of 1,000 cells that raised, 2.3 MB.
MAX_ANSWER_BYTES = 4_000_000
# Prefetched answers one exercise may hold, about 50 times what the suite that asks most is
# answered (166 kB); past it, the rest of the batch goes out live, one call at a time.
MAX_HELD_BYTES = 8_000_000
MAX_NAME_CHARS = 100  # an exception's type name or place, as a worker sends it
MAX_DETAIL_CHARS = 1_000  # an exception's message, as a worker sends it
WORKER_USER = "nobody"  # who a worker becomes when the grader runs as root
MAX_OUTPUT_CHARS = 64 * 1024  # an exercise's captured output, over all the workers it took
MAX_CELL_ERRORS = 20  # notebook cells that raised, named in a report
_ANSWER_KEYS = {"status", "value", "grads", "inputs_after"}


def _text(value: object, limit: int) -> str:
    """A string a worker sent, cut to `limit` characters ("" if it sent something else)."""
    return value[:limit] if isinstance(value, str) else ""


def reported_calls(value: object) -> list[tuple[str, int]]:
    """The chain of calls a worker says an error was raised through, outermost first, as
    (function, line): [] unless it is a list of at most MAX_CALLS such pairs."""
    if not isinstance(value, list | tuple) or len(value) > MAX_CALLS:
        return []
    calls = []
    for call in value:
        if not (isinstance(call, list | tuple) and len(call) == 2):
            return []
        function, line = call
        if not isinstance(function, str) or type(line) is not int or line <= 0:
            return []
        calls.append((function[:MAX_NAME_CHARS], line))
    return calls


def _mb(size: int) -> str:
    """4_000_000 -> "4", 2_345_678 -> "2.3"."""
    return f"{size / 1e6:.1f}".removesuffix(".0")


class ImportFailed(StudentRaised):
    """The module could not be imported: every call of the exercise fails with this message."""

    def __init__(self, message: str) -> None:
        super().__init__("import", "ImportError", message)
        self.args = (message,)


class RemoteModule(ModuleProxy):
    """One exercise module of one submission, imported in a worker."""

    def __init__(
        self,
        server: ForkServer,
        exercise: Exercise,
        source: ModuleSource,
        path: Path,
        scratch_root: Path,
        protections: Protections,
        other_modules: frozenset[str] = frozenset(),
    ) -> None:
        """`source`, written to `path`, is the module the worker imports (a notebook's runs
        cell by cell: a cell that raises does not stop the next); messages name its file.
        `other_modules`, the other exercises' modules, cannot be imported: messages say why."""
        self.server, self.exercise, self.source, self.path = server, exercise, source, path
        self.scratch_root, self.protections = scratch_root, protections
        self.other_modules = other_modules
        self._worker: Worker | None = None
        self._importing = False  # started, import not yet confirmed
        self._import_error: ImportFailed | None = None
        self._import_limit_s = exercise.time_limit_s * IMPORT_TIME_FACTOR
        self._budget_s = exercise.time_limit_s * TIME_BUDGET_FACTOR
        self._spent_s = 0.0  # of the budget, in `prefetch` and `call`
        self._budget_end = 0.0  # when the budget runs out, while `_timed`
        self._timeouts: Counter[str | None] = Counter()  # by function; None: the import
        self._in_flight: Plan = []  # prefetched calls whose answers are not read yet
        self._answers: dict[CallKey, deque[dict[str, Any] | WorkerFailed]] = {}
        self.output: list[str] = []
        self.cell_errors: list[str] = []  # the notebook cells that raised, and how

    @property
    def import_failure(self) -> str | None:
        """Why the module could not be imported, if it could not: every test says the same."""
        return str(self._import_error) if self._import_error else None

    def _spec(self) -> WorkerSpec:
        scratch = Path(self.scratch_root) / f"{self.exercise.module}-{time.monotonic_ns()}"
        scratch.mkdir()
        # Empty, and read-only to the worker; a dropped uid must be able to enter it.
        scratch.chmod(0o711 if self.protections.uid_drop else 0o700)
        user = pwd.getpwnam(WORKER_USER) if self.protections.uid_drop else None
        return WorkerSpec(
            module=self.exercise.module,
            path=str(self.path),
            scratch=str(scratch),
            memory_limit_mb=self.exercise.memory_limit_mb,
            cpu_limit_s=int(self.exercise.time_limit_s * 6) + 30,
            uid=user.pw_uid if user else None,
            gid=user.pw_gid if user else None,
            landlock_abi=self.protections.landlock_abi,
            seccomp=self.protections.seccomp,
            cells=self.source.cells[:MAX_CELLS],
            cell_time_limit_s=self.exercise.time_limit_s,
        )

    def start(self) -> None:
        """Fork the worker now: it confines itself and imports the module while other work
        goes on. Calls wait for it; a worker that died is started again at the next call."""
        if self._worker is None and self._import_error is None:
            self._worker, self._importing = self.server.spawn(self._spec()), True

    @contextlib.contextmanager
    def _timed(self) -> Iterator[None]:
        """Count the time spent inside against the exercise's time budget."""
        started = time.monotonic()
        self._budget_end = started + self._budget_s - self._spent_s
        try:
            yield
        finally:
            self._spent_s += time.monotonic() - started

    def _deadline(self, limit_s: float) -> float:
        """When a wait of `limit_s` from now ends, or the time budget if it ends sooner."""
        return min(time.monotonic() + limit_s, self._budget_end)

    def _budget_spent(self) -> bool:
        return time.monotonic() >= self._budget_end

    def prefetch(self, plan: Plan) -> None:
        """Send `plan`'s calls in one batch (after the import): the worker answers them while
        other work goes on. If the worker cannot take them, calls go out one by one."""
        with self._timed():
            try:
                worker = self._ready_worker()
            except (StudentRaised, WorkerFailed):
                return  # every call will raise this again, in its test
            deadline = self._deadline(self.exercise.time_limit_s)
            try:
                worker.send(wire.encode({"batch": len(plan)}), deadline)
                for planned in plan:
                    worker.send(planned.payload, deadline)
            except wire.WireError:
                self._retire(worker)
                return
            self._in_flight = list(plan)

    def _collect(self) -> None:
        """Read the answers of the batch in flight, up to `MAX_HELD_BYTES` in all; the first
        failure ends it (later calls go out live, to a fresh worker) and is kept to be raised by
        the call it belongs to. Past that size, the calls left go out live too."""
        in_flight, self._in_flight = self._in_flight, []
        held = 0
        for planned in in_flight:
            answers = self._answers.setdefault(planned.key, deque())
            if self._worker is None:
                return
            try:
                answer, size = self._receive(
                    self._worker, self.exercise.time_limit_s, planned.function
                )
            except WorkerFailed as error:
                answers.append(error)
                return
            held += size
            if held > MAX_HELD_BYTES:
                self._retire(self._worker)
                return
            answers.append(answer)

    def _handshake(self, worker: Worker) -> None:
        """Wait for the worker's confinement, then its import; raise what went wrong with
        them, if anything. Only the first message can say the worker could not be confined:
        student code runs after it, and may write anything."""
        deadline = self._deadline(self._import_limit_s)
        first, _ = self._receive(worker, self._import_limit_s, None, deadline)
        if first.get("status") != "confined":
            self._retire(worker)
            if first.get("status") == "sandbox_error":
                detail = _text(first.get("message"), MAX_DETAIL_CHARS)
                raise SandboxError(f"a worker could not be confined: {detail}")
            raise WorkerFailed("the worker sent a malformed answer before importing the module")
        hello, _ = self._receive(worker, self._import_limit_s, None, deadline)
        if hello.get("status") == "ready":
            if not self.cell_errors:  # a replaced worker reports the same cells again
                self.cell_errors = self._cell_errors(hello.get("cell_errors"))
            return
        self._retire(worker)
        detail = _text(hello.get("message"), MAX_DETAIL_CHARS)
        if hello.get("status") == "syntax_error":
            line, column = hello.get("line"), hello.get("column")
            known = type(line) is int and type(column) is int and line > 0
            where = f" (line {line}, column {column})" if known else ""
            message = f"{self.source.file} does not parse{where}: {detail}"
        else:
            place = _text(hello.get("where"), MAX_NAME_CHARS)
            where = f" ({place})" if place else ""
            raised = f"{_text(hello.get('type'), MAX_NAME_CHARS) or '?'}{where}: {detail}"
            message = self._import_problem(hello) or f"importing {self.source.file} raised {raised}"
        raise ImportFailed(message)

    def _import_problem(self, failure: dict[str, Any]) -> str | None:
        """Why `failure` happened, if it is an import the course refuses (another exercise's
        module, or the course's package): named by the module the worker could not find, or
        by what the failing line imports (`exercises.ex03_softmax` fails on `exercises`), which
        says more."""
        if failure.get("type") not in ("ModuleNotFoundError", "ImportError"):
            return None
        line = failure.get("line")
        imported = self._imports.get(line, []) if type(line) is int else []
        missing = _text(failure.get("missing_module"), MAX_NAME_CHARS)
        where = _text(failure.get("where"), MAX_NAME_CHARS)
        for module in [*imported, missing] if missing else imported:  # the line says more
            problem = import_problem(self.source.file, module, self.other_modules, where)
            if problem:
                return problem
        return None

    @functools.cached_property
    def _tree(self) -> ast.Module | None:
        """The source, parsed (None if it does not parse)."""
        try:
            return parse_source(self.source.text)
        except SyntaxError:
            return None

    @functools.cached_property
    def _imports(self) -> dict[int, list[str]]:
        """The modules the source imports, by line."""
        by_line: dict[int, list[str]] = {}
        for line, module in imported_modules(self._tree) if self._tree else ():
            by_line.setdefault(line, []).append(module)
        return by_line

    def _has_work(self, function: str) -> bool:
        """Whether the source defines `function` with code in it, not as the bare stub (whose
        NotImplementedError means "not attempted")."""
        return self._tree is not None and has_work(self._tree, (function,))

    def _cell_errors(self, reported: object) -> list[str]:
        """What a worker says of the notebook cells that raised, as capped lines for the
        report."""
        if not isinstance(reported, list | tuple):
            return []
        lines = []
        for cell in reported[:MAX_CELL_ERRORS]:
            if isinstance(cell, dict):
                how = self._import_problem(cell) or self._cell_raised(cell)
                lines.append(f"{how} (the rest of that cell did not run)")
        return lines

    def _cell_raised(self, cell: dict[str, Any]) -> str:
        """`code cell 3, line 2 raised CellTimeout in rnn_step (code cell 2, line 9), called
        from rnn_forward (code cell 2, line 20): ...`: the line of the cell that ran and, if
        the error came from the functions it called, their chain."""
        kind = _text(cell.get("type"), MAX_NAME_CHARS) or "?"
        message = _text(cell.get("message"), 300)
        calls = reported_calls(cell.get("calls"))
        places = [(function, describe_line(self.source.cells, line)) for function, line in calls]
        if not places:
            where = _text(cell.get("where"), MAX_NAME_CHARS) or "a code cell"
            return f"{where} raised {kind}: {message}"
        inside = f" in {call_chain(places[1:])}" if len(places) > 1 else ""
        return f"{places[0][1]} raised {kind}{inside}: {message}"

    def _ready_worker(self, function: str | None = None) -> Worker:
        """A worker that has imported the module, ready to call `function` (None: any)."""
        if self._import_error is not None:
            raise self._import_error
        if self._budget_spent():
            raise WorkerTimeout(
                f"not run: {self.source.file} used its whole time budget of {self._budget_s:g} s"
            )
        stopped = [f for f in (None, function) if self._timeouts[f] >= MAX_TIMEOUTS]
        if stopped:
            doing = stopped[0] or f"importing {self.source.file}"
            raise WorkerTimeout(f"not run: {doing} already ran out of time {MAX_TIMEOUTS} times")
        self.start()
        assert self._worker is not None
        worker = self._worker
        if self._importing:
            self._importing = False
            try:
                self._handshake(worker)
            except AnswerTooLarge as error:  # the module sends as much every time it imports
                self._import_error = ImportFailed(str(error))
                raise self._import_error from None
            except ImportFailed as error:
                self._import_error = error
                raise
        return worker

    def _retire(self, worker: Worker, exited: bool = False) -> str:
        how = worker.stop(exited)
        room = MAX_OUTPUT_CHARS - sum(map(len, self.output))
        if worker.output and room > 0:
            self.output.append(worker.output[:room])
            if len(worker.output) > room:
                self.output.append("\n[output truncated]")
        if self._worker is worker:
            self._worker = None
        return how

    def _receive(
        self, worker: Worker, limit_s: float, function: str | None, deadline: float | None = None
    ) -> tuple[dict[str, Any], int]:
        """The worker's next message, the answer to a call of `function` (None: the import's),
        and its size in bytes; within `limit_s` (or by `deadline`, if the limit started earlier)
        and the time budget."""
        doing = f"calling {function}" if function else "importing the module"
        deadline = self._deadline(limit_s) if deadline is None else deadline
        try:
            frame = worker.receive(MAX_ANSWER_BYTES, deadline)
            message = wire.decode(frame)
        except wire.FrameTimeout:
            self._timeouts[function] += 1
            how = self._retire(worker)
            if self._budget_spent():
                raise WorkerTimeout(
                    f"{doing} was stopped: {self.source.file} used its whole time budget of "
                    f"{self._budget_s:g} s; the worker {how}"
                ) from None
            raise WorkerTimeout(
                f"{doing} did not finish in time (limit {limit_s:g} s); the worker {how}"
            ) from None
        except wire.FrameEOF:
            how = self._retire(worker, exited=True)
            raise WorkerFailed(
                f"the worker {how} while {doing} (did the code call exit()?)"
            ) from None
        except wire.FrameTooLarge as error:
            self._retire(worker)
            if error.size > wire.DEFAULT_LIMITS.max_bytes:  # no message is that long: garbage
                raise WorkerFailed(
                    f"the worker sent an unreadable answer while {doing}: {error}"
                ) from None
            raise self._too_large(function, error.size) from None
        except wire.WireError as error:
            self._retire(worker)
            raise WorkerFailed(
                f"the worker sent an unreadable answer while {doing}: {error}"
            ) from None
        if not isinstance(message, dict) or not isinstance(message.get("status"), str):
            self._retire(worker)
            raise WorkerFailed(f"the worker sent a malformed answer while {doing}")
        return message, len(frame)

    def _too_large(self, function: str | None, size: int) -> AnswerTooLarge:
        sent = f"{function} returned" if function else f"importing {self.source.file} sent"
        return AnswerTooLarge(
            f"{sent} {_mb(size)} MB, over the {_mb(MAX_ANSWER_BYTES)} MB an answer may take"
        )

    def call(
        self,
        function: str,
        *args: Any,
        projections: list[Tensor] | None = None,
        return_inputs: bool = False,
        **kwargs: Any,
    ) -> CallResult:
        with self._timed():
            if self._in_flight:
                self._collect()
            prefetched = self._answers.get(call_key(function, args, kwargs, projections))
            if prefetched:
                answer = prefetched.popleft()
                if isinstance(answer, WorkerFailed):
                    raise answer
            else:
                payload = request_payload(function, args, kwargs, projections)
                answer = self._call_live(function, payload)
        result = self._result(function, answer, len(args), [*range(len(args)), *kwargs])
        return result if return_inputs else replace(result, inputs_after=None)

    def _call_live(self, function: str, payload: bytes) -> dict[str, Any]:
        worker = self._ready_worker(function)
        deadline = self._deadline(self.exercise.time_limit_s)
        try:
            worker.send(payload, deadline)
        except wire.WireError:
            how = self._retire(worker)
            raise WorkerFailed(f"the worker {how} before calling {function}") from None
        return self._receive(worker, self.exercise.time_limit_s, function, deadline)[0]

    def _result(
        self, function: str, answer: dict[str, Any], n_args: int, inputs: list[int | str]
    ) -> CallResult:
        """Check an answer's shape strictly, then turn it into a result or an exception."""
        status = answer["status"]
        if status == "raised":
            detail = _text(answer.get("message"), MAX_DETAIL_CHARS)
            where = _text(answer.get("where"), MAX_NAME_CHARS)
            if answer.get("not_implemented") is True:
                raiser = _text(answer.get("function"), MAX_NAME_CHARS)
                if raiser in self.exercise.functions and self._has_work(raiser):
                    raise StudentRaised(raiser, "NotImplementedError", KEPT_STUB_RAISE, where)
                if raiser:  # a stub of the student's: the exercise is not done yet
                    raise NotAttempted(function, detail)
            raise StudentRaised(
                function, _text(answer.get("type"), MAX_NAME_CHARS) or "?", detail, where
            )
        if status == "missing":
            raise StudentRaised(
                function,
                "AttributeError",
                missing_function_message(
                    self.source.file, self.source.text, function, self.exercise.functions
                ),
            )
        if status == "unsendable":
            raise StudentRaised(
                function,
                "TypeError",
                "returned a value that cannot be checked: "
                + _text(answer.get("message"), MAX_DETAIL_CHARS),
            )
        if status != "ok" or set(answer) != _ANSWER_KEYS:
            raise WorkerFailed(f"the worker sent a malformed answer while calling {function}")
        grads, after = answer["grads"], answer["inputs_after"]
        expected = {input_label(i) for i in inputs}
        if (
            not isinstance(grads, tuple | list)
            or not isinstance(after, dict)
            or set(after) != expected
        ):
            raise WorkerFailed(f"the worker sent a malformed answer while calling {function}")
        if grads and (len(grads) != n_args or not all(is_gradient(g) for g in grads)):
            raise WorkerFailed(f"the worker sent malformed gradients while calling {function}")
        return CallResult(answer["value"], tuple(grads), after)

    def kill(self) -> None:
        """Kill the worker without waiting (`close` reaps it): lets a grader stop many at once."""
        if self._worker is not None:
            self._worker.kill()

    def close(self) -> None:
        if self._worker is not None:
            self._retire(self._worker)

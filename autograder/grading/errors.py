"""How grading can go wrong, as the trusted side sees it: a hidden suite it cannot run, or a
call to a student's function.

The grader maps a call's errors to a test's status: `StudentRaised` fails the test (with the
student's exception named), `NotAttempted` fails it as "not attempted", `AnswerTooLarge` fails
it, `WorkerFailed` is an error and `WorkerTimeout` a timeout. Their messages are written for the
student.
"""

from __future__ import annotations


class SuiteError(RuntimeError):
    """A hidden suite cannot be run by this grader (the message says which test and why)."""


class StudentRaised(Exception):
    """The student's function raised; carries the exception's type name and message."""

    def __init__(self, function: str, type_name: str, message: str, where: str = "") -> None:
        self.function, self.type_name, self.detail, self.where = function, type_name, message, where
        location = f" at {where}" if where else ""
        super().__init__(f"{function} raised {type_name}{location}: {message}")


class NotAttempted(StudentRaised):
    """The function is still the stub that raises NotImplementedError."""

    def __init__(self, function: str, message: str = "") -> None:
        super().__init__(function, "NotImplementedError", message)
        self.args = (f"{function} is not attempted yet",)


class WorkerFailed(Exception):
    """The worker running the student's code died, misbehaved or sent something unreadable."""


class WorkerTimeout(WorkerFailed):
    """The call did not finish within the exercise's time limit."""


class AnswerTooLarge(WorkerFailed):
    """The worker sent more bytes than an answer may take (refused unread): the test fails."""

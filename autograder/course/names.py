"""Why a module lacks a function the course calls, said from its source: the function is
defined, only not at the top level, or the module defines one under a near name; and the chain
of a student's calls an error or a time limit stopped.

Shared by the grader and the public checks, so that both name the mistake the same way."""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Collection, Sequence

from autograder.course.source import parse_source
from autograder.course.stubs import FunctionNode

MAX_CALLS_SHOWN = 5  # calls of a chain that a message names


def call_chain(calls: Sequence[tuple[str, str]]) -> str:
    """`rnn_step (line 36), called from rnn_forward (line 52)`, from (function, place) pairs
    given outermost first: innermost first, since the code that never ends or raises may be in
    any of them; a recursion's repeated calls once, and at most MAX_CALLS_SHOWN calls."""
    shown = list(dict.fromkeys(f"{function} ({place})" for function, place in reversed(calls)))
    if len(shown) > MAX_CALLS_SHOWN:
        shown[MAX_CALLS_SHOWN:] = ["…"]
    return ", called from ".join(shown)


@functools.lru_cache(maxsize=8)  # a grader asks once per failed call, with the same source
def missing_function_message(
    file: str, source: str, function: str, course_functions: Collection[str]
) -> str:
    """Why `file` (whose code is `source`) has no `function`. `course_functions`, the
    exercise's own functions, are never offered as the near name (`course_functions` must be
    hashable: a tuple or frozenset)."""
    message = f"{file} defines no function {function}"
    if re.search(rf"^[ \t]+def {re.escape(function)}\b", source, re.MULTILINE):
        return message + " at its top level, where the tests look (is it indented under an `if`?)"
    try:
        tree = parse_source(source)
    except SyntaxError:
        return message
    defined = [
        node.name
        for node in tree.body
        if isinstance(node, FunctionNode) and node.name not in course_functions
    ]
    close = difflib.get_close_matches(function, defined, n=1)
    if close:
        message += f" (it defines {close[0]}: the tests call {function})"
    return message

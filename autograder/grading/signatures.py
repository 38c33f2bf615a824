"""Compare the parameters of a student's functions with the reference's, from their source.

A function that cannot take the arguments the hidden suites pass (its `dim` dropped, a
parameter added without a default) fails each call with a TypeError naming one argument. The
diagnosis shows both signatures, so the student sees the whole difference at once.
"""

from __future__ import annotations

import ast
import copy

from autograder.course.config import Course
from autograder.course.source import parse_source
from autograder.course.stubs import FunctionNode
from autograder.grading.submission import ModuleSource


def _arguments(tree: ast.Module, name: str) -> ast.arguments | None:
    """The parameters of the function `name` defined at the module's top level (the last
    definition wins, as when the module runs)."""
    found = [n.args for n in tree.body if isinstance(n, FunctionNode) and n.name == name]
    return found[-1] if found else None


def describe(name: str, arguments: ast.arguments) -> str:
    """`softmax(scores, dim=-1)`: the signature without annotations."""
    bare = copy.deepcopy(arguments)
    for argument in (*bare.posonlyargs, *bare.args, *bare.kwonlyargs, bare.vararg, bare.kwarg):
        if argument is not None:
            argument.annotation = None
    return f"{name}({ast.unparse(bare)})"


def accepts(student: ast.arguments, reference: ast.arguments) -> bool:
    """Whether every call the reference's parameters allow also suits the student's: the same
    positions, the same optional parameters by name, and nothing more required."""
    ref_positional = [a.arg for a in (*reference.posonlyargs, *reference.args)]
    positional = [a.arg for a in (*student.posonlyargs, *student.args)]
    keywords = {a.arg for a in (*student.args, *student.kwonlyargs)}
    required = len(positional) - len(student.defaults)
    ref_required = len(ref_positional) - len(reference.defaults)
    ref_optional = ref_positional[ref_required:] + [a.arg for a in reference.kwonlyargs]
    required_keywords = [d for d in student.kw_defaults if d is None]
    return (
        (student.vararg is not None or len(positional) >= len(ref_positional))
        and required <= ref_required
        and not required_keywords
        and (student.kwarg is not None or set(ref_optional) <= keywords)
    )


def signature_diagnoses(
    course: Course,
    submitted: dict[str, ModuleSource],
    references: dict[str, ModuleSource],
    exercise_ids: set[str],
) -> dict[tuple[str, str], str]:
    """For each (exercise id, function) of `exercise_ids` whose submitted signature cannot take
    the reference's arguments, a diagnosis naming both."""
    found = {}
    for exercise in course.exercises:
        source = submitted.get(exercise.module)
        if source is None or exercise.id not in exercise_ids:
            continue
        try:
            tree = parse_source(source.text)
        except SyntaxError:
            continue  # the worker says where
        reference = parse_source(references[exercise.module].text)
        for function in exercise.functions:
            theirs, ours = _arguments(tree, function), _arguments(reference, function)
            if theirs is not None and ours is not None and not accepts(theirs, ours):
                found[exercise.id, function] = (
                    f"your {describe(function, theirs)} cannot be called as the course's "
                    f"{describe(function, ours)}"
                )
    return found

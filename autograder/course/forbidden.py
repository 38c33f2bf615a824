"""Find the calls an exercise forbids (course.toml's `forbidden`) in source, without running it.

A forbidden name like `torch.nn.functional.softmax` is matched by its last part, leading
underscores aside (torch's private aliases, `torch._softmax`), wherever it is used as an
attribute (`F.softmax`, `scores.softmax(-1)`), imported (`from torch import softmax`), or looked
up by string (`getattr(torch, "softmax")`); `@` matches the matrix-product operator.
Matching by the last part is deliberate: `import torch.nn.functional as F` or a Tensor method
must not slip through. A student's own function of the same name is a plain name, not an
attribute, and is not flagged.

Names built at run time (`getattr(torch, "".join(...))`) cannot be checked from the source, so
an exercise that forbids anything also refuses the ways of computing a name: `getattr` with a
name that is not a literal, `eval`, `exec`, `compile`, `__import__`, `importlib`, `vars`,
`globals` and `__dict__`.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from autograder.course.source import parse_source


@dataclass(frozen=True)
class ForbiddenUse:
    """One use of a forbidden call: what the source wrote, and where."""

    name: str
    line: int
    column: int

    def at(self, filename: str) -> str:
        """Where this use is in the module file `filename`: `file:line:column`."""
        return f"{filename}:{self.line}:{self.column + 1}"

    def describe(self, where: str) -> str:
        """This use, for the student, found at `where` (`self.at(filename)`, or a notebook's
        cell and line)."""
        if self.name in _DYNAMIC:
            return f"{where}: uses {self.name}, which could hide a forbidden call; write it out"
        call = "the @ operator" if self.name == "@" else f"{self.name}"
        return f"{where}: uses {call}, which this exercise forbids"


_DYNAMIC = (
    "eval", "exec", "compile", "__import__", "importlib", "vars", "globals", "__dict__",
    "getattr with a computed name",
)  # fmt: skip


def forbidden_note(forbidden: Sequence[str], *, markdown: bool = False) -> str:
    """What an exercise's code may not use, for its teaching notes ("" if nothing): the calls
    `forbidden` names (as code, in `markdown`), and the ways of reaching them by a computed name."""
    if not forbidden:
        return ""
    code = (lambda name: f"`{name}`") if markdown else (lambda name: name)
    calls = ", ".join("the @ operator" if name == "@" else code(name) for name in forbidden)
    *ways, last = [code(way) for way in _DYNAMIC[:-1]] + [_DYNAMIC[-1]]
    return (
        f"Not allowed in this exercise (a check looks for them): {calls}; nor {', '.join(ways)} "
        f"or {last}, which could reach them."
    )


def _dynamic_lookup(node: ast.AST) -> str | None:
    """A way to reach a function by a name computed at run time, if `node` is one."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        name = node.func.id
        if name == "getattr" and len(node.args) >= 2 and not isinstance(node.args[1], ast.Constant):
            return "getattr with a computed name"
        if name in _DYNAMIC:
            return name
    if isinstance(node, ast.Attribute) and node.attr == "__dict__":
        return "__dict__"
    if isinstance(node, ast.alias) and node.name.split(".")[0] == "importlib":
        return "importlib"
    return None


def _written(node: ast.Attribute) -> str:
    """How the source wrote an attribute, for a message (its end, if too deep to unparse)."""
    try:
        return ast.unparse(node)
    except RecursionError:
        return f"...{node.attr}"


def _bare(name: str) -> str:
    """A dotted name's last part without leading underscores: `torch._softmax` -> `softmax`."""
    return name.rsplit(".", 1)[-1].lstrip("_")


def find_forbidden(source: str, forbidden: tuple[str, ...]) -> list[ForbiddenUse]:
    """Every use of a forbidden name in `source` (raises SyntaxError if it does not parse)."""
    last_parts = {_bare(name) for name in forbidden if name != "@"}
    uses = []
    for node in ast.walk(parse_source(source)):
        written = None
        if isinstance(node, ast.Attribute) and _bare(node.attr) in last_parts:
            written = _written(node)
        elif isinstance(node, ast.alias) and _bare(node.name) in last_parts:
            written = node.name
        elif (
            isinstance(node, ast.Constant)
            and type(node.value) is str
            and node.value.lstrip("_") in last_parts  # a name looked up, not a dotted mention
        ):
            written = repr(node.value)
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.MatMult):
            written = "@" if "@" in forbidden else None
        if written is None and forbidden:
            written = _dynamic_lookup(node)
        if written is not None:
            uses.append(ForbiddenUse(written[:80], node.lineno, node.col_offset))
    return sorted(uses, key=lambda use: (use.line, use.column))

"""Tell a function still as its stub left it (its body only raises NotImplementedError) from
one with work in it, by reading its source."""

from __future__ import annotations

import ast
from collections.abc import Iterable

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
# What to tell a student whose function has code in it but still raises NotImplementedError.
KEPT_STUB_RAISE = "that is the stub's line; delete it so that your code runs"


def is_stub(function: FunctionNode) -> bool:
    """Whether the function's body, its docstring aside, only raises NotImplementedError."""
    statements = [
        s
        for s in function.body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
    ]
    if len(statements) != 1 or not isinstance(statements[0], ast.Raise):
        return False
    raised = statements[0].exc
    if isinstance(raised, ast.Call):
        raised = raised.func
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def has_work(tree: ast.Module, functions: Iterable[str]) -> bool:
    """Whether the module defines one of `functions` at its top level, not as a stub."""
    wanted = set(functions)
    return any(
        isinstance(node, FunctionNode) and node.name in wanted and not is_stub(node)
        for node in tree.body
    )

"""Find the calls an exercise forbids (course.toml's `forbidden`) in source, without running it.

A forbidden name like `torch.nn.functional.softmax` is matched by its last part wherever it is
used as an attribute (`F.softmax`, `scores.softmax(-1)`), imported (`from torch import softmax`),
or looked up by string (`getattr(torch, "softmax")`); `@` matches the matrix-product operator.
Matching by the last part is deliberate: `import torch.nn.functional as F` or a Tensor method
must not slip through. A student's own function of the same name is a plain name, not an
attribute, and is not flagged.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass


@dataclass(frozen=True)
class ForbiddenUse:
    """One use of a forbidden call: what the source wrote, and where."""

    name: str
    line: int
    column: int

    def describe(self, filename: str) -> str:
        call = "the @ operator" if self.name == "@" else f"{self.name}"
        return f"{filename}:{self.line}:{self.column + 1}: uses {call}, which this exercise forbids"


def find_forbidden(source: str, forbidden: tuple[str, ...]) -> list[ForbiddenUse]:
    """Every use of a forbidden name in `source` (raises SyntaxError if it does not parse)."""
    last_parts = {name.rsplit(".", 1)[-1] for name in forbidden if name != "@"}
    uses = []
    for node in ast.walk(ast.parse(source)):
        written = None
        if isinstance(node, ast.Attribute) and node.attr in last_parts:
            written = ast.unparse(node)
        elif isinstance(node, ast.alias) and node.name.rsplit(".", 1)[-1] in last_parts:
            written = node.name
        elif isinstance(node, ast.Constant) and node.value in last_parts:
            written = repr(node.value)
        elif isinstance(node, ast.BinOp | ast.AugAssign) and isinstance(node.op, ast.MatMult):
            written = "@" if "@" in forbidden else None
        if written is not None:
            uses.append(ForbiddenUse(written[:80], node.lineno, node.col_offset))
    return sorted(uses, key=lambda use: (use.line, use.column))

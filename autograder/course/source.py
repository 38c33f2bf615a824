"""Read Python source without running it: a module's, or a Jupyter notebook's code cells."""

from __future__ import annotations

import ast
import json


class UnreadableNotebook(ValueError):
    """The text is not a Jupyter notebook whose code cells hold text."""


def parse_source(source: str) -> ast.Module:
    """`ast.parse`, except that code nested too deeply for the parser to read (which it
    reports as RecursionError or MemoryError) raises SyntaxError too, like any unreadable code."""
    try:
        return ast.parse(source)
    except (RecursionError, MemoryError):
        raise SyntaxError("the code is nested too deeply to be read") from None


def notebook_code_cells(text: str) -> list[str]:
    """The source of each code cell of a notebook's JSON `text`, in order, magics and all.
    Raises UnreadableNotebook if it is not a notebook."""
    try:
        cells = json.loads(text)["cells"]
        sources = [
            "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
            for c in cells
            if c.get("cell_type") == "code"
        ]
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        raise UnreadableNotebook("not a readable Jupyter notebook") from None
    if not all(isinstance(source, str) for source in sources):
        raise UnreadableNotebook("a code cell's source is not text")
    return sources

"""Read Python source without running it: a module's, or a Jupyter notebook's code cells."""

from __future__ import annotations

import ast
import json


class UnreadableNotebook(ValueError):
    """The text is not a Jupyter notebook whose code cells hold text."""


def parse_source(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse`, except that any unreadable code raises SyntaxError: code nested too deeply
    for the parser (RecursionError or MemoryError), and a null byte (ValueError before Python
    3.11.4)."""
    try:
        return ast.parse(source, filename)
    except (RecursionError, MemoryError):
        raise SyntaxError("the code is nested too deeply to be read") from None
    except ValueError as error:
        raise SyntaxError(str(error)) from None


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

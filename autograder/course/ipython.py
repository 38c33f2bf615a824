"""A notebook code cell's Python: its IPython syntax (magics and shell lines) blanked out.

The grader runs a notebook's code as plain Python, and the release checks its notebooks' imports
the same way. Lines are blanked, not removed, so that line numbers still count within the cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LINE_MAGIC = re.compile(r"^\s*[%!]")  # `%timeit ...`, `!pip install ...`
_CELL_MAGIC = re.compile(r"^\s*%%(\w+)")
# Cell magics whose body IPython runs as Python; any other (%%bash, %%writefile...) is not Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
# Line magics that bring in code: without them, what they would define is missing.
_LOADING = re.compile(r"^\s*%(run|load)\b.*")


@dataclass(frozen=True)
class DroppedLoad:
    """A line magic that would have brought in code, at `line` of its cell."""

    line: int
    text: str


def python_code(cell: str) -> tuple[str, list[DroppedLoad]]:
    """The cell's Python, and the code-loading magics dropped from it."""
    lines = cell.splitlines()
    cell_magic = _CELL_MAGIC.match(lines[0]) if lines else None
    if cell_magic and cell_magic[1] not in _PYTHON_CELL_MAGICS:
        return "\n" * (len(lines) - 1), []
    kept, dropped = [], []
    for number, line in enumerate(lines, start=1):
        if _LINE_MAGIC.match(line):
            loading = _LOADING.match(line)
            if loading:
                dropped.append(DroppedLoad(number, loading[0].strip()))
            line = ""
        kept.append(line)
    return "\n".join(kept), dropped

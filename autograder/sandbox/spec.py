"""What the trusted side asks the fork server for: one worker, its module and its limits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

MAX_CELLS = 1000  # cells a spec lists (the rest of a longer notebook runs as its last cell)
MAX_CALLS = 8  # calls of the student's a worker names for an error: the outermost and innermost


class CodeCell(NamedTuple):
    """Where a notebook's code cell starts in the module made of the notebook: `number` among
    the notebook's code cells, at `line` (its `# --- code cell N` line)."""

    number: int
    line: int


def describe_line(cells: Sequence[CodeCell], line: int) -> str:
    """Line `line` of a module as its author knows it: in a notebook's module, the code cell
    and the line within it; in any other module, the line itself."""
    cell = next((c for c in reversed(cells) if c.line <= line), None)
    return f"code cell {cell.number}, line {line - cell.line}" if cell else f"line {line}"


@dataclass(frozen=True)
class WorkerSpec:
    """What to import, and within which limits (sent by the trusted side as JSON)."""

    module: str
    path: str
    scratch: str
    memory_limit_mb: int
    cpu_limit_s: int
    max_file_mb: int = 16
    max_open_files: int = 64
    uid: int | None = None  # when the grader runs as root: drop to this user (and `gid`)
    gid: int | None = None
    landlock_abi: int = 0  # 0: no Landlock on this kernel
    seccomp: bool = False
    cells: tuple[CodeCell, ...] = ()  # a notebook's module: run cell by cell
    cell_time_limit_s: float = 0.0  # a notebook cell running longer is stopped (0: no limit)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkerSpec:
        cells = tuple(CodeCell(*cell) for cell in data.pop("cells", ()))
        return cls(**data, cells=cells)

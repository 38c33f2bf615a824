"""Files generated from the course's single source: how their copies on disk have drifted, and
writing only those that changed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Drift:
    """A generated file whose checked-in copy is missing or differs."""

    path: Path
    reason: str


def check_generated(files: Mapping[Path, str], differs: str) -> list[Drift]:
    """Each of `files` (path -> content) whose copy on disk is missing, or whose text differs
    from its content (the reason given is then `differs`)."""
    drift = []
    for path, content in files.items():
        if not path.is_file():
            drift.append(Drift(path, "missing"))
        elif not _matches(path, content, byte_exact=False):
            drift.append(Drift(path, differs))
    return drift


def write_changed(files: Mapping[Path, str], *, byte_exact: bool = False) -> list[Path]:
    """Write each of `files` (path -> content, UTF-8) that is missing or differs on disk;
    returns the paths written. Compared as text, line endings written and read the platform's
    way, unless `byte_exact`: then written as given, and compared byte for byte."""
    changed = []
    for path, content in files.items():
        if not _matches(path, content, byte_exact=byte_exact):
            path.parent.mkdir(parents=True, exist_ok=True)
            if byte_exact:
                path.write_bytes(content.encode())
            else:
                path.write_text(content, encoding="utf-8")
            changed.append(path)
    return changed


def _matches(path: Path, content: str, *, byte_exact: bool) -> bool:
    if not path.is_file():
        return False
    if byte_exact:
        return path.read_bytes() == content.encode()
    return path.read_text(encoding="utf-8") == content

"""Exercises are graded independently, so one exercise's code may not import another's module.

A grader's worker can import only its own exercise's module: importing another exercise's fails
with ModuleNotFoundError. The public checks make such an import fail the same way, and both say
why with `cross_import_message`.
"""

from __future__ import annotations


def cross_import_message(file: str, module: str, where: str = "") -> str:
    """Why `file` failed to import `module`, another exercise's module (at `where`, if known)."""
    at = f" ({where})" if where else ""
    return (
        f"{file} imports {module}{at}, another exercise's module: each exercise is graded on "
        f"its own, so copy what you need from {module} into {file}"
    )

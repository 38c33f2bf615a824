"""Exercises are graded independently, so one exercise's code may import neither another
exercise's module nor the course's own package.

A grader's worker can import only its own exercise's module: importing another exercise's, under
any package (`ex03_softmax`, `exercises.ex03_softmax`), or a part of the course's package
(`autograder`, which holds the hidden material and is out of the worker's reach) fails with
ModuleNotFoundError. The public checks refuse the same imports where they must succeed, and
both say why with `import_problem`.
"""

from __future__ import annotations

import ast
from collections.abc import Container

COURSE_PACKAGE = "autograder"


def other_exercise_in(module: str, others: frozenset[str]) -> str | None:
    """The other exercise's module that importing `module` (a dotted name) reaches, if any."""
    return next((part for part in module.split(".") if part in others), None)


def import_problem(file: str, module: str, others: frozenset[str], where: str = "") -> str | None:
    """Why `file` may not import `module` (at `where`, if known), or None if it may. `others`:
    the other exercises' modules."""
    at = f" ({where})" if where else ""
    other = other_exercise_in(module, others)
    if other is not None:
        return (
            f"{file} imports {other}{at}, another exercise's module: each exercise is graded on "
            f"its own, so copy what you need from {other} into {file}"
        )
    if module.split(".")[0] == COURSE_PACKAGE:
        return (
            f"{file} imports {module}{at}, the course's own package, which is not there when your "
            f"work is graded: copy what you need into {file}"
        )
    return None


def imported_modules(
    tree: ast.Module,
    *,
    skip: Container[ast.AST] = frozenset(),
    packages: Container[str] | None = None,
) -> list[tuple[int, str]]:
    """Every module the code imports by absolute name, with the line of its import, but for the
    imports in `skip` (see `optional_imports`). `from m import n` imports `m.n`, since `n` may
    be a module; given `packages`, only where `m` is one of them, and `m` elsewhere."""
    found = []
    for node in ast.walk(tree):
        if node in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            if packages is None or node.module in packages:
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, node.module))
    return found


def optional_imports(tree: ast.AST, *, as_main: bool) -> set[ast.AST]:
    """Imports that need not succeed: inside a `try` that catches ImportError, and, for code
    imported as a module (not `as_main`: a script, a notebook), under
    `if __name__ == "__main__":`."""
    optional: set[ast.AST] = set()
    for node in ast.walk(tree):
        guarded = isinstance(node, ast.If) and not as_main and _is_main_guard(node.test)
        if guarded or _catches_import_error(node):
            for statement in node.body:
                optional |= {
                    n for n in ast.walk(statement) if isinstance(n, ast.Import | ast.ImportFrom)
                }
    return optional


def _catches_import_error(node: ast.AST) -> bool:
    return isinstance(node, ast.Try) and any(
        isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
        for h in node.handlers
    )


def _is_main_guard(test: ast.expr) -> bool:
    """Whether `test` is `__name__ == "__main__"`."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == "__main__"
    )

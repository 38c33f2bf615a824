"""Turn a reference solution into the stub students start from.

Each region between `### BEGIN SOLUTION` and `### END SOLUTION` (nbgrader's markers) becomes one
line, `raise NotImplementedError("Hint: ...")`, indented like the markers. The hint is the region's
first line when it is a `# Hint: ...` comment, which every solution region must have: a stub
without a hint teaches nothing. The docstring may gain a closing paragraph (what the exercise
forbids, from course.toml).
"""

from __future__ import annotations

import ast
import json
import textwrap
from dataclasses import dataclass

from autograder.course.source import parse_source

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
HINT_PREFIX = "# Hint:"


class SolutionMarkupError(ValueError):
    """Unbalanced or nested markers, a missing hint, or a function of the exercise without a
    solution region; the message names file and line."""


@dataclass(frozen=True)
class SolutionRegion:
    """Lines [begin, end] (0-based, both markers included) of one solution region."""

    begin: int
    end: int
    indent: str
    hint: str


def find_regions(source: str, filename: str = "<solution>") -> list[SolutionRegion]:
    """Every solution region of `source`, in order."""
    regions: list[SolutionRegion] = []
    begin: int | None = None
    lines = source.splitlines()
    for number, line in enumerate(lines):
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise SolutionMarkupError(
                    f"{filename}:{number + 1}: {BEGIN} inside the region opened at line {begin + 1}"
                )
            begin = number
        elif marker == END:
            if begin is None:
                raise SolutionMarkupError(f"{filename}:{number + 1}: {END} without {BEGIN}")
            first = lines[begin + 1].strip() if begin + 1 < number else ""
            if not first.startswith(HINT_PREFIX):
                raise SolutionMarkupError(
                    f"{filename}:{begin + 2}: a solution region must start with a "
                    f"'{HINT_PREFIX} ...' comment (the stub's one-line hint)"
                )
            indent = lines[begin][: len(lines[begin]) - len(lines[begin].lstrip())]
            hint = "Hint:" + first[len(HINT_PREFIX) :]
            regions.append(SolutionRegion(begin, number, indent, hint))
            begin = None
    if begin is not None:
        raise SolutionMarkupError(f"{filename}:{begin + 1}: {BEGIN} is never closed by {END}")
    return regions


def check_marked(source: str, functions: tuple[str, ...], filename: str = "<solution>") -> None:
    """Fail unless each of `functions` is defined at the top of `source` with a solution region
    in its body: the stub of a function without one would be the solution itself."""
    regions = find_regions(source, filename)
    defined = {
        node.name: node
        for node in parse_source(source).body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for name in functions:
        node = defined.get(name)
        if node is None:
            raise SolutionMarkupError(
                f"{filename}: defines no function {name!r}, which course.toml lists in its "
                "exercise's functions"
            )
        if not any(node.lineno <= region.begin < (node.end_lineno or 0) for region in regions):
            raise SolutionMarkupError(
                f"{filename}:{node.lineno}: {name} has no {BEGIN} ... {END} region; without "
                "one its stub would be the solution"
            )


def make_stub(source: str, filename: str = "<solution>") -> str:
    """The student's version of `source`: every solution region replaced by a hinting raise."""
    lines = source.splitlines()
    out: list[str] = []
    position = 0
    for region in find_regions(source, filename):
        out.extend(lines[position : region.begin])
        hint = json.dumps(region.hint, ensure_ascii=False)  # a double-quoted Python literal
        out.append(f"{region.indent}raise NotImplementedError({hint})")
        position = region.end + 1
    out.extend(lines[position:])
    return "\n".join(out) + "\n"


def solution_body_lines(source: str, filename: str = "<solution>") -> list[str]:
    """The code lines inside solution regions (hints excluded), stripped: what must not leak."""
    lines = source.splitlines()
    body = []
    for region in find_regions(source, filename):
        for line in lines[region.begin + 2 : region.end]:
            if line.strip() and not line.strip().startswith("#"):
                body.append(line.strip())
    return body


def stub_file(source: str, filename: str, note: str = "") -> str:
    """The stub for one solution file's `source`, `note` (if any) ending its docstring."""
    stub = make_stub(source, filename)
    return with_closing_paragraph(stub, note, filename) if note else stub


def with_closing_paragraph(source: str, paragraph: str, filename: str = "<solution>") -> str:
    """`source` with `paragraph`, wrapped to 100 columns, as the last paragraph of its module
    docstring, whose closing quotes must stand on a line of their own."""
    tree = parse_source(source)
    docstring = tree.body[0] if tree.body else None
    lines = source.splitlines(keepends=True)
    closing = docstring.end_lineno - 1 if docstring and docstring.end_lineno else -1
    if ast.get_docstring(tree) is None or lines[closing].strip() != '"""':
        raise SolutionMarkupError(f'{filename}: the module docstring must end with a line """')
    lines[closing:closing] = ["\n", textwrap.fill(paragraph, width=100) + "\n"]
    return "".join(lines)

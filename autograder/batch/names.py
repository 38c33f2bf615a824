"""Untrusted student and assignment names, made safe to store, as file names and on the
progress bar.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from autograder.reports.common import printable

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")
MAX_NAME = 80


def storable_name(name: str) -> str:
    """A folder name as text that can be stored: undecodable bytes shown as `\\xe9`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _readable(text: str) -> str:
    ascii_text = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    cleaned = _UNSAFE.sub("_", ascii_text).lstrip(".-")[:MAX_NAME]
    return cleaned or "_"


def report_filename(student: str, assignment: str | None = None) -> str:
    """`<student>.json` or `<student>__<assignment>.json`, safe as one file name.

    Characters other than ASCII letters, digits and `._@+-` become `_` (accents are dropped
    first), leading dots and dashes go, long names are cut; whenever that changed anything, or
    a part could make `__` ambiguous, a short hash of the original name(s) keeps names distinct.
    """
    parts = [student] if assignment is None else [student, assignment]
    cleaned = [_readable(part) for part in parts]
    changed = cleaned != parts
    if assignment is not None and any(
        "__" in part or part.startswith("_") or part.endswith("_") for part in parts
    ):
        changed = True
    name = "__".join(cleaned)
    if changed:
        original = "\0".join(parts).encode("utf-8", "surrogateescape")
        name += "-" + hashlib.sha256(original).hexdigest()[:10]
    return name + ".json"


def display_name(name: str, limit: int = 40) -> str:
    """`name` as rich markup for the progress bar: printable, escaped, cut to `limit`."""
    from rich.markup import escape

    shown = printable(name)
    return escape(shown if len(shown) <= limit else shown[: limit - 1] + "…")

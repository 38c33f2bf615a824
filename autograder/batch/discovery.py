"""Find the submissions under ROOT and fingerprint their content.

Every immediate subfolder of ROOT is one student's submission (the folder name is the student
id). When ROOT is nbgrader's `submitted/` folder, or a course folder containing one, each
`submitted/<student>/<assignment>/` is one submission, always keyed by (student, assignment)
even if there is only one assignment. Hidden entries (`.x`) and files at ROOT are no
submissions: `find_submissions` says which and why, for a warning (`__pycache__`,
`.ipynb_checkpoints` and `.git` go unmentioned); a symlinked folder that points outside ROOT is
refused.

A submission is fingerprinted by a sha256 of its files' relative paths and bytes
(`content_hash`); a refused one by a hash of the reason (`fingerprint`). What grades it is
fingerprinted too (`grading_fingerprint`): a result stands only for the grading that made it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import autograder
from autograder.batch.names import storable_name
from autograder.course.config import Course
from autograder.files import FileTooLarge, NotARegularFile, read_capped
from autograder.grading.submission import MAX_NOTEBOOK_BYTES
from autograder.reports.common import printable

# One file over this, the largest notebook the grader reads: the submission is refused.
MAX_FILE_BYTES = MAX_NOTEBOOK_BYTES
MAX_TOTAL_BYTES = 50 * 1024 * 1024  # all files together
MAX_FILES = 5000
SKIPPED_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints", ".git"})
NBGRADER_SUBMITTED = "submitted"
REFUSED_PREFIX = "refused-"  # content_hash of a refused submission: "refused-" + sha256(reason)
ONE_LEVEL = "grade-all expects one folder per student, holding that student's files"
NBGRADER_LAYOUT = "nbgrader's submitted/ holds <student>/<assignment>/ folders"


class SubmissionRefused(Exception):
    """The submission is not graded at all (too large, symlinked out of ROOT...)."""


@dataclass(frozen=True)
class Submission:
    """One submission: a student's folder, or nbgrader's `submitted/<student>/<assignment>`.

    `problem` is set when the folder is refused without being read (it is not graded).
    """

    student: str
    assignment: str | None
    path: Path
    problem: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """(student, assignment) as stored: "" for the assignment of a one-level layout."""
        return self.student, self.assignment or ""


def _folders(
    parent: Path, root: Path, skipped: list[tuple[Path, str]] | None = None
) -> Iterator[tuple[str, Path, str | None]]:
    """(name, path, problem) of the subfolders of `parent` a submission may be, sorted.

    `skipped`, if given, gets (path, why) for each other entry but caches and git metadata."""
    skipped = [] if skipped is None else skipped
    for entry in sorted(parent.iterdir(), key=lambda p: p.name):
        if entry.name in SKIPPED_DIRS:
            continue
        if entry.name.startswith("."):
            skipped.append((entry, "hidden"))
        elif entry.is_symlink():
            try:
                target = entry.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling, or a loop: not a folder
                skipped.append((entry, "a symlink to nothing"))
                continue
            if not target.is_dir():
                skipped.append((entry, "a symlink to a file"))
            elif not target.is_relative_to(root):
                yield entry.name, entry, "the folder is a symlink pointing outside ROOT; refused"
            else:
                yield entry.name, entry, None
        elif entry.is_dir():
            yield entry.name, entry, None
        else:
            skipped.append((entry, "a file"))


def find_submissions(root: Path, skipped: list[str] | None = None) -> list[Submission]:
    """The submissions under `root`, sorted by (student, assignment); see the module doc.

    `skipped`, if given, gets one line for each entry of ROOT (or of nbgrader's `submitted/`)
    that is not a submission, saying why and what was expected instead."""
    root = Path(root)
    real_root = root.resolve()
    skipped = [] if skipped is None else skipped
    entries: list[tuple[Path, str]] = []
    if real_root.name == NBGRADER_SUBMITTED:
        submitted = root
    elif (root / NBGRADER_SUBMITTED).is_dir() and not (root / NBGRADER_SUBMITTED).is_symlink():
        submitted = root / NBGRADER_SUBMITTED
        real_root = submitted.resolve()
    else:
        found = [
            Submission(storable_name(name), None, path, problem)
            for name, path, problem in _folders(root, real_root, entries)
        ]
        skipped += [f"{printable(str(p))}: skipped, {why}; {ONE_LEVEL}" for p, why in entries]
        return found
    found = []
    for student, student_dir, problem in _folders(submitted, real_root, entries):
        try:
            assignments = list(_folders(student_dir, real_root)) if problem is None else []
        except OSError as error:
            problem = f"the folder cannot be read ({error.strerror or error}); refused"
        if problem is not None:
            found.append(Submission(storable_name(student), None, student_dir, problem))
            continue
        if not assignments:
            entries.append((student_dir, "no assignment folder in it"))
        for assignment, path, problem in assignments:
            found.append(
                Submission(storable_name(student), storable_name(assignment), path, problem)
            )
    skipped += [f"{printable(str(p))}: skipped, {why}; {NBGRADER_LAYOUT}" for p, why in entries]
    return found


def _read_capped(path: str, shown: str) -> bytes:
    """A regular file's bytes, without following a symlink or blocking on a FIFO."""
    try:
        return read_capped(path, MAX_FILE_BYTES, follow_symlinks=False)
    except NotARegularFile:
        raise SubmissionRefused(f"{shown}: changed while being read") from None
    except FileTooLarge as error:
        raise SubmissionRefused(_too_large(shown, error.size)) from None


def _too_large(shown: str, size: int) -> str:
    return (
        f"{shown}: {size} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MB limit per file; "
        "the submission is not graded"
    )


def content_hash(path: Path) -> str:
    """sha256 (hex) over the sorted relative paths and bytes of the submission's files.

    Regular files and symlinks (by their target text; never followed) count; `__pycache__`,
    `.ipynb_checkpoints` and `.git` folders, empty folders and special files do not. Raises
    `SubmissionRefused` for a file over `MAX_FILE_BYTES`, more than `MAX_TOTAL_BYTES` in all
    or more than `MAX_FILES` files.
    """
    entries: list[tuple[bytes, bytes, str]] = []  # (relative path, kind, absolute path)
    stack: list[tuple[str, bytes]] = [(os.fspath(path), b"")]
    total = 0
    while stack:
        folder, prefix = stack.pop()
        with os.scandir(folder) as scan:
            for entry in scan:
                relative = prefix + os.fsencode(entry.name)
                if entry.is_symlink():
                    kind = b"L"
                elif entry.is_dir(follow_symlinks=False):
                    if entry.name not in SKIPPED_DIRS:
                        stack.append((entry.path, relative + b"/"))
                    continue
                elif entry.is_file(follow_symlinks=False):
                    size = entry.stat(follow_symlinks=False).st_size
                    if size > MAX_FILE_BYTES:
                        raise SubmissionRefused(_too_large(os.fsdecode(relative), size))
                    total += size
                    if total > MAX_TOTAL_BYTES:
                        raise SubmissionRefused(
                            f"over {MAX_TOTAL_BYTES // (1024 * 1024)} MB of files in all; "
                            "the submission is not graded"
                        )
                    kind = b"F"
                else:
                    continue  # a FIFO, socket or device: not content
                entries.append((relative, kind, entry.path))
                if len(entries) > MAX_FILES:
                    raise SubmissionRefused(
                        f"more than {MAX_FILES} files; the submission is not graded"
                    )
    digest = hashlib.sha256(b"attention-autograder/submission/1\0")
    for relative, kind, absolute in sorted(entries):
        if kind == b"L":
            data = os.fsencode(os.readlink(absolute))
        else:
            data = _read_capped(absolute, os.fsdecode(relative))
        for part in (kind, relative, data):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def fingerprint(submission: Submission) -> tuple[str, str | None]:
    """(content hash, refusal reason or None). A refusal has a hash derived from its reason."""
    problem = submission.problem
    if problem is None:
        try:
            return content_hash(submission.path), None
        except SubmissionRefused as error:
            problem = str(error)
        except OSError as error:
            problem = f"cannot be read: {error.strerror or error}"
    return REFUSED_PREFIX + hashlib.sha256(problem.encode("utf-8", "replace")).hexdigest(), problem


_GRADER_SOURCES = (".py", ".ini", ".toml")


def grading_fingerprint(course: Course) -> str:
    """A sha256 of what decides a grade besides the submission: the exercises' configuration
    (points, tolerances, limits...), their reference solutions, this grader's code (hidden
    suites and verdicts included) and torch's version. A stored result stands for one grading:
    when this changes, every submission is graded again."""
    package = Path(autograder.__file__).parent
    named = [
        (f"solutions/{e.filename}", course.solutions_dir / e.filename) for e in course.exercises
    ]
    named += [
        (f"autograder/{path.relative_to(package).as_posix()}", path)
        for path in sorted(package.rglob("*"))
        if path.suffix in _GRADER_SOURCES and "__pycache__" not in path.parts
    ]
    digest = hashlib.sha256(b"attention-autograder/grading/1\0")
    parts = [importlib.metadata.version("torch").encode(), repr(course.exercises).encode()]
    for name, path in named:
        # a missing solution stops the grader itself, with its own message
        parts += [name.encode(), path.read_bytes() if path.is_file() else b""]
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()

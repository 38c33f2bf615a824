"""The `autograder` command: build the course, check it, grade submissions."""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from autograder.batch import BatchError, grade_all
from autograder.batch.runner import real_grader
from autograder.build.exercises import check_exercises, write_exercises
from autograder.build.gradescope import build_gradescope_bundle
from autograder.build.release import ReleaseError, build_release
from autograder.build.stubs import SolutionMarkupError
from autograder.course.config import ConfigError, load_course
from autograder.files import atomic_write_text, not_a_folder
from autograder.grading.errors import SuiteError
from autograder.reports import FORMATS
from autograder.reports.common import printable
from autograder.reports.nbgrader_gradebook import CONFIG_FILE, GradebookError
from autograder.sandbox import hugepages
from autograder.sandbox.confine import (
    STRICT_WITHOUT_LANDLOCK,
    probe,
    python_out_of_workers_reach,
)
from autograder.sandbox.pool import ForkServer, SandboxError

DISTRIBUTION = "attention-course"  # the package that installs this command


class CommandError(Exception):
    """The command cannot do what was asked; the message says why (exit status 2)."""


def _check_writable(option: str, path: Path, *, folder: bool = False) -> None:
    """Fail before the work, not after it, if the file (or, with `folder`, the folder) that
    `option` names cannot be written: the other kind stands in its place, or its folder, made
    if missing, takes no new file."""
    if path.exists() and path.is_dir() != folder:
        kind = "a file, not a folder" if folder else "a folder; give a file name"
        raise CommandError(f"{option} {path}: is {kind}")
    _check_takes_files(option, path, path if folder else path.parent)


def _check_takes_files(option: str, path: Path, where: Path) -> None:
    """Fail unless the folder `where`, made if missing, takes a new file (for `option` PATH)."""
    if where.exists() and not where.is_dir():
        raise CommandError(f"{option} {path}: {where} is not a folder")
    try:
        where.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=where, prefix=".probe"):
            pass
    except OSError as error:
        raise CommandError(f"{option} {path}: cannot write there ({error.strerror})") from None


def _build(args: argparse.Namespace) -> int:
    # nbformat comes with the notebooks extra: the grader alone (on Gradescope, say) lacks it.
    from autograder.build.notebooks import check_notebooks, write_notebooks

    course = load_course(args.course)
    if args.check:
        drift = check_exercises(course) + check_notebooks(course)
        for item in drift:
            print(f"{item.path}: {item.reason}")
        if drift:
            print("generated files are out of date: run `autograder build`", file=sys.stderr)
        return 1 if drift else 0
    for path in write_exercises(course) + write_notebooks(course):
        print(f"wrote {path}")
    return 0


def _nbgrader(args: argparse.Namespace) -> int:
    from autograder.build.nbgrader_course import edited_files, write_nbgrader_course

    _check_writable("OUT", args.out, folder=True)
    course = load_course(args.course)
    edited = [] if args.force else edited_files(course, args.out)
    if edited:
        names = ", ".join(str(path.relative_to(args.out)) for path in edited)
        raise CommandError(
            f"OUT {args.out}: would overwrite files it did not write, or edited since it "
            f"wrote them: {names}; give --force to replace them"
        )
    try:
        written = write_nbgrader_course(course, args.out)
    except OSError as error:
        where = error.filename or args.out
        raise CommandError(f"OUT {args.out}: could not write {where} ({error.strerror})") from None
    print(f"wrote the nbgrader course to {args.out} ({len(written)} files)")
    return 0


# What an --out file name without --format says it wants: refused rather than guessed.
_SUFFIX_FORMATS = {".json": "json", ".xml": "junit", ".html": "html"}


def _outputs(args: argparse.Namespace) -> list[tuple[str, str]]:
    formats = args.format or ["markdown"]
    outs = args.out or ["-"] * len(formats)
    if args.format is None:
        for out in outs:
            wanted = _SUFFIX_FORMATS.get(Path(out).suffix.lower())
            if wanted is not None:
                raise CommandError(
                    f"--out {out}: no --format given, so it would get markdown; "
                    f"give --format {wanted} --out {out} (or a .md name for markdown)"
                )
    if len(outs) != len(formats):
        raise CommandError(
            f"{len(formats)} --format but {len(outs)} --out: give one --out per --format, in order"
        )
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise CommandError(f"unknown --format {unknown[0]!r} (known: {', '.join(FORMATS)})")
    seen: set[Path] = set()
    for out in outs:
        if out != "-":
            if Path(out).resolve() in seen:
                raise CommandError(f"--out {out}: given twice; give each --format its own file")
            seen.add(Path(out).resolve())
            _check_writable("--out", Path(out))
    return list(zip(formats, outs, strict=True))


def _check_submission(path: Path) -> None:
    """A mistyped path is the caller's mistake, not a student's: refused before any grading."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise CommandError(f"{path}: no such file or folder") from None
    except OSError as error:
        raise CommandError(f"{path}: cannot be read ({error.strerror})") from None


def _grade(args: argparse.Namespace) -> int:
    _check_submission(args.submission)
    outputs = _outputs(args)
    course = load_course(args.course)
    server = ForkServer()  # it imports torch on one core while this process does on the other
    from autograder.grading.grader import Grader

    with Grader(course, strict=args.strict, fork_server=server) as grader:
        report = grader.grade(args.submission, student=args.student)
    for warning in report.warnings:  # for whoever runs the grader, whatever the formats show
        print(f"autograder grade: warning: {warning}", file=sys.stderr)
    for name, out in outputs:
        text = FORMATS[name](report)
        if out == "-":
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        else:
            try:
                atomic_write_text(Path(out), text)
            except OSError as error:  # checked before grading, so only if it changed since
                raise CommandError(f"--out {out}: could not write ({error.strerror})") from None
    return 0


def _grade_all(args: argparse.Namespace) -> int:
    course = load_course(args.course)
    if problem := not_a_folder(args.root):
        raise CommandError(f"{args.root}: {problem} (expected one subfolder per student)")
    if args.strict and not probe().landlock_abi:
        raise CommandError(STRICT_WITHOUT_LANDLOCK)
    if args.nbgrader_course is not None:
        _check_nbgrader_course(args.nbgrader_course)
    _check_writable("--db", args.db)
    _check_writable("--reports", args.reports, folder=True)
    if args.csv is not None:
        _check_writable("--csv", args.csv)
    factory = functools.partial(real_grader, strict=True) if args.strict else real_grader
    summary = grade_all(
        args.root,
        course=course,
        db=args.db,
        reports_dir=args.reports,
        workers=args.workers,
        grader_factory=factory,
        csv_path=args.csv,
        nbgrader_course=args.nbgrader_course,
        progress=sys.stderr.isatty(),
    )
    print(f"graded {summary.graded}, already graded {summary.skipped}, failed {summary.failed}")
    for result in summary.results:  # a failure was logged as it happened
        if result.problem is not None and result.status != "failed":
            name = printable("/".join(filter(None, (result.student, result.assignment))))
            problem = printable(result.problem)
            print(f"could not grade {name} (0 points): {problem}", file=sys.stderr)
    if summary.interrupted:
        return 130
    if summary.gradebook is not None:
        print(f"wrote {summary.gradebook.written} scores to the nbgrader gradebook")
        for problem in summary.gradebook.skipped:
            print(f"not written: {printable(problem)}", file=sys.stderr)
        if summary.gradebook.skipped:
            raise CommandError(
                f"{len(summary.gradebook.skipped)} scores could not reach the nbgrader "
                "gradebook (listed above); the grades are safe in --db"
            )
    return 0


def _check_nbgrader_course(folder: Path) -> None:
    """Fail before grading, not after, when --nbgrader-course cannot be written to."""
    if not (folder / CONFIG_FILE).is_file():
        raise CommandError(
            f"--nbgrader-course {folder}: no {CONFIG_FILE} there (`autograder nbgrader DIR` "
            "writes an nbgrader course directory)"
        )
    try:
        import nbgrader.api  # noqa: F401
    except ImportError:
        raise CommandError(
            "--nbgrader-course needs nbgrader: pip install nbgrader==0.9.6"
        ) from None


def _doctor(args: argparse.Namespace) -> int:
    protections = probe()
    landlock = f"ABI {protections.landlock_abi}" if protections.landlock_abi else "unavailable"
    rows = [
        ("Landlock (files, TCP, signals)", landlock),
        ("seccomp filter (sockets, processes)", "yes" if protections.seccomp else "no"),
        (
            "workers drop to user nobody",
            "yes (running as root)"
            if protections.uid_drop
            else "no (not root: workers run as this user, confined by Landlock)",
        ),
        ("rlimits (CPU, memory, files, processes)", "yes"),
        (
            "huge pages for cheap worker forks",
            "yes" if hugepages.available() else "no (Linux 6.1+ with THP): batches run slower",
        ),
    ]
    if protections.uid_drop:
        blocked = python_out_of_workers_reach()
        rows.append(
            (
                "Python's libraries readable by nobody",
                f"no ({blocked} is not searchable by others): graded code can import only "
                "the modules the grader preloads"
                if blocked
                else "yes",
            )
        )
    for name, value in rows:
        print(f"{name:42} {value}")
    for gap in protections.missing:
        print(f"missing: {gap}")
    print(
        "strict grading possible" if protections.landlock_abi else "--strict would refuse to grade"
    )
    return 0


def _release(args: argparse.Namespace) -> int:
    # Built in a folder beside OUT, then renamed into its place: OUT's folder must take files.
    _check_takes_files("OUT", args.out, args.out.parent)
    written = build_release(
        load_course(args.course), args.out, force=args.force, notebooks=not args.no_notebooks
    )
    print(f"wrote the student release to {args.out} ({len(written)} files)")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    _check_writable("OUT", args.out)
    path = build_gradescope_bundle(load_course(args.course), args.out)
    print(f"wrote the Gradescope autograder {path}")
    return 0


def _version() -> str:
    """This grader's version, as installed (a CI log then says which one graded)."""
    try:
        return importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    parser.add_argument("--version", action="version", version=f"autograder {_version()}")
    parser.add_argument(
        "--course", type=Path, default=None, help="course.toml (default: the project's)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="generate exercises/ and notebooks/ from solutions/")
    build.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    build.set_defaults(run=_build)
    grade = commands.add_parser("grade", help="grade one submission with the hidden suites")
    grade.add_argument(
        "submission", type=Path, help="a folder like exercises/, a .py file or a notebook"
    )
    grade.add_argument(
        "--format", action="append", metavar="FORMAT", help=f"one of {', '.join(FORMATS)}"
    )
    grade.add_argument(
        "--out",
        action="append",
        metavar="PATH",
        help="where the matching --format goes (- for stdout)",
    )
    grade.add_argument("--student", default=None, help="the student's name, for the report")
    grade.add_argument("--strict", action="store_true", help="refuse to grade without Landlock")
    grade.set_defaults(run=_grade)
    batch = commands.add_parser("grade-all", help="grade every submission in a folder, resumably")
    batch.add_argument(
        "root", type=Path, help="one subfolder per student, or nbgrader's submitted/"
    )
    batch.add_argument(
        "--db", type=Path, required=True, help="SQLite file of results (resumes from it)"
    )
    batch.add_argument(
        "--reports", type=Path, required=True, help="folder for each student's JSON report"
    )
    batch.add_argument(
        "--workers", type=_positive_int, default=2, help="grading processes (default 2)"
    )
    batch.add_argument("--csv", type=Path, default=None, help="also export a gradebook CSV")
    batch.add_argument(
        "--nbgrader-course",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write the scores into this nbgrader course's gradebook",
    )
    batch.add_argument("--strict", action="store_true", help="refuse to grade without Landlock")
    batch.set_defaults(run=_grade_all)
    doctor = commands.add_parser("doctor", help="show how workers are confined on this machine")
    doctor.set_defaults(run=_doctor)
    release = commands.add_parser("release", help="build what students get (no solutions)")
    release.add_argument("out", type=Path, help="an empty or new folder")
    release.add_argument("--force", action="store_true", help="replace a non-empty OUT")
    release.add_argument("--no-notebooks", action="store_true", help="leave the notebooks out")
    release.set_defaults(run=_release)
    nbgrader = commands.add_parser("nbgrader", help="build an nbgrader course directory")
    nbgrader.add_argument("out", type=Path, help="the course directory to write")
    nbgrader.add_argument(
        "--force", action="store_true", help="overwrite generated files edited since"
    )
    nbgrader.set_defaults(run=_nbgrader)
    bundle = commands.add_parser("bundle", help="package the grader for a platform")
    platforms = bundle.add_subparsers(dest="platform", required=True, metavar="PLATFORM")
    gradescope = platforms.add_parser("gradescope", help="a Gradescope autograder zip")
    gradescope.add_argument("out", type=Path, help="the zip to write")
    gradescope.set_defaults(run=_bundle)
    return parser


def _describe(error: Exception) -> str:
    """An error for the user: an OS error as one line, by its file(s) and its cause."""
    if isinstance(error, OSError) and error.strerror:
        files = [printable(os.fsdecode(f)) for f in (error.filename, error.filename2) if f]
        return f"{' -> '.join(files)}: {error.strerror}" if files else error.strerror
    return str(error)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (
        ConfigError,
        SolutionMarkupError,
        CommandError,
        BatchError,
        ReleaseError,
        SandboxError,
        SuiteError,
        GradebookError,
        OSError,
    ) as error:
        print(f"autograder {args.command}: {_describe(error)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"autograder {args.command}: interrupted", file=sys.stderr)
        return 130


def entry() -> NoReturn:
    """The `autograder` command: `main`, then exit at once. Unwinding an interpreter that has
    torch loaded takes a third of a second, and by now every report is written and closed."""
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)

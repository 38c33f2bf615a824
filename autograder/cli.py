"""The `autograder` command: build the course, check it, grade submissions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from autograder.build.exercises import check_exercises, write_exercises
from autograder.build.stubs import SolutionMarkupError
from autograder.course.config import ConfigError, load_course


class CommandError(Exception):
    """The command cannot do what was asked; the message says why (exit status 2)."""


def _build(args: argparse.Namespace) -> int:
    course = load_course(args.course)
    if args.check:
        drift = check_exercises(course)
        for item in drift:
            print(f"{item.path}: {item.reason}")
        if drift:
            print("exercises/ is out of date: run `autograder build`", file=sys.stderr)
        return 1 if drift else 0
    for path in write_exercises(course):
        print(f"wrote {path}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__)
    parser.add_argument(
        "--course", type=Path, default=None, help="course.toml (default: the project's)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    build = commands.add_parser("build", help="generate exercises/ from solutions/")
    build.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    build.set_defaults(run=_build)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (ConfigError, SolutionMarkupError, CommandError, FileNotFoundError) as error:
        print(f"autograder {args.command}: {error}", file=sys.stderr)
        return 2

"""`python -m autograder`."""

from autograder.cli import entry

entry()

"""Common mistakes, named and explained: the catalogue, and the detector that recognises them.

from autograder.mistakes import diagnose, mistakes_for
mistake = diagnose(student, exercise, "softmax")  # a Mistake, or None
"""

from autograder.mistakes.base import Mistake, Probe
from autograder.mistakes.catalogue import all_mistakes, get, mistakes_for, probes_for
from autograder.mistakes.detect import (
    NOT_DIAGNOSED,
    diagnose,
    diagnose_exercise,
    diagnose_failures,
    diagnose_module,
    matching,
)

__all__ = [
    "NOT_DIAGNOSED",
    "Mistake",
    "Probe",
    "all_mistakes",
    "diagnose",
    "diagnose_exercise",
    "diagnose_failures",
    "diagnose_module",
    "get",
    "matching",
    "mistakes_for",
    "probes_for",
]

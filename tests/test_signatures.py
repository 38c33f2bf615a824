"""A student's function whose parameters cannot take the reference's arguments is named, with
both signatures; any other is left alone."""

import ast

import pytest

from autograder.grading.signatures import accepts, describe


def _arguments(signature: str) -> ast.arguments:
    return ast.parse(f"def f({signature}): pass").body[0].args


REFERENCE = "scores: Tensor, dim: int = -1"


@pytest.mark.parametrize(
    "student",
    [
        "scores, dim=-1",
        "x, dim=0",  # another name and default: calls still fit
        "scores: Tensor, dim: int = -1, eps=1e-9",
        "*args, **kwargs",
        "scores, /, dim=-1",
        "scores, dim=-1, *, out=None",
    ],
)
def test_signatures_that_take_the_reference_arguments(student):
    assert accepts(_arguments(student), _arguments(REFERENCE))


@pytest.mark.parametrize(
    "student",
    [
        "scores",  # dim dropped
        "scores, axis=-1",  # dim renamed: dim=... no longer fits
        "scores, dim",  # dim required
        "scores, mask, dim=-1",  # more required
        "scores, dim=-1, *, mask",  # a required keyword
        "",
    ],
)
def test_signatures_that_do_not(student):
    assert not accepts(_arguments(student), _arguments(REFERENCE))


def test_a_signature_is_described_without_annotations():
    assert describe("softmax", _arguments(REFERENCE)) == "softmax(scores, dim=-1)"

"""The call executor and the unchanged-inputs verdict, on positional and keyword inputs."""

import types

import pytest
import torch

from autograder.grading.student import InProcessModule
from autograder.grading.verdict import inputs_unchanged
from autograder.sandbox.calls import execute_call


def masked_sum(x, mask=None):
    if mask is not None:
        mask.logical_not_()  # a student's in-place change to a keyword input
    return x.sum(-1)


def test_inputs_are_copies_and_come_back_only_when_asked():
    x, mask = torch.ones(2, 3), torch.ones(2, 3, dtype=torch.bool)
    plain = execute_call(masked_sum, [x], {"mask": mask})
    assert plain.inputs_after is None
    assert mask.all(), "the caller's keyword tensor must never be touched"
    full = execute_call(masked_sum, [x], {"mask": mask}, return_inputs=True)
    assert set(full.inputs_after) == {"argument 1", "mask"}
    assert not full.inputs_after["mask"].any()
    assert torch.equal(full.inputs_after["argument 1"], x)


def test_gradients_per_positional_input():
    result = execute_call(
        lambda a, b: (a * b).sum(-1), [torch.ones(3), 2 * torch.ones(3)], {}, [torch.ones(())]
    )
    assert torch.equal(result.grads[0], 2 * torch.ones(3))
    assert torch.equal(result.grads[1], torch.ones(3))


def test_in_place_change_of_a_keyword_input_fails_the_check():
    student = InProcessModule(types.SimpleNamespace(masked_sum=masked_sum))
    with pytest.raises(pytest.fail.Exception, match="mask was modified in place"):
        inputs_unchanged(
            student,
            "masked_sum",
            torch.ones(2, 3),
            mask=torch.ones(2, 3, dtype=torch.bool),
            what="masked_sum",
        )

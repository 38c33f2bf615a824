"""The call executor and the verdicts on gradients and unchanged inputs, on positional and keyword
inputs and on the tensors inside dict, tuple and list inputs."""

import types

import pytest
import torch

from autograder.grading.remote import RemoteModule
from autograder.grading.student import InProcessModule, ModuleProxy
from autograder.grading.verdict import gradients_agree, inputs_unchanged
from autograder.sandbox.calls import changed_inputs, execute_call, is_gradient


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
            student,
            "masked_sum",
            torch.ones(2, 3),
            mask=torch.ones(2, 3, dtype=torch.bool),
            what="masked_sum",
        )


def affine(x, params):
    return x @ params["W"] + params["b"]


def affine_shifting_b(x, params):
    params["b"].add_(1.0)  # a student's in-place change inside a dict input
    return affine(x, params)


def affine_detaching_b(x, params):
    return x @ params["W"] + params["b"].detach()


def affine_renamed(inputs, weights):
    """A student's affine under other parameter names: messages keep the reference's."""
    weights["b"] = weights["b"] + 1.0  # changes the caller's dict
    return inputs @ weights["W"] + weights["b"].detach()


def affine_params():
    return {"W": torch.ones(3, 2), "b": torch.zeros(2), "steps": torch.tensor(3)}


def test_gradients_inside_a_dict_argument_come_back_as_a_dict():
    x, params = torch.ones(4, 3), affine_params()
    result = execute_call(affine, [x, params], {}, [torch.ones(4, 2)])
    assert torch.equal(result.grads[0], 2 * torch.ones(4, 3))
    assert set(result.grads[1]) == {"W", "b", "steps"}
    assert torch.equal(result.grads[1]["W"], 4 * torch.ones(3, 2))
    assert torch.equal(result.grads[1]["b"], 4 * torch.ones(2))
    assert result.grads[1]["steps"] is None, "an integer tensor has no gradient"
    assert all(is_gradient(g) for g in result.grads)
    assert not params["W"].requires_grad, "the caller's tensors are never touched"


def test_an_argument_without_float_tensors_has_no_gradient():
    result = execute_call(
        lambda x, pair, n: x.sum() * n,
        [torch.ones(2), (1, torch.tensor(2)), 3],
        {},
        [torch.ones(())],
    )
    assert result.grads[1:] == (None, None)


def test_tensors_inside_containers_are_copied_and_come_back_after_the_call():
    x, params = torch.ones(4, 3), affine_params()
    result = execute_call(affine_shifting_b, [x, params], {}, return_inputs=True)
    assert torch.equal(params["b"], torch.zeros(2)), "the caller's dict must never be touched"
    assert torch.equal(result.inputs_after["argument 2"]["b"], torch.ones(2))


def test_is_gradient_accepts_only_tensors_and_none_in_containers():
    assert is_gradient(None) and is_gradient(torch.ones(2))
    assert is_gradient({"W": torch.ones(2), "b": None}) and is_gradient((None, [torch.ones(1)]))
    assert not is_gradient(1.0) and not is_gradient({"W": "grad"}) and not is_gradient([None, 2])


@pytest.mark.parametrize("wrong", [affine_shifting_b, affine_renamed])
def test_in_place_change_inside_a_dict_names_the_entry_as_the_reference_does(wrong):
    reference = InProcessModule(types.SimpleNamespace(affine=affine))
    student = InProcessModule(types.SimpleNamespace(affine=wrong))
    with pytest.raises(pytest.fail.Exception, match=r"params\['b'\] was modified in place"):
        inputs_unchanged(
            student, reference, "affine", torch.ones(4, 3), affine_params(), what="affine"
        )


def test_a_student_worker_never_names_parameters():
    """Names come from the reference alone: what a worker sends could say anything."""
    assert RemoteModule.parameter_names is ModuleProxy.parameter_names
    assert ModuleProxy().parameter_names("affine") is None


def test_changed_inputs_names_each_changed_tensor_in_argument_order():
    x, params, mask = torch.ones(2), affine_params(), torch.ones(2, dtype=torch.bool)
    after = {
        "argument 1": x.double(),  # the same values, another dtype
        "argument 2": {**params, "b": params["b"] + 1, "steps": None},
        "mask": mask,
    }
    args, kwargs = [x, params], {"mask": mask}
    assert list(changed_inputs(args, kwargs, after, names=("x", "params"))) == [
        "x",
        "params['b']",
        "params['steps']",
    ]
    assert list(changed_inputs(args, kwargs, {})) == [
        "argument 1",
        "argument 2['W']",
        "argument 2['b']",
        "argument 2['steps']",
        "mask",
    ]


@pytest.mark.parametrize("wrong", [affine_detaching_b, affine_renamed])
def test_a_missing_gradient_inside_a_dict_names_the_entry_as_the_reference_does(course, wrong):
    reference = InProcessModule(types.SimpleNamespace(affine=affine))
    student = InProcessModule(types.SimpleNamespace(affine=wrong))
    args = (torch.ones(4, 3), affine_params())
    exercise = course.exercises[0]
    gradients_agree(reference, reference, exercise, "affine", args, seed=0, what="affine")
    with pytest.raises(pytest.fail.Exception, match=r"respect to params\['b'\] is missing"):
        gradients_agree(student, reference, exercise, "affine", args, seed=0, what="affine")


def test_a_reference_without_parameter_names_falls_back_to_numbers(course):
    reference = InProcessModule(types.SimpleNamespace(affine=lambda *inputs: affine(*inputs)))
    student = InProcessModule(types.SimpleNamespace(affine=affine_detaching_b))
    args = (torch.ones(4, 3), affine_params())
    with pytest.raises(pytest.fail.Exception, match=r"respect to argument 2\['b'\] is missing"):
        gradients_agree(
            student, reference, course.exercises[0], "affine", args, seed=0, what="affine"
        )

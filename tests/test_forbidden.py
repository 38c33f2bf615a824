"""Forbidden calls are found in source, however they are spelled."""

import pytest

from autograder.course.forbidden import find_forbidden, forbidden_note

SOFTMAX = ("torch.softmax", "torch.nn.functional.softmax", "torch.nn.Softmax")


@pytest.mark.parametrize(
    "source",
    [
        "import torch\ny = torch.softmax(x, -1)",
        "import torch.nn.functional as F\ny = F.softmax(x, dim=-1)",
        "y = x.softmax(-1)",
        "from torch.nn.functional import softmax as sm\ny = sm(x)",
        "import torch\nlayer = torch.nn.Softmax(dim=-1)",
        "import torch\ny = getattr(torch, 'softmax')(x)",
        "import torch\ny = torch._softmax(x, -1, False)",  # a private alias
        "from torch import _softmax\ny = _softmax(x, -1, False)",
        "import torch\ny = getattr(torch, '_softmax')(x, -1, False)",
    ],
)
def test_softmax_in_any_spelling_is_found(source):
    uses = find_forbidden(source, SOFTMAX)
    assert uses and uses[0].line >= 1


def test_a_forbidden_name_mentioned_in_a_string_is_no_use_of_it():
    source = 'def softmax(x):\n    """Like torch.softmax, written out."""\n    return x\n'
    assert find_forbidden(source, SOFTMAX) == []


def test_own_function_of_the_same_name_is_allowed():
    source = "def softmax(x):\n    return x.exp() / x.exp().sum()\n\ny = softmax(z)\n"
    assert find_forbidden(source, SOFTMAX) == []


def test_matmul_operator_and_its_location():
    uses = find_forbidden("a = 1\nb = x @ y\nc @= d\n", ("@", "torch.matmul"))
    assert [(u.name, u.line, u.column) for u in uses] == [("@", 2, 4), ("@", 3, 0)]
    assert (
        uses[0].describe(uses[0].at("ex01.py"))
        == "ex01.py:2:5: uses the @ operator, which this exercise forbids"
    )


def test_syntax_errors_propagate():
    with pytest.raises(SyntaxError):
        find_forbidden("def (:", SOFTMAX)


def test_code_too_deep_to_read_is_a_syntax_error_and_a_deep_use_is_still_found():
    with pytest.raises(SyntaxError, match="nested too deeply"):
        find_forbidden("x = 1" + " + 1" * 200_000, SOFTMAX)
    (use,) = find_forbidden("y = x" + ".a" * 900 + ".softmax(1)", SOFTMAX)
    assert use.name == "...softmax" and use.line == 1


@pytest.mark.parametrize(
    ("source", "found"),
    [
        (
            'import torch\ny = getattr(torch, "".join(reversed("xamtfos")))(x, -1)',
            "getattr with a computed name",
        ),
        ("import torch\ny = eval('torch.soft' + 'max')(x, -1)", "eval"),
        ("import importlib\nF = importlib.import_module('torch.nn.functional')", "importlib"),
        ("import torch\ny = torch.__dict__['soft' + 'max'](x, -1)", "__dict__"),
    ],
)
def test_names_computed_at_run_time_are_refused(source, found):
    uses = find_forbidden(source, SOFTMAX)
    assert [u.name for u in uses] == [found]
    assert "could hide a forbidden call" in uses[0].describe(uses[0].at("ex03_softmax.py"))


def test_computed_names_are_fine_where_nothing_is_forbidden():
    assert find_forbidden("y = getattr(obj, name)\nz = eval('1')", ()) == []
    assert find_forbidden('y = getattr(torch, "exp")(x)', SOFTMAX) == []


@pytest.mark.parametrize(
    "source",
    [
        "import torch.nn.functional as F\ny = F.softmin(-x, dim=-1)",
        "import torch\ny = torch.nn.Softmin(dim=-1)(-x)",
        "import torch\ny = torch.log_softmax(x, -1).exp()",
    ],
)
def test_the_softmax_exercise_refuses_softmax_by_another_name(course, source):
    assert find_forbidden(source, course.exercise("softmax").forbidden)


def test_the_forbidden_note_names_every_way_the_check_refuses():
    note = forbidden_note(("torch.dot", "@"))
    assert "torch.dot, the @ operator" in note
    assert all(way in note for way in ("eval", "exec", "compile", "__import__", "importlib"))
    assert all(way in note for way in ("vars", "globals", "__dict__", "getattr with a computed"))
    assert forbidden_note(()) == ""

"""How messages name the chain of a student's calls that an error or a time limit stopped."""

from autograder.course.names import MAX_CALLS_SHOWN, call_chain


def test_the_innermost_call_comes_first_each_with_its_place():
    calls = [("rnn_forward", "line 52"), ("rnn_step", "line 36")]
    assert call_chain(calls) == "rnn_step (line 36), called from rnn_forward (line 52)"


def test_a_recursion_names_each_call_once_and_a_long_chain_is_cut():
    assert call_chain([("walk", "line 3")] * 50) == "walk (line 3)"
    calls = [(f"f{n}", f"line {n}") for n in range(1, 9)]
    shown = call_chain(calls).split(", called from ")
    assert shown[: MAX_CALLS_SHOWN + 1] == [*(f"f{n} (line {n})" for n in range(8, 3, -1)), "…"]

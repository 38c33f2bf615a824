"""Recorded plans: each submission's calls go to its worker in one batch, and the reference's
answers are computed once per grader."""

from __future__ import annotations

import math
import shutil
from collections import Counter
from types import SimpleNamespace

import pytest
import torch

from autograder.grading.grader import Grader
from autograder.grading.remote import RemoteModule
from autograder.grading.replay import CachedModule, Recorder, call_key, request_payload
from autograder.grading.student import InProcessModule
from autograder.sandbox import wire
from tests.conftest import ROOT

X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])


@pytest.mark.parametrize(
    "other",
    [
        ("g", (X,), {}, None),
        ("f", (X.double(),), {}, None),
        ("f", (X.reshape(4),), {}, None),
        ("f", (X + 1e-7,), {}, None),
        ("f", (X, 1), {}, None),
        ("f", (X, 1.0), {}, None),
        ("f", (X, True), {}, None),
        ("f", (X,), {"dim": 0}, None),
        ("f", (X,), {}, [X]),
        ("f", [X], {}, None),
    ],
)
def test_call_keys_tell_different_calls_apart(other):
    assert call_key("f", (X,), {}, None) != call_key(*other)


def test_call_keys_of_equal_calls_are_equal():
    nan = torch.tensor([math.nan, -0.0])
    assert call_key("f", (X.clone(), nan), {"dim": -1}, [X]) == call_key(
        "f", (X.clone(), nan.clone()), {"dim": -1}, [X.clone()]
    )
    assert call_key("f", (X[:, 0],), {}, None) == call_key("f", (X[:, 0].contiguous(),), {}, None)
    assert call_key("f", (torch.tensor([0.0]),), {}, None) != call_key(
        "f", (torch.tensor([-0.0]),), {}, None
    ), "the request bytes differ, so the keys must"


def _counting_module():
    calls = []

    def double(x):
        calls.append(x)
        return x * 2, x.sum()

    return InProcessModule(SimpleNamespace(double=double)), calls


def test_the_cache_computes_each_call_once_and_hands_out_copies():
    inner, calls = _counting_module()
    cached = CachedModule(inner)
    first = cached.call("double", X)
    first.value[0].zero_()  # a test changing its result changes no one else's
    second = cached.call("double", X.clone(), return_inputs=True)
    assert len(calls) == 1
    assert torch.equal(second.value[0], X * 2)
    assert first.inputs_after is None and torch.equal(second.inputs_after["argument 1"], X)
    cached.call("double", X, projections=[torch.ones(2, 2), torch.ones(())])
    assert len(calls) == 2, "gradients are another call"


def test_the_recorder_keeps_each_call_as_a_worker_request():
    inner, _ = _counting_module()
    recorder = Recorder(inner)
    recorder.double(X)
    recorder.call("double", X, projections=[X, torch.ones(())], return_inputs=True)
    assert [p.function for p in recorder.plan] == ["double", "double"]
    assert recorder.plan[0].key == call_key("double", (X,), {}, None)
    assert recorder.plan[1].payload == request_payload("double", (X,), {}, [X, torch.ones(())])
    request = wire.decode(recorder.plan[0].payload)
    assert request["function"] == "double" and torch.equal(request["args"][0], X)


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


def _count_live_calls(monkeypatch):
    live = []
    call_live = RemoteModule._call_live

    def counting(self, function, payload):
        live.append((self.exercise.id, function))
        return call_live(self, function, payload)

    monkeypatch.setattr(RemoteModule, "_call_live", counting)
    return live


def test_every_call_of_the_hidden_suites_is_answered_from_the_batch(grader, course, monkeypatch):
    """The suites' inputs are seeded: the plan recorded on the reference holds every call."""
    live = _count_live_calls(monkeypatch)
    report = grader.grade(ROOT / "solutions")
    assert report.score == pytest.approx(course.max_score)
    assert live == []
    assert all(grader.plans[e.id] for e in course.exercises)


def test_calls_the_plan_does_not_hold_go_out_live(grader, course, monkeypatch, tmp_path):
    live = _count_live_calls(monkeypatch)
    plan = grader.plan("softmax")
    monkeypatch.setitem(grader.plans, "softmax", plan[::2])
    submission = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", submission, ignore=shutil.ignore_patterns("__pycache__"))
    report = grader.grade(submission)
    assert report.score == pytest.approx(course.max_score)
    made, sent = Counter(p.key for p in plan), Counter(p.key for p in plan[::2])
    missing = sum((made - sent).values())
    assert missing > 0
    assert live == [("softmax", "softmax")] * missing

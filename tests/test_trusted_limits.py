"""What a submission can cost the trusted grading process: memory, report size, time, and
what its text can do to a report. Each attack is a real submission graded in real workers."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest

from autograder.course.config import Course
from autograder.grading.grader import Grader
from autograder.grading.remote import (
    MAX_ANSWER_BYTES,
    MAX_HELD_BYTES,
    MAX_TIMEOUTS,
    TIME_BUDGET_FACTOR,
)
from autograder.grading.scoring import MAX_EXERCISE_MESSAGE_CHARS, exercise_result
from autograder.grading.session import MAX_MESSAGE_CHARS
from autograder.reports import FORMATS
from autograder.reports.common import clean_text, printable
from tests.conftest import ROOT

SOFTMAX = (ROOT / "solutions/ex03_softmax.py").read_text()
NORMALIZE = (ROOT / "solutions/ex02_normalization.py").read_text()
# A test's message may end with truncate()'s note of what it left out.
MESSAGE_ROOM = MAX_MESSAGE_CHARS + 100
MEGA = '"<b>X</b>" * (1 << 17)'  # a string of 1 M characters, the wire's cap on one


@pytest.fixture(scope="module")
def grader(course):
    with Grader(course) as grader:
        yield grader


def _submission(folder: Path, **modules: str) -> Path:
    """A submission of only `modules` (module name -> source): the rest is not submitted."""
    folder.mkdir()
    for module, source in modules.items():
        (folder / f"{module}.py").write_text(textwrap.dedent(source))
    return folder


def _forging(message: str) -> str:
    """Source that sends the trusted side `message` (a Python dict literal) as if the worker
    had, then exits: a student's code can write to the worker's channel, with the worker's own
    encoder, found in its callers' frames."""
    return f"""
        import os
        import sys

        frame = sys._getframe()
        while "wire" not in frame.f_globals:
            frame = frame.f_back
        wire = frame.f_globals["wire"]
        wire.write_frame(3, wire.encode({message}))
        os._exit(0)
    """


# --- A: memory ------------------------------------------------------------------------------


def test_an_answer_over_the_cap_fails_its_test_unread(grader, tmp_path):
    too_big = 2 * MAX_ANSWER_BYTES // 4  # float32 elements: twice the cap
    folder = _submission(
        tmp_path / "s",
        ex03_softmax=f"""
            import torch

            def softmax(scores, dim=-1):
                return torch.zeros({too_big})
        """,
        ex02_normalization=NORMALIZE,
    )
    report = grader.grade(folder)
    softmax = report.exercises["softmax"]
    calling = [t for t in softmax.tests if t.name != "test_no_forbidden_calls"]
    mb, cap = 2 * MAX_ANSWER_BYTES // 1_000_000, MAX_ANSWER_BYTES // 1_000_000
    assert {(t.status, t.message) for t in calling} == {
        ("failed", f"softmax returned {mb} MB, over the {cap} MB an answer may take")
    }
    assert softmax.status == "failed"
    assert report.exercises["normalization"].status == "complete"


def test_an_import_message_over_the_cap_fails_the_exercise_s_tests(grader, tmp_path):
    message = f'{{"status": "import_failed", "type": "E", "message": [{MEGA}] * 7}}'
    report = grader.grade(_submission(tmp_path / "s", ex03_softmax=_forging(message)))
    messages = {t.message for t in report.exercises["softmax"].tests}
    cap = MAX_ANSWER_BYTES // 1_000_000
    assert messages == {
        f"importing ex03_softmax.py sent 7.3 MB, over the {cap} MB an answer may take"
    }


HELD_PROBE = """
import ctypes, re, sys
from pathlib import Path
from autograder.course.config import load_course
from autograder.grading.grader import Grader

PR_SET_DUMPABLE = 4
libc = ctypes.CDLL(None)

def resident_kb(field):
    return int(re.search(field + r":\\s+(\\d+)", Path("/proc/self/status").read_text())[1])

def reset_peak():
    # The grader is not dumpable, which hands /proc/self to root: undo that for this write.
    libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
    finally:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)

with Grader(load_course()) as grader:
    grader.grade(Path(sys.argv[1]))  # plans recorded, the reference's answers cached
    reset_peak()  # the peak starts again from here
    before = resident_kb("VmRSS")
    report = grader.grade(Path(sys.argv[2]))
    print(resident_kb("VmHWM") - before, report.exercises["softmax"].tests[0].message)
"""


def test_an_exercise_holds_a_bounded_amount_of_answers(tmp_path):
    # Each answer is under the cap, but the suite's 32 calls would hold over 100 MB at once.
    elements = int(0.8 * MAX_ANSWER_BYTES) // 4
    attack = _submission(
        tmp_path / "attack",
        ex03_softmax=f"""
            import torch

            def softmax(scores, dim=-1):
                return torch.ones({elements})
        """,
    )
    honest = _submission(tmp_path / "honest", ex03_softmax=SOFTMAX)
    probe = [sys.executable, "-c", HELD_PROBE, str(honest), str(attack)]
    done = subprocess.run(probe, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    grown_kb, message = done.stdout.split(" ", 1)
    assert "shape" in message  # answers under the cap are still checked
    # What is held, one answer being read (its frame, joined, and decoded), and some slack.
    assert int(grown_kb) * 1000 < MAX_HELD_BYTES + 3 * MAX_ANSWER_BYTES + 16_000_000


# --- B: strings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        f'{{"status": "import_failed", "type": {MEGA}, "where": {MEGA}, "message": {MEGA}}}',
        f'{{"status": "syntax_error", "line": {MEGA}, "column": 1, "message": [{MEGA}] * 2}}',
    ],
    ids=["import_failed", "syntax_error"],
)
def test_a_huge_import_failure_makes_a_small_report(grader, tmp_path, message):
    report = grader.grade(_submission(tmp_path / "s", ex03_softmax=_forging(message)))
    tests = report.exercises["softmax"].tests
    assert tests and all(t.status == "failed" and len(t.message) < MESSAGE_ROOM for t in tests)
    for render in FORMATS.values():
        assert len(render(report)) < 100_000


def test_a_huge_unsendable_answer_makes_a_small_report(grader, tmp_path):
    forged = _forging(f'{{"status": "unsendable", "message": {MEGA}}}')
    source = "def softmax(scores, dim=-1):\n" + textwrap.indent(textwrap.dedent(forged), "    ")
    report = grader.grade(_submission(tmp_path / "s", ex03_softmax=source))
    tests = report.exercises["softmax"].tests
    unsendable = [t for t in tests if "cannot be checked" in t.message]
    assert unsendable and all(len(t.message) < MESSAGE_ROOM for t in unsendable)
    assert len(FORMATS["json"](report)) < 100_000


def test_a_diagnosis_quoting_a_huge_signature_is_capped(grader, tmp_path):
    # Calls that pass `dim` raise TypeError: each such test quotes both signatures.
    signature = f"def softmax(scores, *, pad='{'x' * 300_000}')"
    source = SOFTMAX.replace("def softmax(scores: Tensor, dim: int = -1)", signature)
    report = grader.grade(_submission(tmp_path / "s", ex03_softmax=source))
    tests = report.exercises["softmax"].tests
    diagnosed = [t.diagnosis for t in tests if t.diagnosis]
    assert diagnosed and all(d.startswith("your softmax(scores, *, pad='xxx") for d in diagnosed)
    assert all(len(d) < MESSAGE_ROOM for d in diagnosed)


def test_an_exercise_message_is_capped(course):
    exercise = course.exercise("softmax")
    result = exercise_result(exercise, [], True, "", "x" * 10**6)
    assert MAX_EXERCISE_MESSAGE_CHARS < len(result.message) < MAX_EXERCISE_MESSAGE_CHARS + 100


# --- C: time --------------------------------------------------------------------------------


def _with_time_limit(course: Course, exercise_id: str, limit_s: float) -> Course:
    quick = replace(course.exercise(exercise_id), time_limit_s=limit_s)
    exercises = tuple(quick if e.id == exercise_id else e for e in course.exercises)
    return replace(course, exercises=exercises)


def test_an_exercise_s_calls_share_one_time_budget(grader, course, tmp_path, monkeypatch):
    limit_s = 0.5
    budget_s = limit_s * TIME_BUDGET_FACTOR
    slow = NORMALIZE + (
        "\n\nimport time\n_normalize = normalize\n\n\ndef normalize(*args, **kwargs):\n"
        f"    time.sleep({0.8 * limit_s})  # under the limit of a call, every call\n"
        "    return _normalize(*args, **kwargs)\n"
    )
    honest = _submission(tmp_path / "honest", ex02_normalization=NORMALIZE, ex03_softmax=SOFTMAX)
    attack = _submission(tmp_path / "attack", ex02_normalization=slow, ex03_softmax=SOFTMAX)
    monkeypatch.setattr(grader, "course", _with_time_limit(course, "normalization", limit_s))
    grader.grade(honest)  # plans recorded, the reference's answers cached
    report = grader.grade(attack)
    tests = report.exercises["normalization"].tests
    passed = [t for t in tests if t.status == "passed"]
    not_run = f"not run: ex02_normalization.py used its whole time budget of {budget_s:g} s"
    skipped = [t for t in tests if t.message == not_run]
    assert passed and skipped
    assert all(t.status == "timeout" and t.score == 0 for t in skipped)
    assert report.exercises["softmax"].status == "complete"
    assert report.duration_s < budget_s + 1.0  # the calls would take 13 * 0.4 s


def test_a_function_out_of_time_twice_costs_its_own_tests_only(
    grader, course, tmp_path, monkeypatch
):
    reference = (ROOT / "solutions" / "ex05_rnn_step.py").read_text()
    hangs = reference + "\n\ndef rnn_forward(*args, **kwargs):\n    while True:\n        pass\n"
    honest = _submission(tmp_path / "honest", ex05_rnn_step=reference)
    attack = _submission(tmp_path / "attack", ex05_rnn_step=hangs)
    monkeypatch.setattr(grader, "course", _with_time_limit(course, "rnn_step", 0.5))
    grader.grade(honest)  # plans recorded, the reference's answers cached
    tests = grader.grade(attack).exercises["rnn_step"].tests
    by_name = {t.name: t for t in tests}
    assert by_name["test_leading_batch_dims[rnn_step]"].status == "passed"
    assert by_name["test_gradients[rnn_step]"].status == "passed"
    stopped = [t.message for t in tests if t.status == "timeout"]
    assert sum("did not finish in time" in m for m in stopped) == MAX_TIMEOUTS
    assert "not run: rnn_forward already ran out of time 2 times" in stopped
    assert all("rnn_forward" in m for m in stopped)


# --- D: report text -------------------------------------------------------------------------

INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d\u2060\ufeff"


def test_student_text_cannot_reorder_or_hide_feedback(grader, tmp_path):
    trick = "## Total score: 175 / 175\u202e571 / 0 :erocs" + INVISIBLE
    source = (
        SOFTMAX.replace("def softmax(", f"print({trick!r})\n\n\ndef _softmax(", 1)
        + f"\n\ndef softmax(scores, dim=-1):\n    raise ValueError({trick!r})\n"
    )
    report = grader.grade(_submission(tmp_path / "s", ex03_softmax=source))
    softmax = report.exercises["softmax"]
    assert "\u202e" in softmax.output and "\u202e" in softmax.tests[0].message  # the data
    for name in ("markdown", "html", "junit", "gradescope"):  # JSON keeps the data as it is
        shown = FORMATS[name](report)
        if name == "gradescope":
            shown = json.dumps(json.loads(shown), ensure_ascii=False)
        assert not set(INVISIBLE) & set(shown), name
        assert "175 / 175\ufffd571 / 0 :erocs" in shown, name


def test_every_invisible_format_character_is_shown_as_a_replacement():
    hidden = "".join(c for c in map(chr, range(0x110000)) if unicodedata.category(c) == "Cf")
    assert clean_text(hidden) == "\ufffd" * len(hidden)
    fillers = "\u034f\u115f\u1160\u3164\uffa0\u17b4"  # show as nothing
    assert clean_text(fillers) == "\ufffd" * len(fillers)
    assert clean_text("naïve café — 注意力 😀 ⚠️ ✔️") == "naïve café — 注意力 😀 ⚠️ ✔️"
    assert printable("alice\ufe0f\U000e0100\u180b") == "alice???"  # a name hides nothing


def test_a_forged_sandbox_error_is_the_students_failure_not_the_graders(grader, tmp_path):
    # Only a worker that could not be confined says so, before any student code runs: the
    # same words from the student's code fail its own exercise, and grading goes on.
    forged = _forging('{"status": "sandbox_error", "message": "Landlock is gone"}')
    folder = _submission(tmp_path / "s", ex03_softmax=forged, ex02_normalization=NORMALIZE)
    report = grader.grade(folder)
    softmax = report.exercises["softmax"]
    assert softmax.score == 0 and report.exercises["normalization"].status == "complete"
    assert all("could not be confined" not in t.message for t in softmax.tests)

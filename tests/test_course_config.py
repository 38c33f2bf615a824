"""course.toml loads into typed objects, and every mistake in it gets a message naming the key."""

import subprocess
import sys
import tomllib

import pytest

from autograder.course.config import ConfigError, load_course, parse_course
from tests.conftest import ROOT

VALID = (ROOT / "course.toml").read_text(encoding="utf-8")


def test_the_course_has_its_thirteen_exercises(course):
    assert [e.id for e in course.exercises] == [
        "dot_scores",
        "normalization",
        "softmax",
        "context_vectors",
        "rnn_step",
        "bahdanau",
        "scaled_attention",
        "causal_attention",
        "multi_head_attention",
        "positional_encoding",
        "lstm_step",
        "attention_decoder",
        "why_attention",
    ]
    assert [e.number for e in course.exercises] == list(range(1, 14))
    softmax = course.exercise("softmax")
    assert softmax.module == "ex03_softmax" and softmax.number == 3
    assert softmax.functions == ("softmax",)
    assert "torch.nn.functional.softmax" in softmax.forbidden
    assert softmax.tolerance["float64"].atol <= 1e-6
    assert softmax.documents_atol == 1e-4
    assert course.exercise("normalization").forbidden == ()
    assert course.max_score == sum(e.points for e in course.exercises)


def test_exercise_overrides_inherit_the_rest(tmp_path):
    text = VALID.replace(
        '"torch.nn.Softmin"]',
        '"torch.nn.Softmin"]\ntime_limit_s = 2\n[exercises.tolerance.float32]\natol = 0.5',
    )
    assert text != VALID  # the softmax table's forbidden list ends as expected
    course = parse_course(tomllib.loads(text), tmp_path)
    softmax = course.exercise("softmax")
    assert softmax.time_limit_s == 2.0 and softmax.tolerance["float32"].atol == 0.5
    assert softmax.tolerance["float32"].rtol == 1e-4  # inherited from [defaults]
    assert course.exercise("bahdanau").time_limit_s == 10.0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            (
                'points = 15\nforbidden = ["torch.softmax"',
                'points = "many"\nforbidden = ["torch.softmax"',
            ),
            "exercises[2].points: expected a number, got 'many'",
        ),
        (('id = "bahdanau"', 'id = "Bahdanau!"'), "exercises[5].id: expected a string matching"),
        (('module = "ex02_normalization"', 'module = "normalization"'), "exercises[1].module"),
        (
            ('id = "normalization"', 'id = "dot_scores"'),
            "exercises[1].id: expected a value no earlier exercise uses",
        ),
        (("points = 5", "points = 0"), "exercises[1].points: expected a number greater than 0"),
        (("points = 5", "points = true"), "exercises[1].points: expected a number, got True"),
        (
            ('functions = ["normalize"]', 'functions = "normalize"'),
            "exercises[1].functions: expected a list",
        ),
        (
            ('functions = ["normalize"]', 'functions = ["normalize", 3]'),
            "exercises[1].functions[1]",
        ),
        (
            ('functions = ["normalize"]', 'functoins = ["normalize"]'),
            "exercises[1].functoins: expected one of the keys",
        ),
        (
            ("[defaults.tolerance.float64]", "[defaults.tolerance.float16]"),
            "defaults.tolerance.float16",
        ),
        (
            ('name = "Attention, step by step"', ""),
            "course.name: expected a string (the key is missing)",
        ),
    ],
)
def test_mistakes_name_the_key(tmp_path, change, message):
    old, new = change
    assert old in VALID
    path = tmp_path / "course.toml"
    path.write_text(VALID.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_course(path)
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_invalid_toml_names_the_line(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text(VALID.replace("[[exercises]]", "[[exercises]", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"course.toml: invalid TOML: .*line \d+"):
        load_course(path)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_course(tmp_path / "course.toml")
    (tmp_path / "course.toml").write_bytes(b"\xff\xfe name")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_course(tmp_path)


def test_the_command_line_reports_config_errors_without_a_traceback(tmp_path):
    path = tmp_path / "course.toml"
    path.write_text(VALID.replace("points = 5", "points = -1"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "--course", str(path), "build", "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "exercises[1].points: expected a number greater than 0" in result.stderr
    assert "Traceback" not in result.stderr

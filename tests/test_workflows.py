"""The GitHub workflows: well-formed, pinned, and their inline scripts do what they say."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from autograder.reports import ExerciseResult, Report, TestResult, write_json
from tests.conftest import ROOT, run_public_tests

yaml = pytest.importorskip("yaml")  # PyYAML comes with the dev extra (through jupytext)

WORKFLOWS = ROOT / ".github" / "workflows"
GRADE = WORKFLOWS / "grade-submissions.yml"
CLASSROOM = WORKFLOWS / "classroom.yml"
PINNED = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$")


def _load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    if True in document:  # YAML 1.1 reads the key `on` as a boolean
        document["on"] = document.pop(True)
    return document


def _steps(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in document["jobs"].values() for step in job["steps"]]


def _step(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(step for step in _steps(document) if step.get("name") == name)


@pytest.mark.skipif(not shutil.which("actionlint"), reason="actionlint is not installed")
def test_actionlint():
    run = subprocess.run(
        ["actionlint", str(GRADE), str(CLASSROOM)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.mark.parametrize("path", [GRADE, CLASSROOM], ids=lambda p: p.name)
def test_structure(path: Path):
    document = _load(path)
    assert set(document) >= {"name", "on", "jobs", "permissions"}
    assert document["on"]
    for job_id, job in document["jobs"].items():
        assert isinstance(job.get("runs-on"), str), job_id
        assert isinstance(job.get("timeout-minutes"), int), job_id
        assert job["steps"], job_id
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step
            if "uses" in step:
                assert PINNED.match(step["uses"]), f"unpinned action {step['uses']}"
    uses = {step["uses"].split("@")[0] for step in _steps(document) if "uses" in step}
    assert {"actions/checkout", "actions/setup-python"} <= uses
    setup = next(s for s in _steps(document) if s.get("uses", "").startswith("actions/setup-"))
    assert setup["with"]["python-version"] == "3.11"
    install = "\n".join(step.get("run", "") for step in _steps(document))
    # torch exactly as pinned, and from the CPU index: never a multi-GB CUDA build
    cpu = '"torch==2.13.0" --index-url https://download.pytorch.org/whl/cpu'
    assert cpu in install
    assert "\t" not in path.read_text(encoding="utf-8")


def test_grading_workflow():
    document = _load(GRADE)
    assert "workflow_dispatch" in document["on"]
    assert document["on"]["push"]["paths"] == ["submissions/**"]
    runs = "\n".join(step.get("run", "") for step in _steps(document))
    assert "python -m pip install -e ." in runs  # the README's install line
    command = " ".join(
        _step(document, "Grade every submission")["run"].replace("\\\n", " ").split()
    )
    assert command == (
        "autograder grade-all submissions --db grades.sqlite --reports reports "
        '--workers "$WORKERS" --csv grades.csv'
    )
    upload = _step(document, "Upload reports and grades")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["if"] == "always()"
    assert set(upload["with"]["path"].split()) == {
        "grades.csv",
        "grades.sqlite",
        "reports/",
        "junit/",
    }
    assert "GITHUB_STEP_SUMMARY" in _step(document, "Score table")["run"]


def test_classroom_workflow_never_touches_the_hidden_tests():
    document = _load(CLASSROOM)
    text = CLASSROOM.read_text(encoding="utf-8")
    for secret in ("suites", "solutions", "autograder grade", "grade-all", "secrets."):
        assert secret not in text
    for step in _steps(document):
        assert "repository" not in step.get("with", {})  # no checkout of another repository
    assert _step(document, "Public checks")["run"] == (
        "pytest exercises --scoreboard-json score.json"
    )
    assert _step(document, "Public checks")["continue-on-error"] is True
    assert "python -m pip install ." in _step(document, "Install the exercises' checks")["run"]
    assert _step(document, "Points")["if"] == "always()"


def _run_step(
    document: dict[str, Any], name: str, cwd: Path
) -> tuple[subprocess.CompletedProcess[str], str]:
    """Run one step's script as GitHub would (bash -eo pipefail), with this venv's python."""
    summary = cwd / "summary.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    script = cwd / "step.sh"
    script.write_text(_step(document, name)["run"], encoding="utf-8")
    run = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run, summary.read_text(encoding="utf-8") if summary.exists() else ""


def test_points_from_a_real_scoreboard(tmp_path: Path, course):
    shutil.copyfile(ROOT / "course.toml", tmp_path / "course.toml")
    public = run_public_tests(
        "--exercises-dir", ROOT / "solutions", "--scoreboard-json", tmp_path / "score.json"
    )
    assert public.returncode == 0, public.stdout
    run, summary = _run_step(_load(CLASSROOM), "Points", tmp_path)
    lines = run.stdout.splitlines()
    total = f"{course.max_score:g}"
    assert lines[0] == f"Points {total}/{total}"
    assert f"::notice title=Autograding complete::Points {total}/{total}" in lines
    report = next(line for line in lines if line.startswith("::notice title=Autograding report::"))
    assert json.loads(report.split("::", 2)[2]) == {
        "totalPoints": course.max_score,
        "maxPoints": course.max_score,
    }
    assert (
        f"## Public checks: Points {total}/{total}" in summary
        and "| softmax | done | 6/6 |" in summary
    )


def test_points_partial_and_missing(tmp_path: Path, course):
    shutil.copyfile(ROOT / "course.toml", tmp_path / "course.toml")
    board = {
        "points": 12.3456,
        "max_points": 10,  # a student who deleted test files: the maximum comes from course.toml
        "exercises": [
            {
                "id": "softmax",
                "status": "in progress",
                "passed": 5,
                "total": 6,
                "points": 12.3456,
                "max_points": 15,
            }
        ],
    }
    (tmp_path / "score.json").write_text(json.dumps(board))
    run, _ = _run_step(_load(CLASSROOM), "Points", tmp_path)
    total = f"{course.max_score:g}"
    assert run.stdout.splitlines()[0] == f"Points 12.35/{total}"
    (tmp_path / "score.json").unlink()  # pytest stopped before its scoreboard
    run, _ = _run_step(_load(CLASSROOM), "Points", tmp_path)
    assert run.stdout.splitlines()[0] == f"Points 0/{total}"


def test_junit_and_score_table_steps(tmp_path: Path):
    test = TestResult(name="test_x", score=5.0, max_score=5.0, status="passed")
    exercise = ExerciseResult(
        id="softmax", title="Softmax", score=5.0, max_score=5.0, status="complete", tests=(test,)
    )
    report = Report(score=5.0, max_score=5.0, gradable=True, exercises={"softmax": exercise})
    (tmp_path / "reports").mkdir()
    write_json(report, tmp_path / "reports" / "alice.json")
    document = _load(GRADE)
    _run_step(document, "JUnit XML per student", tmp_path)
    suites = ET.parse(tmp_path / "junit" / "alice.xml").getroot()
    assert suites.tag == "testsuites" and suites.get("tests") == "1"

    with open(tmp_path / "grades.csv", "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["student", "assignment", "score", "max_score", "softmax"])
        writer.writerow(["a|b", "", "5", "90", "5"])
    _, summary = _run_step(document, "Score table", tmp_path)
    assert "| student | assignment | score | max_score | softmax |" in summary
    assert "| a\\|b |  | 5 | 90 | 5 |" in summary and "1 submissions graded." in summary
    (tmp_path / "grades.csv").unlink()
    (tmp_path / "summary.md").unlink()
    _, summary = _run_step(document, "Score table", tmp_path)
    assert "grading did not finish" in summary

"""The Gradescope autograder zip: its layout, and run_autograder on a simulated /autograder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from autograder.build.gradescope import build_gradescope_bundle
from autograder.build.release import ReleaseError
from autograder.course.config import Course, load_course
from tests.conftest import ROOT

# https://gradescope-autograders.readthedocs.io/en/latest/specs/#output-format
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
OUTPUT_FORMATS = {"text", "html", "simple_format", "md", "ansi"}
TEST_STATUSES = {"passed", "failed"}
TOLERANCE = 1e-6  # the report rounds each score to 6 decimals


@pytest.fixture(scope="module")
def bundle(course: Course, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_gradescope_bundle(course, tmp_path_factory.mktemp("bundle") / "autograder.zip")


def test_zip_layout(bundle: Path, course: Course):
    with zipfile.ZipFile(bundle) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    names = set(infos)
    for script in ("setup.sh", "run_autograder"):
        assert script in names  # at the root, where Gradescope looks
        assert infos[script].create_system == 3
        assert (infos[script].external_attr >> 16) & 0o777 == 0o755
    assert {"pyproject.toml", "course.toml", "autograder/__init__.py", "autograder/cli.py"} <= names
    suites = {p.name for p in (ROOT / "autograder/suites").iterdir() if p.is_file()}
    assert {f"autograder/suites/{name}" for name in suites} <= names
    assert {f"solutions/{e.filename}" for e in course.exercises} <= names
    tops = {name.split("/")[0] for name in names}
    assert tops == {"setup.sh", "run_autograder", "pyproject.toml", "course.toml"} | {
        "autograder",
        "solutions",
    }
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".egg-info"))]
    assert all(
        (infos[n].external_attr >> 16) & 0o777 == 0o644
        for n in names
        - {
            "setup.sh",
            "run_autograder",
        }
    )


def test_zip_is_reproducible(bundle: Path, course: Course, tmp_path: Path):
    again = build_gradescope_bundle(course, tmp_path / "again.zip")
    assert again.read_bytes() == bundle.read_bytes()


def test_an_exercise_without_a_hidden_suite_is_not_bundled(tmp_path: Path):
    shutil.copytree(ROOT / "solutions", tmp_path / "solutions")
    text = (ROOT / "course.toml").read_text()
    (tmp_path / "course.toml").write_text(text.replace('id = "softmax"', 'id = "soft_max"'))
    out = tmp_path / "autograder.zip"
    with pytest.raises(ReleaseError, match="the hidden suite of 'soft_max' is missing"):
        build_gradescope_bundle(load_course(tmp_path / "course.toml"), out)
    assert not out.exists()


def test_bundle_pins_torch_and_ships_the_suites_config(bundle: Path):
    with zipfile.ZipFile(bundle) as archive:
        pyproject = tomllib.loads(archive.read("pyproject.toml").decode())
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert "torch==2.13.0" in pyproject["project"]["dependencies"]
    assert "*.ini" in pyproject["tool"]["setuptools"]["package-data"]["*"]  # suites/pytest.ini
    assert 'install --index-url "$torch_index" "torch==2.13.0"' in setup
    assert "\r" not in setup + run
    assert '--format gradescope --out "$root/results/results.json"' in run


def _unpack(bundle: Path, root: Path) -> None:
    """Unzip like Gradescope into root/source, applying each entry's Unix mode."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        for info in archive.infolist():
            archive.extract(info, source)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                (source / info.filename).chmod(mode)
    (root / "submission").mkdir()


def _solutions(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "solutions").glob("ex*.py"):
        shutil.copyfile(path, folder / path.name)


def _make_submission(kind: str, folder: Path) -> None:
    if kind == "correct":
        _solutions(folder)
    elif kind == "partial":  # normalisation without dividing by the sum
        _solutions(folder)
        path = folder / "ex02_normalization.py"
        source = path.read_text(encoding="utf-8")
        line = "return scores / scores.sum(dim=dim, keepdim=True)"
        assert line in source
        path.write_text(source.replace(line, "return scores * 1.0"), encoding="utf-8")
    elif kind == "syntax":
        _solutions(folder)
        (folder / "ex03_softmax.py").write_text("def softmax(x, dim=-1:\n    return x\n")
    elif kind == "repository":  # the whole release, as a GitHub submission brings it
        _solutions(folder / "exercises")
        shutil.copytree(ROOT / "notebooks", folder / "notebooks")  # untouched stubs
        (folder / "README.md").write_text("# my work\n")
    else:
        assert kind == "empty"


KINDS = ("correct", "partial", "syntax", "empty", "repository")


def _run_autograder(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env |= {"AUTOGRADER_ROOT": str(root), "PYTHON": sys.executable}
    return subprocess.run(
        [str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def results(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """run_autograder on each kind of submission (in parallel), with this venv's Python."""
    roots = {}
    for kind in KINDS:
        root = tmp_path_factory.mktemp(f"autograder-{kind}")
        _unpack(bundle, root)
        _make_submission(kind, root / "submission")
        roots[kind] = root
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = dict(zip(KINDS, pool.map(_run_autograder, roots.values()), strict=True))
    out = {}
    for kind, run in runs.items():
        assert run.returncode == 0, f"{kind}: {run.stdout}\n{run.stderr}"
        out[kind] = json.loads((roots[kind] / "results" / "results.json").read_text())
    return out


def _check_spec(results: dict[str, Any], course: Course) -> None:
    """Every field Gradescope reads, as its specification describes it."""
    assert isinstance(results["score"], int | float) and not isinstance(results["score"], bool)
    assert isinstance(results["execution_time"], int | float) and results["execution_time"] >= 0
    assert isinstance(results["output"], str) and results["output"]
    assert results["output_format"] in OUTPUT_FORMATS
    assert results["test_output_format"] in OUTPUT_FORMATS
    assert results["visibility"] in VISIBILITIES
    assert results["stdout_visibility"] in VISIBILITIES
    tests = results["tests"]
    assert isinstance(tests, list) and tests
    for test in tests:
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], int | float) and isinstance(test["max_score"], int | float)
        assert 0 <= test["score"] <= test["max_score"] + TOLERANCE
        assert test["status"] in TEST_STATUSES
        assert (test["status"] == "passed") == (test["score"] >= test["max_score"] - TOLERANCE)
        assert test["visibility"] in VISIBILITIES
        assert isinstance(test["output"], str)
        assert test["output_format"] in OUTPUT_FORMATS
        assert isinstance(test.get("tags", []), list)
    total = sum(test["score"] for test in tests)
    assert results["score"] == pytest.approx(total, abs=TOLERANCE * len(tests))
    possible = sum(test["max_score"] for test in tests)
    assert possible == pytest.approx(course.max_score, abs=TOLERANCE * len(tests))
    json.dumps(results, allow_nan=False)  # no NaN or infinity anywhere


def _by_exercise(results: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for test in results["tests"]:
        grouped.setdefault(test["tags"][0], []).append(test)
    return grouped


@pytest.mark.parametrize("kind", KINDS)
def test_results_follow_the_spec(results: dict[str, dict[str, Any]], course: Course, kind: str):
    _check_spec(results[kind], course)


@pytest.mark.parametrize("kind", ["correct", "repository"])
def test_a_correct_submission_gets_full_marks(results, course: Course, kind: str):
    result = results[kind]
    assert result["score"] == pytest.approx(course.max_score)
    assert all(test["status"] == "passed" for test in result["tests"])
    assert set(_by_exercise(result)) == {e.id for e in course.exercises}
    # every test comes from a hidden suite: shown once the grades are published
    assert {test["visibility"] for test in result["tests"]} == {"after_published"}


def test_a_partial_submission_loses_one_exercise(results, course: Course):
    result = results["partial"]
    grouped = _by_exercise(result)
    wrong = grouped.pop("normalization")
    assert any(test["status"] == "failed" for test in wrong)
    assert all(test["output"] for test in wrong if test["status"] == "failed")
    assert all(test["status"] == "passed" for tests in grouped.values() for test in tests)
    lost = course.exercise("normalization").points
    assert course.max_score - lost <= result["score"] < course.max_score
    assert {test["visibility"] for test in result["tests"]} == {"after_published"}


def test_a_syntax_error_costs_only_its_exercise(results, course: Course):
    result = results["syntax"]
    grouped = _by_exercise(result)
    broken = grouped.pop("softmax")
    assert sum(test["score"] for test in broken) == 0
    assert "does not parse" in "\n".join(test["output"] for test in broken) + result["output"]
    expected = course.max_score - course.exercise("softmax").points
    assert result["score"] == pytest.approx(expected)


def test_an_empty_submission_scores_zero_and_says_why(results, course: Course):
    result = results["empty"]
    assert result["score"] == 0
    assert "no exercise module found" in result["output"]
    assert sorted(test["tags"][0] for test in result["tests"]) == sorted(
        e.id for e in course.exercises
    )
    assert {test["status"] for test in result["tests"]} == {"failed"}


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_setup_sh_then_run_autograder(bundle: Path, course: Course):
    """setup.sh builds its own environment; run_autograder then grades with it, unprompted."""
    # Not pytest's tmp_path: as root, the workers (user nobody) must reach the environment.
    top = Path(tempfile.mkdtemp(prefix="gradescope-setup-"))
    try:
        top.chmod(0o755)
        root, venv = top / "autograder", top / "venv"
        _unpack(bundle, root)
        _solutions(root / "submission")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL"))}
        env |= {"AUTOGRADER_VENV": str(venv), "TORCH_INDEX_URL": ""}  # pip's configured index
        setup = subprocess.run(
            ["bash", str(root / "source" / "setup.sh")],
            env=env,
            capture_output=True,
            text=True,
            timeout=1000,
        )
        assert setup.returncode == 0, setup.stdout + setup.stderr
        package = next(venv.glob("lib/python*/site-packages/autograder"))
        for hidden in (root / "source", root / "source" / "solutions", package / "suites"):
            assert hidden.stat().st_mode & 0o077 == 0, hidden  # root's alone, Landlock or not
        listed = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        installed = {p["name"].lower() for p in json.loads(listed.stdout)}
        assert "torch" in installed and not [n for n in installed if n.startswith("nvidia")]
        run = subprocess.run(
            [str(root / "source" / "run_autograder")],
            env=env | {"AUTOGRADER_ROOT": str(root)},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        result = json.loads((root / "results" / "results.json").read_text())
        _check_spec(result, course)
        assert result["score"] == pytest.approx(course.max_score)
    finally:
        shutil.rmtree(top)


def test_a_grader_failure_still_leaves_results_that_say_so(bundle: Path, tmp_path: Path):
    _unpack(bundle, tmp_path)
    (tmp_path / "submission").rmdir()  # the grader itself cannot go on
    run = _run_autograder(tmp_path)
    assert run.returncode == 2 and "no such file or folder" in run.stderr
    results = json.loads((tmp_path / "results" / "results.json").read_text())
    assert results["score"] == 0 and results["tests"] == []
    assert results["extra_data"] == {"grader_failed": 2}  # for staff: no grade, regrade it
    assert "could not grade this submission (exit status 2)" in results["output"]

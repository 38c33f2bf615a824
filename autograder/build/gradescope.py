"""Build the Gradescope autograder zip.

Gradescope unpacks the zip to `/autograder/source`, runs `setup.sh` once as root to build the
image (it leaves the hidden suites and solutions readable by root alone), then `run_autograder`
for each submission (in `/autograder/submission`), which writes
`/autograder/results/results.json` (saying there, too, when the grader itself fails). The zip
holds the whole grader package (hidden suites included), the reference solutions, course.toml
and a pyproject that installs the grader with torch pinned; nothing students get (stubs, public
tests, notebooks). Entries are sorted and dated 1980-01-01, so the same sources always give
the same zip.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from autograder.build.release import (
    PACKAGE_DIR,
    TORCH_PIN,
    ReleaseError,
    is_junk,
    project_dependencies,
    toml_value,
)
from autograder.course.config import COURSE_FILE, Course
from autograder.files import atomic_write_bytes

_EPOCH = (1980, 1, 1, 0, 0, 0)
_VENV = "/opt/attention-autograder"  # where setup.sh installs; readable by the workers' user

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image: a virtual environment
# with the grader and a CPU build of PyTorch. Overrides: AUTOGRADER_VENV (where to install),
# TORCH_INDEX_URL (empty: take torch from pip's configured index).
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
venv="${AUTOGRADER_VENV:-@VENV@}"
torch_index="${TORCH_INDEX_URL-https://download.pytorch.org/whl/cpu}"

find_python() {
    for candidate in python3.11 python3.12 python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
            command -v "$candidate"
            return 0
        fi
    done
    return 1
}

if ! python="$(find_python)"; then
    # Ubuntu 22.04 (Gradescope's default image) ships Python 3.10; 3.11 is in its archive.
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        python3.11 python3.11-venv
    python="$(command -v python3.11)"
fi
if ! "$python" -m venv "$venv"; then
    version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        "python$version-venv"
    "$python" -m venv --clear "$venv"
fi
if [ -n "$torch_index" ]; then
    "$venv/bin/python" -m pip install --index-url "$torch_index" "@TORCH_PIN@"
fi
"$venv/bin/python" -m pip install "$source_dir"
# The hidden suites and the solutions are root's alone: workers, which run as nobody, cannot
# read them even on a kernel without Landlock. (-I: the installed package, not this folder's.)
package="$("$venv/bin/python" -I -c 'import autograder; print(autograder.__path__[0])')"
chmod -R go-rwx "$source_dir" "$package"
"$venv/bin/python" -m autograder --course "$source_dir/@COURSE_FILE@" doctor
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission: grade it with the hidden suites and write
# results/results.json. Overrides: AUTOGRADER_ROOT (default /autograder), PYTHON (default the
# environment setup.sh made, else python3).
set -euo pipefail
root="${AUTOGRADER_ROOT:-/autograder}"
venv="${AUTOGRADER_VENV:-@VENV@}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$venv/bin/python" ]; then PYTHON="$venv/bin/python"; else PYTHON=python3; fi
fi
source_dir="$root/source"
mkdir -p "$root/results"
cd "$source_dir"  # this bundle's autograder package comes first on sys.path
# The grader finds the work in a whole repository (exercises/, notebooks/) or a wrapped folder.
status=0
"$PYTHON" -m autograder --course "$source_dir/@COURSE_FILE@" grade "$root/submission" \
    --format gradescope --out "$root/results/results.json" || status=$?
if [ "$status" -ne 0 ]; then
    # The grader said why on stderr, for staff; without results Gradescope would show students
    # only a generic failure. The 0 is no grade: extra_data marks it, for staff to regrade.
    message="The autograder could not grade this submission (exit status $status): the 0"
    message="$message is not a grade for your work. Please tell your course staff."
    printf '{"score": 0, "output": "%s", "tests": [], "extra_data": {"grader_failed": %s}}\n' \
        "$message" "$status" >"$root/results/results.json"
fi
exit "$status"
"""


def _script(template: str) -> str:
    return (
        template.replace("@VENV@", _VENV)
        .replace("@TORCH_PIN@", TORCH_PIN)
        .replace("@COURSE_FILE@", COURSE_FILE)
    )


def _pyproject(course: Course) -> str:
    return f"""\
# The grader, installed by setup.sh. Not for students: it holds the hidden suites.
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = {toml_value(f"{course.slug}-course-grader")}
version = {toml_value(course.version)}
requires-python = ">=3.11"
dependencies = {toml_value(project_dependencies(course.root))}

[project.scripts]
autograder = "autograder.cli:entry"

[tool.setuptools.packages.find]
include = ["autograder*"]

[tool.setuptools.package-data]
"*" = ["*.ini"]
"""


def bundle_files(course: Course) -> dict[str, tuple[bytes, int]]:
    """Every entry of the zip: its path, content and Unix mode."""
    files: dict[str, tuple[bytes, int]] = {
        "setup.sh": (_script(SETUP_SH).encode(), 0o755),
        "run_autograder": (_script(RUN_AUTOGRADER).encode(), 0o755),
        "pyproject.toml": (_pyproject(course).encode(), 0o644),
        COURSE_FILE: ((course.root / COURSE_FILE).read_bytes(), 0o644),
    }
    for path in sorted(PACKAGE_DIR.rglob("*")):
        relative = path.relative_to(PACKAGE_DIR.parent)
        if path.is_file() and not is_junk(relative):
            files[relative.as_posix()] = (path.read_bytes(), 0o644)
    try:
        solutions = course.solutions_dir.relative_to(course.root)
    except ValueError:
        raise ReleaseError(
            f"{course.solutions_dir}: the solutions must lie inside the course folder "
            f"{course.root} to be bundled where course.toml says"
        ) from None
    for exercise in course.exercises:
        path = course.solutions_dir / exercise.filename
        if not path.is_file():
            raise ReleaseError(f"{path}: the reference solution of {exercise.id!r} is missing")
        files[(solutions / exercise.filename).as_posix()] = (path.read_bytes(), 0o644)
        suite = PACKAGE_DIR / "suites" / f"test_{exercise.id}.py"
        if not suite.is_file():  # every submission would then fail to grade
            raise ReleaseError(f"{suite}: the hidden suite of {exercise.id!r} is missing")
    return files


def build_gradescope_bundle(course: Course, out_zip: Path) -> Path:
    """Write the Gradescope autograder zip to `out_zip` (replaced atomically); returns it."""
    out_zip = Path(out_zip)
    out_zip.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, (data, mode) in sorted(bundle_files(course).items()):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = (0o100000 | mode) << 16  # a regular file, with its mode
            info.create_system = 3  # Unix, so unzip applies the mode
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    atomic_write_bytes(out_zip, buffer.getvalue())
    return out_zip

"""The confinement pieces on this kernel: each protection checked in a real child process."""

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import confine
from autograder.sandbox.pool import MemoryWatch
from tests.conftest import ROOT

PROTECTIONS = confine.probe()


def in_child(action) -> int:
    """Run `action()` in a forked child; its exit status (0 when it returned normally)."""
    pid = os.fork()
    if pid == 0:
        try:
            action()
            code = 0
        except PermissionError:
            code = 13
        except BaseException:
            code = 1
        os._exit(code)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])


def confined(then) -> int:
    def action():
        confine.set_no_new_privs()
        confine.apply_seccomp()
        then()

    return in_child(action)


def test_the_probe_matches_the_kernel():
    assert PROTECTIONS.landlock_abi == confine.landlock_abi()
    if not PROTECTIONS.landlock_abi:
        pytest.skip("this kernel has no Landlock")
    assert PROTECTIONS.landlock_abi >= 1


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_denies_sockets_processes_and_exec_but_not_ordinary_work():
    assert confined(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)) == 13
    assert confined(lambda: socket.socket(socket.AF_UNIX)) == 13
    assert confined(lambda: os.fork()) == 13
    assert confined(lambda: os.execv("/bin/true", ["true"])) == 13
    assert confined(lambda: sum(range(1000)) and Path(os.devnull).read_text()) == 0


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_lets_a_worker_signal_only_itself():
    parent = os.getpid()
    assert confined(lambda: os.kill(parent, 0)) == 13
    assert confined(lambda: os.killpg(os.getpgid(parent), 0)) == 13
    assert confined(lambda: os.kill(os.getpid(), 0)) == 0
    assert confined(lambda: os.kill(0, 0)) == 0
    assert confined(lambda: os.getpid() and os.getppid()) == 0, "other syscalls still work"


@pytest.mark.skipif(not PROTECTIONS.landlock_abi, reason="this kernel has no Landlock")
def test_landlock_allows_python_and_torch_but_not_the_grader(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text("x = 1\n")

    def action():
        confine.set_no_new_privs()
        confine.apply_landlock(PROTECTIONS.landlock_abi, confine.readable_paths(module, tmp_path))
        assert module.read_text() == "x = 1\n"
        import torch

        assert Path(torch.__file__).read_bytes()
        for secret in (ROOT / "solutions" / "ex03_softmax.py", ROOT / "autograder" / "suites"):
            try:
                secret.read_bytes() if secret.is_file() else os.listdir(secret)
            except PermissionError:
                continue
            os._exit(3)  # a secret was readable
        try:
            (tmp_path / "new.txt").write_text("x")
        except PermissionError:
            return
        os._exit(4)  # could write

    assert in_child(action) == 0


def test_readable_paths_never_include_the_grader_or_the_course(tmp_path):
    paths = [str(p) for p in confine.readable_paths(tmp_path / "m.py", tmp_path)]
    assert not any(p.startswith(str(ROOT)) for p in paths if not p.startswith(str(tmp_path)))
    assert not any(Path(p).name.startswith("autograder") for p in paths)


def test_the_memory_watch_kills_a_growing_process():
    grower = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nb = []\nwhile True:\n b.append(bytearray(8 << 20)); time.sleep(0.01)",
        ],
        start_new_session=True,
    )

    class Watched:
        pid = grower.pid
        killed_for = None

    watch, target = MemoryWatch(), Watched()
    watch.watch(target, 64 << 20)
    try:
        assert grower.wait(timeout=20) == -signal.SIGKILL
    finally:
        grower.kill()
    assert "MB of memory, over its limit" in target.killed_for
    watch.forget(target)


def test_doctor_reports_what_the_kernel_offers():
    result = subprocess.run(
        [sys.executable, "-m", "autograder", "doctor"], capture_output=True, text=True
    )
    assert result.returncode == 0 and "Landlock" in result.stdout and "seccomp" in result.stdout
    expected = f"ABI {PROTECTIONS.landlock_abi}" if PROTECTIONS.landlock_abi else "unavailable"
    assert expected in result.stdout

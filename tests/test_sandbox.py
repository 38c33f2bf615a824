"""The confinement pieces on this kernel: each protection checked in a real child process."""

import contextlib
import ctypes
import fcntl
import json
import os
import re
import resource
import signal
import socket
import struct
import subprocess
import sys
import sysconfig
import tempfile
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from autograder.sandbox import confine, hugepages, wire, worker
from autograder.sandbox.confine import not_searchable_by_others
from autograder.sandbox.pool import ForkServer, MemoryWatch
from autograder.sandbox.spec import WorkerSpec
from tests.conftest import ROOT

PROTECTIONS = confine.probe()
F_SETOWN_EX, FIOSETOWN, SIOCSPGRP = 15, 0x8901, 0x8902


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


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_keeps_a_worker_from_having_the_kernel_signal_another_process():
    # F_SETOWN names the process an fd's I/O signal goes to (F_SETSIG: SIGKILL, say), checked
    # against the uid alone: without Landlock's signal scoping (ABI < 6), a worker of a grader
    # that is not root could have the kernel kill the grader. (tests/adversarial/attacks/
    # sigio_grader.py does so when Landlock lacks the scoping.)
    parent = os.getpid()
    read_end, write_end = os.pipe()
    channel, _ = socket.socketpair()
    set_owner_ex = struct.pack("ii", 1, parent)  # F_OWNER_PID
    assert confined(lambda: fcntl.fcntl(write_end, fcntl.F_SETOWN, parent)) == 13
    assert confined(lambda: fcntl.fcntl(write_end, F_SETOWN_EX, set_owner_ex)) == 13
    assert confined(lambda: fcntl.ioctl(channel, FIOSETOWN, struct.pack("i", parent))) == 13
    assert confined(lambda: fcntl.ioctl(channel, SIOCSPGRP, struct.pack("i", parent))) == 13
    assert confined(lambda: fcntl.fcntl(write_end, fcntl.F_SETFL, os.O_NONBLOCK)) == 0
    assert confined(lambda: fcntl.ioctl(channel, termios.FIONREAD, b"    ")) == 0
    for fd in (read_end, write_end):
        os.close(fd)
    channel.close()


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_lets_a_worker_limit_and_schedule_only_itself(tmp_path):
    # A worker shares its uid with other workers (nobody) or with the grader itself (no root):
    # the kernel would let it set their limits and priorities.
    parent = os.getpid()
    cpu = resource.getrlimit(resource.RLIMIT_CPU)
    assert confined(lambda: resource.prlimit(parent, resource.RLIMIT_CPU, cpu)) == 13
    assert confined(lambda: os.sched_setaffinity(parent, os.sched_getaffinity(0))) == 13
    assert confined(lambda: os.setpriority(os.PRIO_PROCESS, parent, 19)) == 13
    assert confined(lambda: os.pidfd_open(parent)) == 13
    assert confined(lambda: resource.setrlimit(resource.RLIMIT_CPU, cpu)) == 0
    assert confined(lambda: resource.prlimit(os.getpid(), resource.RLIMIT_CPU, cpu)) == 0
    assert confined(lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))) == 0


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_denies_changing_a_files_mode_owner_times_or_length(tmp_path):
    # Landlock does not govern these: a worker under the grader's own uid could open up the
    # hidden suites with chmod.
    mine = tmp_path / "file"
    mine.write_text("x")
    assert confined(lambda: os.chmod(mine, 0o777)) == 13
    assert confined(lambda: os.chown(mine, os.getuid(), os.getgid())) == 13
    assert confined(lambda: os.utime(mine, (0, 0))) == 13
    assert confined(lambda: os.setxattr(mine, "user.x", b"1")) == 13
    assert confined(lambda: os.truncate(mine, 0)) == 13
    assert mine.stat().st_mode & 0o777 != 0o777 and mine.stat().st_mtime > 0


@pytest.mark.skipif(not PROTECTIONS.seccomp, reason="no seccomp filter on this architecture")
def test_seccomp_keeps_a_worker_from_outliving_its_fork_server():
    def undo_death_with_parent():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(confine.PR_SET_PDEATHSIG, 0, 0, 0, 0) != 0:
            raise PermissionError(ctypes.get_errno(), "prctl")

    assert confined(undo_death_with_parent) == 13


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _grading_a_sleeper(tmp_path: Path) -> tuple[subprocess.Popen[str], list[int]]:
    """`autograder grade` in its own session, on a module that sleeps as it is imported, once
    its worker runs; and the worker's pids."""
    (tmp_path / "ex02_normalization.py").write_text("import time\n\ntime.sleep(120)\n")
    out = tmp_path / "report.json"
    command = ["grade", str(tmp_path), "--format", "json", "--out", str(out)]
    grader = subprocess.Popen(
        [sys.executable, "-m", "autograder", *command],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # a terminal's Ctrl-C reaches the grader's whole group
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while not workers and time.monotonic() < deadline and grader.poll() is None:
        time.sleep(0.1)
        workers = [w for server in _children(grader.pid) for w in _children(server)]
    assert workers, "no worker started"
    return grader, workers


def _all_gone(workers: list[int]) -> bool:
    deadline = time.monotonic() + 10
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not any(map(_alive, workers))


def test_no_worker_outlives_a_killed_grader(tmp_path):
    grader, workers = _grading_a_sleeper(tmp_path)
    grader.kill()
    grader.wait()
    assert _all_gone(workers), "a worker outlived the grader"


def test_ctrl_c_stops_grading_quietly(tmp_path):
    grader, workers = _grading_a_sleeper(tmp_path)
    os.killpg(grader.pid, signal.SIGINT)
    _, stderr = grader.communicate(timeout=30)
    assert grader.returncode == 130
    assert stderr.strip() == "autograder grade: interrupted"
    assert _all_gone(workers)


@pytest.mark.skipif(not PROTECTIONS.landlock_abi, reason="this kernel has no Landlock")
def test_landlock_allows_python_and_torch_but_not_the_grader(tmp_path):
    module = tmp_path / "mine.py"
    module.write_text("x = 1\n")

    def action():
        confine.set_no_new_privs()
        rules = confine.open_rules([module, tmp_path, *confine.shared_readable_paths()])
        ruleset = confine.landlock_ruleset(PROTECTIONS.landlock_abi, rules)
        confine.close_rules(rules)
        confine.restrict_self(ruleset)
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


@pytest.mark.skipif(not PROTECTIONS.landlock_abi, reason="this kernel has no Landlock")
def test_a_worker_without_its_landlock_ruleset_refuses_to_run(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("print('RAN')\n")
    spec = WorkerSpec(
        module="m",
        path=str(module),
        scratch=str(tmp_path),
        memory_limit_mb=512,
        cpu_limit_s=10,
        landlock_abi=PROTECTIONS.landlock_abi,
    )
    ours, theirs = socket.socketpair()
    output, output_end = os.pipe()
    server = os.getpid()
    pid = os.fork()
    if pid == 0:
        worker.run(spec, theirs.fileno(), output_end, None, server)  # what a failed build passes
    theirs.close()
    os.close(output_end)
    answer = wire.decode(wire.read_frame(ours.fileno(), 1 << 20, time.monotonic() + 30))
    assert answer["status"] == "sandbox_error" and "Landlock ruleset" in answer["message"]
    assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 71
    assert b"RAN" not in os.read(output, 1000)
    os.close(output)
    ours.close()


def test_readable_paths_never_include_the_grader_or_the_course():
    # A rule grants what lies beneath its path: none may hold, or lie in, the hidden material
    # (a virtual environment inside the project may be readable; the project itself may not).
    hidden = [ROOT / "solutions", ROOT / "autograder" / "suites", ROOT / "course.toml"]
    paths = confine.shared_readable_paths()
    assert not [(p, h) for p in paths for h in hidden if h.is_relative_to(p) or p.is_relative_to(h)]
    assert not any(p.name.startswith("autograder") for p in paths)


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
    huge_pages = re.search(r"huge pages for cheap worker forks +(yes|no)", result.stdout)
    assert huge_pages and huge_pages[1] == ("yes" if hugepages.available() else "no")
    libraries = re.search(r"Python's libraries readable by nobody +(yes|no)", result.stdout)
    assert bool(libraries) == PROTECTIONS.uid_drop
    if libraries:
        paths = [Path(sysconfig.get_path(name)) for name in ("stdlib", "purelib")]
        readable = not any(map(not_searchable_by_others, paths))
        assert libraries[1] == ("yes" if readable else "no")


def test_the_folder_that_keeps_other_users_out_is_named():
    if not_searchable_by_others(Path(tempfile.gettempdir())):
        pytest.skip("the temporary folder itself is out of other users' reach")
    with tempfile.TemporaryDirectory() as name:
        root = Path(name)
        (root / "a" / "b").mkdir(parents=True)
        root.chmod(0o755)
        (root / "a").chmod(0o700)
        assert not_searchable_by_others(root / "a" / "b") == root / "a"
        (root / "a").chmod(0o711)
        assert not_searchable_by_others(root / "a" / "b") is None


def _program_outcome(program: str, *args: str, env: dict[str, str] | None = None) -> Any:
    """What a Python `program` run in a fresh process (from the project) printed last, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


# A grading process of a batch, in miniature: it forks its fork server, then loads something
# hidden (here a stand-in for a reference solution), then has a worker look for it.
FORKED_SERVER_PROGRAM = """
import json, sys, tempfile, threading, types
from pathlib import Path
from autograder.sandbox import wire
from autograder.sandbox.pool import ForkServer, SandboxError
from autograder.sandbox.spec import WorkerSpec

other = threading.Thread(target=threading.Event().wait, args=(5,), daemon=True)
other.start()
try:
    ForkServer(fork_this_process=True)
    refused = ""
except SandboxError as error:
    refused = str(error)
other.join()

server = ForkServer(fork_this_process=True)
sys.modules["_reference_stand_in"] = types.ModuleType("_reference_stand_in")
probe = Path(sys.argv[1])
spec = WorkerSpec(module=probe.stem, path=str(probe), scratch=tempfile.mkdtemp(),
                  memory_limit_mb=256, cpu_limit_s=10)
worker = server.spawn(spec)
confined = wire.decode(worker.receive(4096, None))
ready = wire.decode(worker.receive(4096, None))
worker.stop()
server.close()
print(json.dumps({"refused": refused, "confined": confined, "ready": ready,
                  "output": worker.output}))
"""


def test_a_fork_server_forked_from_its_grader_holds_nothing_loaded_after_the_fork(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\nprint('torch' in sys.modules, '_reference_stand_in' in sys.modules)\n"
    )
    outcome = _program_outcome(FORKED_SERVER_PROGRAM, str(probe))
    assert outcome["refused"] == "cannot fork the fork server: this process runs other threads"
    assert outcome["confined"] == {"status": "confined"}
    assert outcome["ready"] == {"status": "ready", "cell_errors": []}
    # torch came from the grading process, imported once before the fork; the stand-in, loaded
    # after it, is out of the worker's reach.
    assert outcome["output"].split() == ["True", "False"]


SHARED_MEMORY_PROGRAM = """
import json, multiprocessing
from autograder.sandbox.pool import ForkServer
lock = multiprocessing.Lock()  # a POSIX semaphore in shared memory, as a process pool holds
server = ForkServer(fork_this_process=True)
server._wait_until_ready()
with open(f"/proc/{server.pid}/maps") as maps:
    regions = [line.split()[1] for line in maps]
server.close()
print(json.dumps(regions))
"""


def test_a_fork_server_forked_from_its_grader_shares_no_writable_memory_with_it():
    # A grading process of grade-all's pool holds the pool's semaphores in shared memory: a
    # worker that inherited them could take the results' lock and die holding it
    # (tests/adversarial/attacks/pool_locks.py).
    regions = _program_outcome(SHARED_MEMORY_PROGRAM)
    assert regions and not [r for r in regions if r[1] == "w" and r[3] == "s"]


ENVIRONMENT_PROGRAM = """
import ctypes, json, os, posix
from pathlib import Path
from autograder.sandbox.confine import erase_environment
from autograder.sandbox.pool import ForkServer

server = ForkServer(fork_this_process=True)
server._wait_until_ready()
servers = Path(f"/proc/{server.pid}/environ").read_bytes()
server.close()
fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
start, end = int(fields[47]), int(fields[48])
copies = list(posix.environ.values())
erase_environment()
print(json.dumps({
    "server": "hunter2" in servers.decode(errors="replace"),
    "stack": b"hunter2" in ctypes.string_at(start, end - start),
    "copies": [v.decode(errors="replace") for v in copies if b"hunter2" in v],
    "environ": dict(os.environ),
}))
"""


def test_a_fork_server_forked_from_its_grader_keeps_nothing_of_its_environment():
    # grade-all's grading processes start with the batch's environment (a CI token, say); the
    # strings outlive os.environ.clear() on the stack and in Python's bytes objects.
    outcome = _program_outcome(
        ENVIRONMENT_PROGRAM, env={**os.environ, "AGX_TOKEN": "hunter2-token"}
    )
    assert outcome == {"server": False, "stack": False, "copies": [], "environ": {}}


def test_the_fork_server_and_its_workers_are_the_first_to_go_when_memory_runs_out():
    with ForkServer() as server:
        server._wait_until_ready()
        assert Path(f"/proc/{server.pid}/oom_score_adj").read_text().strip() == "1000"
    assert Path("/proc/self/oom_score_adj").read_text().strip() != "1000"  # the grader's own


def test_huge_pages_are_asked_for_the_aligned_parts_of_private_anonymous_mappings():
    maps = (
        "55d0c0000000-55d0c0600000 rw-p 00000000 00:00 0                          [heap]\n"
        "7f0000100000-7f0000700000 rw-p 00000000 00:00 0 \n"
        "7f0000800000-7f0000900000 rw-p 00000000 00:00 0\n"  # under one huge page
        "7f0001000000-7f0001400000 rw-p 00001000 fe:00 123    /usr/lib/libx.so\n"
        "7f0002000000-7f0002400000 r--p 00000000 00:00 0\n"
        "7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0                          [stack]\n"
    )
    assert hugepages.anonymous_ranges(maps) == [
        (0x55D0C0000000, 0x55D0C0600000),
        (0x7F0000200000, 0x7F0000600000),
    ]


@pytest.mark.skipif(not hugepages.available(), reason="no MADV_COLLAPSE on this kernel")
def test_the_fork_server_memory_can_be_backed_by_huge_pages():
    def action():
        memory = bytearray(b"x" * (64 << 20))  # private anonymous memory, as torch's is
        assert hugepages.collapse_into_huge_pages() >= 32 << 20
        rollup = Path("/proc/self/smaps_rollup").read_text()
        huge_kb = int(re.search(r"AnonHugePages:\s+(\d+) kB", rollup)[1])
        if huge_kb < 32 << 10 or memory.count(b"x") != len(memory):
            os._exit(3)

    assert in_child(action) == 0


def test_each_protection_an_old_kernel_lacks_is_named():
    def gaps(abi: int) -> list[str]:
        return [g.split(":")[0] for g in confine.Protections(abi, True, True).missing]

    assert gaps(0) == ["Landlock is unavailable"]
    assert gaps(3) == ["Landlock ABI 3 < 4", "Landlock ABI 3 < 6"]
    assert gaps(5) == ["Landlock ABI 5 < 6"]
    assert gaps(7) == []

"""Build the adversarial batch, run it in a child process, and see what it left behind.

Layout of one run, in a fresh folder ADV (`make_batch_dir`):

    ADV/project/       a throwaway copy of the project (autograder/, solutions/, exercises/,
                       course.toml) and run_batch.py: the batch imports `autograder` from here,
                       so an attack that rewrites "the course" rewrites only this copy
    ADV/submissions/   one folder per student: every attack (`a-`, `k-`, `y-` + its name, see
                       `Case.order`), two honest students (the reference) and one stub student
    ADV/reports/, ADV/results.db   what grade_all writes
    ADV/tmp/           TMPDIR of the batch: the grader's workspaces, which must all be gone after
    ADV/summary.json, ADV/runner.log   what run_batch.py reports

Nothing here kills or deletes anything it did not identify as the batch's own: processes by pid
(those started after the snapshot whose working directory or command line is under ADV, or
whose name is `agx-...`), files by name (new `agx-...` entries in the shared temp folders), SysV
shared memory segments by creator (created during the batch by a process started during it).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import py_compile
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.adversarial.cases import CASES, Case

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HONEST = ("z-honest-1", "z-honest-2")
STUB = "z-stub"
SHARED_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
RUNNER_TIMEOUT_S = 300
PLACEHOLDER = re.compile(r"^(?P<name>[A-Z_]+) = .*  # filled in by the test$", re.MULTILINE)
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")


# --- kernel features the sandbox needs ---------------------------------------------------


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 without Landlock (landlock_create_ruleset probe)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    version = libc.syscall(444, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def kernel_features() -> set[str]:
    features = set()
    abi = landlock_abi()
    if abi >= 1:
        features.add("landlock")
    if abi >= 4:
        features.add("landlock4")  # TCP bind and connect
    if abi >= 6:
        features.add("landlock6")  # scoping of signals and abstract unix sockets
    if Path("/proc/sys/kernel/seccomp/actions_avail").is_file():
        features.add("seccomp")
    return features


FEATURE_NAMES = {
    "landlock": "Landlock (CONFIG_SECURITY_LANDLOCK, enabled in lsm=)",
    "landlock4": "Landlock ABI 4 (TCP rules, Linux 6.7)",
    "landlock6": "Landlock ABI 6 (signal and abstract unix socket scoping, Linux 6.12)",
    "seccomp": "seccomp filters (CONFIG_SECCOMP_FILTER)",
}


# --- listeners the network attacks aim at -------------------------------------------------


@dataclass
class Listeners:
    """A TCP listener, a UDP socket and an abstract unix listener, all non-blocking."""

    tcp: socket.socket = field(init=False)
    udp: socket.socket = field(init=False)
    unix: socket.socket = field(init=False)
    abstract: str = field(init=False)

    def __post_init__(self) -> None:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(256)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.abstract = f"agx-listener-{uuid.uuid4().hex}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind("\0" + self.abstract)
        self.unix.listen(256)
        for s in (self.tcp, self.udp, self.unix):
            s.setblocking(False)

    @property
    def values(self) -> dict[str, object]:
        return {
            "PORT": self.tcp.getsockname()[1],
            "UDP_PORT": self.udp.getsockname()[1],
            "ABSTRACT": self.abstract,
        }

    def received(self) -> dict[str, list[bytes]]:
        """What reached each listener: one entry per connection or datagram."""
        got: dict[str, list[bytes]] = {"tcp": [], "udp": [], "abstract unix": []}
        for name, listener in (("tcp", self.tcp), ("abstract unix", self.unix)):
            while True:
                try:
                    connection, _ = listener.accept()
                except BlockingIOError:
                    break
                connection.settimeout(0.2)
                try:
                    got[name].append(connection.recv(200))
                except OSError:
                    got[name].append(b"")
                connection.close()
        while True:
            try:
                got["udp"].append(self.udp.recv(200))
            except BlockingIOError:
                break
        return got

    def close(self) -> None:
        for s in (self.tcp, self.udp, self.unix):
            s.close()


# --- building the batch -------------------------------------------------------------------


def make_batch_dir() -> Path:
    """A fresh folder in the system temp dir that a worker's dropped uid (`nobody`) can cross:
    the grader's workspaces go inside it, and pytest's own temp folders are private (0700).
    Its name is not `ours`, so that a run never takes another run's folder for an attack's."""
    adv = Path(tempfile.mkdtemp(prefix="adversarial-batch-"))
    adv.chmod(0o711)
    return adv


def fill_placeholders(source: str, values: dict[str, object]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in values:
            raise KeyError(f"no value for the placeholder {name}")
        return f"{name} = {values[name]!r}  # filled in by the test"

    return PLACEHOLDER.sub(replace, source)


def build_submission(case: Case, folder: Path, values: dict[str, object]) -> None:
    """The reference solutions, with the case's module (and extra files) in place."""
    from autograder.course.config import load_course

    shutil.copytree(ROOT / "solutions", folder, ignore=SKIPPED)
    filename = load_course(ROOT / "course.toml").exercise(case.exercise).filename
    values = {**values, "ME": case.student}
    source = case.source
    if source.is_file():
        (folder / filename).write_text(fill_placeholders(source.read_text(), values))
        return
    (folder / filename).write_text(fill_placeholders((source / filename).read_text(), values))
    for extra in sorted(source.glob("*.in")):
        name = extra.name.removesuffix(".in")
        if name.endswith(".pyc.py"):
            module = name.removesuffix(".pyc.py")
            target = folder / "__pycache__" / f"{module}.{sys.implementation.cache_tag}.pyc"
            target.parent.mkdir(exist_ok=True)
            py_compile.compile(
                str(extra),
                cfile=str(target),
                dfile=f"{module}.py",
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                doraise=True,
            )
        else:
            (folder / name).write_text(fill_placeholders(extra.read_text(), values))


def build(adv: Path, values: dict[str, object]) -> list[str]:
    """The project copy and every submission under `adv`; returns the students, in order."""
    project = adv / "project"
    for part in ("autograder", "solutions", "exercises"):
        shutil.copytree(ROOT / part, project / part, ignore=SKIPPED)
    shutil.copy(ROOT / "course.toml", project / "course.toml")
    shutil.copy(HERE / "run_batch.py", project / "run_batch.py")
    submissions = adv / "submissions"
    for case in CASES:
        build_submission(case, submissions / case.student, values)
    for name in HONEST:
        shutil.copytree(ROOT / "solutions", submissions / name, ignore=SKIPPED)
    (submissions / STUB).mkdir()
    for module in sorted((ROOT / "exercises").glob("ex*.py")):
        shutil.copy(module, submissions / STUB / module.name)
    (adv / "tmp").mkdir()
    (adv / "reports").mkdir()
    return sorted(p.name for p in submissions.iterdir())


# --- the state of the machine -------------------------------------------------------------


def tree_hashes(folder: Path) -> dict[str, str]:
    """sha256 of every file under `folder` (bytecode caches aside: the grader writes those)."""
    hashes = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.relative_to(folder).parts:
            hashes[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


def changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    def how(name: str) -> str:
        return "added" if name not in before else "removed" if name not in after else "changed"

    names = before.keys() | after.keys()
    return sorted(f"{n}: {how(n)}" for n in names if before.get(n) != after.get(n))


def shared_temp_entries() -> set[str]:
    entries = set()
    for folder in SHARED_TEMP_DIRS:
        with contextlib.suppress(OSError):
            entries |= {os.path.join(folder, name) for name in os.listdir(folder)}
    return entries


def ours(path: str) -> bool:
    """Named by an attack. (The grader's own workspaces go to the batch's TMPDIR, not here:
    an `autograder-*` entry in a shared folder is someone else's grader at work.)"""
    return os.path.basename(path).startswith(("agx-", "agx_"))


def git_status() -> set[str]:
    result = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(result.stdout.splitlines())


def attributable(lines: list[str], marks: list[str]) -> list[str]:
    """The `git status` lines the batch could have caused: the path or the file's text carries
    one of `marks` (`agx`, a student's name). Other people edit the repository meanwhile."""
    found = []
    for line in lines:
        path = ROOT / line[3:].split(" -> ")[-1].strip('"')
        try:
            text = path.read_text(errors="replace") if path.is_file() else ""
        except OSError:
            text = ""
        if any(mark in line or mark in text for mark in marks):
            found.append(line)
    return found


def _proc(pid: int, name: str) -> str:
    try:
        if name in ("cwd", "exe"):
            return os.readlink(f"/proc/{pid}/{name}")
        data = Path(f"/proc/{pid}/{name}").read_bytes()
        return data.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def process_ids() -> set[int]:
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


def batch_processes(adv: Path, before: set[int], settle_s: float = 0.0) -> list[dict]:
    """Live processes started since `before` that belong to the batch (see the module doc),
    after waiting up to `settle_s` for them to go (the batch's multiprocessing helper, the
    resource tracker, exits a moment after the batch process)."""
    deadline = time.monotonic() + settle_s
    while (found := _batch_processes(adv, before)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def _batch_processes(adv: Path, before: set[int]) -> list[dict]:
    found = []
    for pid in sorted(process_ids() - before):
        cwd, cmdline, comm = _proc(pid, "cwd"), _proc(pid, "cmdline"), _proc(pid, "comm")
        state = _proc(pid, "stat").rsplit(")", 1)[-1].split()[:1]
        if state == ["Z"] or pid == os.getpid():
            continue
        if str(adv) in cwd or str(adv) in cmdline or comm.startswith("agx"):
            found.append({"pid": pid, "comm": comm, "cwd": cwd, "cmdline": cmdline[:200]})
    return found


def kill(processes: list[dict]) -> None:
    for process in processes:
        with contextlib.suppress(OSError):
            os.kill(process["pid"], signal.SIGKILL)


def socket_inodes(pids: list[int]) -> set[str]:
    inodes = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:["):
                    inodes.add(link[8:-1])
        except OSError:
            pass
    return inodes


def sockets() -> set[tuple[str, str, str, str, str]]:
    """(protocol, local, remote, state, inode) of every TCP and UDP socket, from /proc/net."""
    found = set()
    for protocol in ("tcp", "tcp6", "udp", "udp6"):
        try:
            lines = Path(f"/proc/net/{protocol}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            found.add((protocol, fields[1], fields[2], fields[3], fields[9]))
    return found


def sysv_segments() -> dict[int, dict[str, int]]:
    """SysV shared memory segments: shmid -> size and creator pid (/proc/sysvipc/shm)."""
    try:
        lines = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    except OSError:
        return {}
    return {
        int(f[1]): {"key": int(f[0]), "size": int(f[3]), "cpid": int(f[4])}
        for f in map(str.split, lines)
    }


def remove_segments(shmids: list[int]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    for shmid in shmids:
        libc.shmctl(shmid, 0, None)  # IPC_RMID


def port_of(address: str) -> int:
    return int(address.rsplit(":", 1)[1], 16)


# --- running it ---------------------------------------------------------------------------


@dataclass
class RunnerResult:
    returncode: int | None  # None: killed at the timeout
    summary: dict | None
    log: str
    duration_s: float


def run_batch(adv: Path) -> RunnerResult:
    """run_batch.py in a child process (its own session), from the project copy."""
    command = [sys.executable, str(adv / "project" / "run_batch.py")]
    for option, path in (
        ("--root", "submissions"),
        ("--db", "results.db"),
        ("--reports", "reports"),
        ("--out", "summary.json"),
    ):
        command += [option, str(adv / path)]
    if os.environ.get("ADVERSARIAL_UNPROTECTED"):
        command.append("--unprotected")  # a check of the corpus itself: most cases must fail
    environment = {**os.environ, "TMPDIR": str(adv / "tmp")}
    environment.pop("PYTHONPATH", None)
    started = time.monotonic()
    with open(adv / "runner.log", "wb") as log:
        process = subprocess.Popen(
            command,
            cwd=adv,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode: int | None = process.wait(timeout=RUNNER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = None
    try:
        summary = json.loads((adv / "summary.json").read_text())
    except (OSError, ValueError):
        summary = None
    log_text = (adv / "runner.log").read_text(errors="replace")
    return RunnerResult(returncode, summary, log_text, time.monotonic() - started)


# --- what the batch stored ----------------------------------------------------------------


@dataclass
class Stored:
    """The database as the test reads it (read-only), and every report file."""

    rows: dict[str, dict]  # student -> the row of its latest content
    objects: list[tuple[str, str, str]]  # (type, name, sql) of sqlite_master
    files: dict[str, str]  # report file name -> text


def read_stored(adv: Path) -> Stored:
    rows, objects = {}, []
    uri = f"file:{adv / 'results.db'}?mode=ro"
    try:
        with sqlite3.connect(uri, uri=True) as db:
            objects = list(db.execute("SELECT type, name, COALESCE(sql, '') FROM sqlite_master"))
            for student, score, max_score, report_json in db.execute(
                "SELECT r.student, r.score, r.max_score, r.report_json FROM results r "
                "JOIN latest l ON l.student = r.student AND l.assignment = r.assignment "
                "AND l.content_hash = r.content_hash"
            ):
                rows[student] = {"score": score, "max_score": max_score, "report": report_json}
    except sqlite3.Error as error:
        objects = [("error", str(error), "")]
    files = {}
    for path in sorted((adv / "reports").iterdir()) if (adv / "reports").is_dir() else ():
        try:
            files[path.name] = path.read_text(errors="replace")
        except OSError as error:
            files[path.name] = f"<unreadable: {error}>"
    return Stored(rows, objects, files)

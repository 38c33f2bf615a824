"""Kernel confinement for workers: Landlock, seccomp, and a probe of what the kernel offers.

Both are applied by the worker to itself after `PR_SET_NO_NEW_PRIVS`, before any student code:

- Landlock (an allow-list): read-only access to what Python and torch need, the worker's own
  module file and its empty scratch directory; no writes anywhere (no exercise writes files,
  so filling the disk is ruled out rather than rationed); no TCP bind or connect
  (ABI >= 4); no signals to, or abstract unix sockets of, processes outside the sandbox
  (ABI >= 6). Anything not listed, the reference solutions and the hidden suites included, is
  out of reach. The fork server builds each worker's own ruleset before forking it, from the
  shared paths it holds open (`open_rules` once, `landlock_ruleset` per worker); the worker
  enforces it (`restrict_self`).
- seccomp (a deny-list, second layer): no sockets of any family (a worker's channel already
  exists, and Landlock does not govern connecting to a unix socket's path), no new processes
  (threads excepted, which RLIMIT_NPROC stops), no execve, ptrace, process_vm_*, io_uring
  (which bypasses seccomp), memfd or SysV/POSIX IPC (memory no limit sees), namespaces,
  mounts, bpf or keyrings; limits and scheduling of the worker itself only (workers share a
  uid); no signal to another process, directly or as an fd's I/O signal (F_SETOWN); no change
  to a file's mode, owner, times or extended attributes, nor truncate, which Landlock does not
  govern everywhere; no undoing `die_with_parent`.

Written with ctypes against the kernel's stable ABI, so it needs no extra package.
"""

from __future__ import annotations

import ctypes
import functools
import os
import platform
import signal
import stat
import struct
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

# Landlock (include/uapi/linux/landlock.h); the syscall numbers are the same on every arch.
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_READ_FILE, _FS_READ_DIR = 1 << 2, 1 << 3
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ_ONLY = _FS_READ_FILE | _FS_READ_DIR
STRICT_WITHOUT_LANDLOCK = (
    "--strict: this kernel offers no Landlock, so workers could read the hidden suites and "
    "reference solutions; run `autograder doctor` for details"
)

# prctl and seccomp (include/uapi/linux/prctl.h, seccomp.h, filter.h, audit.h).
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_RET_ALLOW, _RET_KILL_PROCESS, _RET_ERRNO = 0x7FFF0000, 0x80000000, 0x00050000
_LD_W_ABS, _JEQ_K, _JSET_K, _JGE_K, _RET_K = 0x20, 0x15, 0x45, 0x35, 0x06
_AUDIT_ARCH_X86_64 = 0xC000003E
_X32_SYSCALL_BIT = 0x40000000
_CLONE_THREAD = 0x00010000
# x86_64 syscall numbers denied outright, with the errno the caller sees.
_DENIED_X86_64 = {
    57: "EPERM", 58: "EPERM",  # fork, vfork
    59: "EPERM", 322: "EPERM",  # execve, execveat
    101: "EPERM", 310: "EPERM", 311: "EPERM",  # ptrace, process_vm_readv/writev
    425: "EPERM", 426: "EPERM", 427: "EPERM",  # io_uring_setup/enter/register
    435: "ENOSYS",  # clone3: its flags sit in memory seccomp cannot read; libc falls back to clone
    272: "EPERM", 308: "EPERM", 165: "EPERM", 166: "EPERM",  # unshare, setns, mount, umount2
    41: "EPERM", 53: "EPERM",  # socket, socketpair
    321: "EPERM", 298: "EPERM", 323: "EPERM",  # bpf, perf_event_open, userfaultfd
    248: "EPERM", 249: "EPERM", 250: "EPERM",  # add_key, request_key, keyctl
    246: "EPERM", 320: "EPERM", 169: "EPERM",  # kexec_load, kexec_file_load, reboot
    424: "EPERM", 129: "EPERM", 297: "EPERM",  # pidfd_send_signal, rt_(tg)sigqueueinfo
    # Memory no rlimit or RSS watch sees: memfd files never mapped, SysV and POSIX IPC
    # objects (which also outlive the worker).
    319: "EPERM",  # memfd_create
    29: "EPERM", 30: "EPERM", 31: "EPERM",  # shmget, shmat, shmctl
    64: "EPERM", 65: "EPERM", 66: "EPERM", 220: "EPERM",  # semget, semop, semctl, semtimedop
    68: "EPERM", 69: "EPERM", 70: "EPERM", 71: "EPERM",  # msgget, msgsnd, msgrcv, msgctl
    240: "EPERM", 241: "EPERM", 242: "EPERM", 243: "EPERM", 244: "EPERM", 245: "EPERM",  # mq_*
    # Reaching into other processes. A grader that is not root runs its workers under its own
    # uid, and a root grader runs every worker as nobody: the kernel lets a process change the
    # priority, I/O priority or pages of any other of its uid.
    141: "EPERM", 251: "EPERM",  # setpriority, ioprio_set
    434: "EPERM", 438: "EPERM", 312: "EPERM",  # pidfd_open, pidfd_getfd, kcmp
    440: "EPERM", 448: "EPERM",  # process_madvise, process_mrelease
    256: "EPERM", 279: "EPERM",  # migrate_pages, move_pages
    # A file's mode, owner, times and extended attributes, which Landlock does not govern:
    # without these, a worker under the grader's own uid could open up the hidden suites.
    90: "EPERM", 91: "EPERM", 268: "EPERM", 452: "EPERM",  # chmod, fchmod, fchmodat, fchmodat2
    92: "EPERM", 93: "EPERM", 94: "EPERM", 260: "EPERM",  # chown, fchown, lchown, fchownat
    132: "EPERM", 235: "EPERM", 280: "EPERM", 261: "EPERM",  # utime, utimes, utimensat, futimesat
    76: "EPERM",  # truncate, which Landlock governs only from ABI 3
    188: "EPERM", 189: "EPERM", 190: "EPERM", 463: "EPERM",  # (l,f)setxattr, setxattrat
    197: "EPERM", 198: "EPERM", 199: "EPERM", 466: "EPERM",  # (l,f)removexattr, removexattrat
}  # fmt: skip
_CLONE, _KILL, _TKILL, _TGKILL, _PRCTL = 56, 62, 200, 234, 157
_FCNTL, _IOCTL = 72, 16
_SET_OWNER_FCNTL = (8, 15)  # F_SETOWN, F_SETOWN_EX
_SET_OWNER_IOCTL = (0x8901, 0x8902)  # FIOSETOWN, SIOCSPGRP
# Syscalls whose first argument is a pid, allowed only on the worker itself (0 or its pid): the
# kernel lets a process set the limits and scheduling of any other of its uid.
_ON_ITSELF_ONLY = (302, 142, 144, 203, 314)  # prlimit64, sched_setparam, sched_setscheduler,
# sched_setaffinity, sched_setattr


class ConfinementError(OSError):
    """The kernel refused a confinement step that the probe said it supports."""


def _check(result: int, what: str) -> int:
    if result < 0:
        error = ctypes.get_errno()
        raise ConfinementError(error, f"{what}: {os.strerror(error)}")
    return result


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def set_no_new_privs() -> None:
    """PR_SET_NO_NEW_PRIVS: no exec can grant privileges; a prerequisite of seccomp."""
    _prctl(PR_SET_NO_NEW_PRIVS, 1)


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when `parent` (the fork server) exits, so that no worker outlives a
    grader that was killed; the seccomp filter keeps student code from undoing it. Call it after
    any change of uid, which clears it."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        raise ConfinementError(0, "the fork server exited before the worker started")


def set_dumpable(dumpable: bool) -> None:
    """PR_SET_DUMPABLE: a non-dumpable process cannot be ptraced or read through /proc."""
    _prctl(PR_SET_DUMPABLE, int(dumpable))


def unmap_shared_writable_memory() -> None:
    """Unmap every writable shared mapping this process holds. A fork server forked from a
    grading process of a pool would otherwise keep the pool's semaphores (POSIX, in shared
    memory) mapped, and so would every worker: one could take the lock a batch's results go
    through and die holding it, which hangs the whole batch."""
    with open("/proc/self/maps", encoding="ascii") as maps:
        regions = [line.split(maxsplit=2)[:2] for line in maps]
    for span, permissions in regions:
        if permissions[1] == "w" and permissions[3] == "s":
            start, end = (int(address, 16) for address in span.split("-"))
            _check(_libc.munmap(ctypes.c_void_p(start), ctypes.c_size_t(end - start)), "munmap")


_BYTES_HEADER = sys.getsizeof(b"") - 1  # where a bytes object's data starts


def erase_environment() -> None:
    """Empty the environment, overwriting with zeros both copies of it that would outlive
    `os.environ.clear()`: the block the kernel put on the stack at exec, and the bytes objects
    Python made of it. A fork server forked from a grading process of a pool would otherwise
    hand every worker the environment the batch was started with (a CI token, say)."""
    import posix

    fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
    env_start, env_end = int(fields[47]), int(fields[48])  # proc(5): fields 50 and 51
    # Shorter ones are interpreter-wide singletons (b"", b"1"), and hold no secret.
    held = [text for item in posix.environ.items() for text in item if len(text) > 1]
    os.environ.clear()
    ctypes.memset(env_start, 0, env_end - env_start)
    for text in held:
        ctypes.memset(id(text) + _BYTES_HEADER, 0, len(text))


def landlock_abi() -> int:
    """The Landlock ABI version the kernel offers, 0 when it has none (or it is disabled)."""
    version = _libc.syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def seccomp_available() -> bool:
    """Whether this worker can install the seccomp filter (x86_64 only, for now)."""
    return platform.machine() == "x86_64" and Path("/proc/sys/kernel/seccomp").exists()


@dataclass(frozen=True)
class Protections:
    """What the kernel and the grader's privileges allow: printed by `autograder doctor`."""

    landlock_abi: int
    seccomp: bool
    uid_drop: bool

    @property
    def missing(self) -> list[str]:
        """Each protection this machine lacks, in words for a report's warnings."""
        gaps = []
        abi = self.landlock_abi
        if not abi:
            gaps.append("Landlock is unavailable: workers can read any file this user can")
        if 0 < abi < 4:
            gaps.append(f"Landlock ABI {abi} < 4: TCP is not blocked by Landlock")
        if 0 < abi < 6:
            gaps.append(f"Landlock ABI {abi} < 6: signals are not scoped")
        if not self.seccomp:
            gaps.append("seccomp filter unavailable: sockets and new processes are not blocked")
        return gaps


def probe() -> Protections:
    """What confinement this machine can apply to workers."""
    return Protections(landlock_abi(), seccomp_available(), os.geteuid() == 0)


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _fs_rights(abi: int) -> int:
    return _FS_ALL_BY_ABI[max(v for v in _FS_ALL_BY_ABI if v <= abi)]


PathRule = tuple[int, int]  # an O_PATH fd, and the rights granted beneath its path


def open_rules(paths: Iterable[Path]) -> list[PathRule]:
    """An O_PATH fd for each path that exists and is in reach, with its rights (read a file;
    read and list a folder); the caller closes the fds."""
    rules: list[PathRule] = []
    try:
        for path in paths:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except (FileNotFoundError, PermissionError):
                continue  # absent, or out of this user's reach anyway
            rules.append((fd, READ_ONLY if stat.S_ISDIR(os.fstat(fd).st_mode) else _FS_READ_FILE))
    except BaseException:  # out of fds, say: leave none open
        close_rules(rules)
        raise
    return rules


def close_rules(rules: Iterable[PathRule]) -> None:
    for fd, _ in rules:
        os.close(fd)


def landlock_ruleset(abi: int, rules: Iterable[PathRule]) -> int:
    """A Landlock ruleset (an fd) that allows reading beneath the rules' paths; nothing else,
    no TCP, no signals or abstract sockets outside the domain."""
    attr = _RulesetAttr(handled_access_fs=_fs_rights(abi))
    size = 8
    if abi >= 4:
        attr.handled_access_net, size = _NET_BIND_TCP | _NET_CONNECT_TCP, 16
    if abi >= 6:
        attr.scoped, size = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL, 24
    ruleset = _check(
        _libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), 0),
        "landlock_create_ruleset",
    )
    try:
        for fd, rights in rules:
            rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
            _check(
                _libc.syscall(_SYS_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.byref(rule), 0),
                f"landlock_add_rule(fd {fd})",
            )
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


def restrict_self(ruleset: int) -> None:
    """Enforce `ruleset` on this process and its future children, for good."""
    _check(_libc.syscall(_SYS_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")


def _instruction(code: int, k: int, jt: int = 0, jf: int = 0) -> bytes:
    return struct.pack("<HBBI", code, jt, jf, k)


def _errno(name: str) -> int:
    return _RET_ERRNO | getattr(__import__("errno"), name)


def _argument(
    number: int, values: tuple[int, ...], *, allowed: bool, argument: int = 0
) -> list[bytes]:
    """If the syscall is `number`: when args[argument]'s low word is in `values`, allow it
    (`allowed`) or deny it (not `allowed`); otherwise the opposite."""
    match, other = (_RET_ALLOW, _errno("EPERM")) if allowed else (_errno("EPERM"), _RET_ALLOW)
    offset = 16 + 8 * argument  # seccomp_data.args[argument], low 32 bits (little-endian)
    block = [_instruction(_JEQ_K, number, 0, len(values) + 3), _instruction(_LD_W_ABS, offset)]
    for index, value in enumerate(values):
        block.append(_instruction(_JEQ_K, value, len(values) - index, 0))
    block += [_instruction(_RET_K, other), _instruction(_RET_K, match)]
    return [*block, _instruction(_LD_W_ABS, 0)]  # skipped past: reload nr


def _only_to(number: int, values: tuple[int, ...]) -> list[bytes]:
    return _argument(number, values, allowed=True)


def seccomp_program(pid: int) -> bytes:
    """The BPF filter: the deny-list above, clone only for threads, signals only to the worker
    itself (`pid`, its process group, or 0) and no fd's I/O signal to another process, so that
    without Landlock's signal scoping (ABI < 6) it still cannot stop the grader or the fork
    server, and limits and scheduling only of itself."""
    program = [
        _instruction(_LD_W_ABS, 4),  # seccomp_data.arch
        _instruction(_JEQ_K, _AUDIT_ARCH_X86_64, 1, 0),
        _instruction(_RET_K, _RET_KILL_PROCESS),
        _instruction(_LD_W_ABS, 0),  # seccomp_data.nr
        _instruction(_JGE_K, _X32_SYSCALL_BIT, 0, 1),
        _instruction(_RET_K, _errno("ENOSYS")),
    ]
    for number, error in _DENIED_X86_64.items():
        program += [_instruction(_JEQ_K, number, 0, 1), _instruction(_RET_K, _errno(error))]
    own = (pid, 0, (-pid) & 0xFFFFFFFF)
    program += _only_to(_KILL, own) + _only_to(_TGKILL, (pid,)) + _only_to(_TKILL, (pid,))
    for number in _ON_ITSELF_ONLY:
        program += _only_to(number, (0, pid))
    program += _argument(_PRCTL, (PR_SET_PDEATHSIG,), allowed=False)  # see die_with_parent
    # fcntl(F_SETOWN) or a socket's FIOSETOWN makes the kernel send an fd's I/O signal
    # (F_SETSIG: any, SIGKILL too) to a process of the worker's choosing, checked against its
    # uid alone: the grader's own when it is not root.
    program += _argument(_FCNTL, _SET_OWNER_FCNTL, allowed=False, argument=1)
    program += _argument(_IOCTL, _SET_OWNER_IOCTL, allowed=False, argument=1)
    program += [
        _instruction(_JEQ_K, _CLONE, 0, 4),  # clone: allowed only with CLONE_THREAD in its flags
        _instruction(_LD_W_ABS, 16),  # seccomp_data.args[0], low 32 bits
        _instruction(_JSET_K, _CLONE_THREAD, 0, 1),
        _instruction(_RET_K, _RET_ALLOW),
        _instruction(_RET_K, _errno("EPERM")),
        _instruction(_RET_K, _RET_ALLOW),
    ]
    return b"".join(program)


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def apply_seccomp() -> None:
    """Install the filter (no_new_privs must already be set)."""
    code = seccomp_program(os.getpid())
    buffer = ctypes.create_string_buffer(code, len(code))
    program = _SockFprog(len(code) // 8, ctypes.addressof(buffer))
    _check(
        _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0),
        "prctl(PR_SET_SECCOMP)",
    )


_GRADER_FILES = ("autograder", "attention_course", "__editable__")


@functools.cache
def shared_readable_paths() -> tuple[Path, ...]:
    """What every worker may read besides its module and scratch folder: Python's standard
    library, every installed package but this grader (whose hidden suites it holds), and the
    system's shared libraries. The fork server, running as the grader's user (a dropped uid
    may not be able to list site-packages), opens them once and builds each worker's
    ruleset."""
    multiarch = f"{platform.machine()}-linux-gnu"
    paths = [Path("/dev/null"), Path("/dev/urandom")]
    paths += [Path("/usr/lib") / multiarch, Path("/lib") / multiarch, Path("/lib64")]
    for entry in map(Path, sys.path):
        if entry.name in ("site-packages", "dist-packages") and entry.is_dir():
            try:
                items = list(entry.iterdir())
            except PermissionError:
                continue  # out of this user's reach anyway
            paths += [item for item in items if not item.name.startswith(_GRADER_FILES)]
        elif entry.name.startswith("python3") or entry.name == "lib-dynload":
            paths.append(entry)
    return tuple(paths)


def python_out_of_workers_reach() -> Path | None:
    """The folder that keeps a worker dropped to another user out of Python's standard library
    or installed packages (Python under /root, say), or None if it can reach both. Such a
    worker can import only what the fork server preloads."""
    libraries = [Path(sysconfig.get_path(name)) for name in ("stdlib", "purelib")]
    return next(filter(None, map(not_searchable_by_others, libraries)), None)


def not_searchable_by_others(path: Path) -> Path | None:
    """The outermost folder on the way to `path` (itself included) that other users cannot
    search, so that a worker dropped to another user cannot reach `path`; None if none."""
    for folder in reversed((path, *path.parents)):
        if not folder.stat().st_mode & stat.S_IXOTH:
            return folder
    return None

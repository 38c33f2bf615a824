"""Sends UDP datagrams to 127.0.0.1:UDP_PORT (a socket the test opened), no connection needed.

Gain if it worked: data sent out of the sandbox without any handshake a firewall would see.
"""

import socket

UDP_PORT = 0  # filled in by the test

try:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    print("BREACH: created an inet socket", flush=True)
    sender.sendto(b"agx: exfiltrated", ("127.0.0.1", UDP_PORT))
    print("BREACH: sent a datagram to 127.0.0.1 port", UDP_PORT, flush=True)
except OSError:
    pass


def normalize(scores, dim=-1):
    return scores / scores.sum(dim=dim, keepdim=True)

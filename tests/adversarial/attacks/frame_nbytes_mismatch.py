"""Writes its own answer to the channel (fd 3): a tensor whose `nbytes` (1 MB) is far larger
than its shape (2 float64) and its data (16 bytes), then waits.

Gain if it worked: a decoder that trusts `nbytes` reads past the data (into other memory, or
the next message) or allocates what the attacker asks for.
"""

import json
import os
import struct
import time

TENSOR = {"kind": "tensor", "dtype": "float64", "shape": [2], "offset": 0, "nbytes": 1 << 20}
PAIRS = [["status", {"kind": "str", "value": "ok"}], ["value", TENSOR]]
PAIRS += [["grads", {"kind": "list", "value": []}], ["inputs_after", {"kind": "none"}]]


def frame(tree, blob):
    text = json.dumps(tree).encode()
    message = struct.pack("<4sHQQ", b"AGW\0", 1, len(text), len(blob)) + text + blob
    return struct.pack("<Q", len(message)) + message


def softmax(scores, dim=-1):
    os.write(3, frame({"kind": "dict", "value": PAIRS}, struct.pack("<2d", 0.5, 0.5)))
    time.sleep(30)

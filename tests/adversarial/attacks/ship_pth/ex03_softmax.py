"""Ships a `.pth` file next to a stub: an `import` line in it runs when `site` reads it.

Gain if it worked: if the submission folder were a site directory (a virtual environment made
in it, `site.addsitedir`, PYTHONPATH handling in some tools), the line would run in every
interpreter started there, before the grader's code, patching `torch.allclose`.
"""


def softmax(scores, dim=-1):
    raise RuntimeError("the files shipped next to me are supposed to do the work")

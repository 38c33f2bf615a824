"""Generate the exercise notebooks from the single source, or report how they have drifted.

One notebook per exercise, `notebooks/exNN_name.ipynb`: each exercise is its own nbgrader
assignment and its own file, so a broken cell in one notebook never affects another exercise,
and a student can hand in (or be graded on) one exercise at a time. The notebooks are generated
with nbformat from the reference solutions, course.toml and the documents' examples
(`autograder.course.examples`), never edited by hand; `check_notebooks` reports drift the way
`autograder.build.exercises` does for the stubs.

The cells of a notebook, in order:

1. the exercise's title, points and teaching notes (its solution module's docstring), markdown;
2. setup: torch, matplotlib where there is a heatmap, and the documents' example tensors;
3. the exercise code: the module students would edit in `exercises/`, without its docstring
   (the stub made by `make_stub`; the reference version keeps the solutions);
4. "try it": the functions run on the documents' example, next to the printed values;
5. where the exercise computes attention weights, a heatmap of them, with the tokens of
   "Your journey starts with one step" on both axes (Bahdanau: the encoder positions);
6. the public checks: pytest runs `exercises/test_exNN_name.py` on the notebook's own code,
   with the course's pytest plugin, as `pytest exercises/test_exNN_name.py` does on a module.
   Student notebooks import only what the student release ships (`autograder.course`,
   `autograder.student`), never the grader.

Every cell but the exercise code runs under `if __name__ == "__main__":`. In the notebook,
`__name__` is `"__main__"` and everything runs; when a notebook is graded, the grader runs its
code cells one by one as a module in a sandboxed worker, which can use neither this package nor
matplotlib, and the guard skips all but the student's functions (a cell that raised would be
reported in the student's feedback). For the same reason those
cells must not use what the exercise forbids, not even in a string (the grader scans every code
cell: a bare `"softmax"` counts as a use of `torch.softmax`).

Output is deterministic: no execution counts, no outputs, cell ids `<exercise id>-<index>`.
"""

from __future__ import annotations

import ast
import json
import os
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.build.exercises import solution_source
from autograder.build.generated import Drift, check_generated, write_changed
from autograder.build.stubs import make_stub
from autograder.course.config import Course, Exercise
from autograder.course.forbidden import forbidden_note

MAIN_GUARD = 'if __name__ == "__main__":'
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}

Role = Literal["intro", "setup", "exercise", "try_it", "heatmap", "checks"]


@dataclass(frozen=True)
class CellSpec:
    """One cell of an exercise notebook, before it becomes an nbformat cell."""

    role: Role
    cell_type: Literal["markdown", "code"]
    source: str


@dataclass(frozen=True)
class Heatmap:
    """How to draw an exercise's attention weights: the code computing `weights` (rows x
    columns), the axis labels (Python expressions), the axis names and the title."""

    weights: str
    rows: str = "examples.TOKENS"
    columns: str = "examples.TOKENS"
    row_name: str = "query"
    column_name: str = "key (attended to)"
    title: str = ""


# "Try it" cells: each exercise's functions on the documents' example, beside the printed values.
TRY_IT: dict[str, str] = {
    "dot_scores": """
        query = inputs[examples.QUERY_INDEX]  # x², "journey"
        print("dot(x¹, x²) =", dot(inputs[0], query))  # the documents print 0.9544
        print("scores of 'journey':", attention_scores(query, inputs))
        print("the documents:      ", examples.tensor(examples.SCORES_2))
        print("every pair of tokens:")
        print(all_attention_scores(inputs))
    """,
    "normalization": """
        scores = examples.tensor(examples.SCORES_2)  # the scores of "journey" (exercise 1)
        print("normalize(scores):", normalize(scores))
        print("the documents:    ", examples.tensor(examples.NORMALIZED_2))
        # The flaws: a negative score gets a negative "weight"; scores that cancel divide by 0.
        print("with a negative score:", normalize(torch.tensor([2.0, -1.0, 0.5])))
        print("scores that cancel:   ", normalize(torch.tensor([1.0, -1.0])))
    """,
    "softmax": """
        scores = examples.tensor(examples.SCORES_2)  # the scores of "journey" (exercise 1)
        print("softmax(scores):", softmax(scores))
        print("the documents:  ", examples.tensor(examples.SOFTMAX_2))
        print("large scores:   ", softmax(torch.tensor([1000.0, 999.0, -1000.0])))
        masked = torch.tensor([[1.0, -torch.inf, 1.0], [-torch.inf, -torch.inf, -torch.inf]])
        print("masked scores:")
        print(softmax(masked))
    """,
    "context_vectors": """
        weights = examples.tensor(examples.SOFTMAX_2)  # the softmax weights of "journey"
        print("context of 'journey':", context_vector(weights, inputs))
        print("the documents:       ", examples.tensor(examples.CONTEXT_2))
        print("every token's context vector:")
        print(simple_self_attention(inputs))
    """,
    "rnn_step": """
        rnn = examples.rnn_example()  # 5 steps of 3-d inputs, 4 hidden units, 2 outputs
        h_1, y_1 = rnn_step(rnn.xs[0], rnn.h0, *rnn.weights)
        print("h_1 =", h_1, "expected", examples.tensor(examples.RNN_H_1))
        print("y_1 =", y_1, "expected", examples.tensor(examples.RNN_Y_1))
        hs, ys = rnn_forward(rnn.xs, rnn.h0, *rnn.weights)
        print("ys =")
        print(ys)
        print("expected")
        print(examples.tensor(examples.RNN_YS))
    """,
    "bahdanau": """
        example = examples.bahdanau_example()  # a 2-d decoder state, 5 encoder states of size 3
        print("scores: ", additive_scores(*example.args))
        print("expected", examples.tensor(examples.BAHDANAU_SCORES))
        context, weights = bahdanau_attention(*example.args)
        print("weights:", weights)
        print("expected", examples.tensor(examples.BAHDANAU_WEIGHTS))
        print("context:", context)
        print("expected", examples.tensor(examples.BAHDANAU_CONTEXT))
    """,
    "scaled_attention": """
        W_q, W_k, W_v = examples.qkv_weights()  # torch.manual_seed(123), torch.rand(3, 2) each
        context, weights = self_attention(inputs, W_q, W_k, W_v)
        print("weights of 'journey':", weights[examples.QUERY_INDEX])
        print("the documents:       ", examples.tensor(examples.QKV_WEIGHTS_2))
        print("context of 'journey':", context[examples.QUERY_INDEX])
        print("the documents:       ", examples.tensor(examples.QKV_CONTEXT_2))
    """,
    "causal_attention": """
        print("causal_mask(6):")
        print(causal_mask(6))
        context, weights = causal_self_attention(inputs, *examples.qkv_weights())
        print("weights, each row sees only itself and the rows above it:")
        print(weights)
        # "journey" sees "Your" and itself: the documents' first two scores, softmax over / √2.
        scores = examples.tensor(examples.QKV_SCORES_2[:2])
        print("weights of 'journey':", weights[examples.QUERY_INDEX, :2])
        print("softmax(scores / √2):", torch.softmax(scores / 2**0.5, dim=0))
    """,
    "multi_head_attention": """
        W_q, W_k, W_v = examples.qkv_weights()  # d_out = 2; W_o = I leaves the heads as they are
        out, weights = multi_head_attention(inputs, W_q, W_k, W_v, torch.eye(2), num_heads=1)
        print("1 head, the output of 'journey':", out[examples.QUERY_INDEX])
        print("exercise 7, the documents:      ", examples.tensor(examples.QKV_CONTEXT_2))
        out, weights = multi_head_attention(inputs, W_q, W_k, W_v, torch.eye(2), num_heads=2)
        print("2 heads of size 1, the weights of 'journey' in each:")
        print(weights[:, examples.QUERY_INDEX])
        print("the output of 'journey', one column per head:", out[examples.QUERY_INDEX])
    """,
    "positional_encoding": """
        P = sinusoidal_positions(10, 3)  # a table for up to 10 tokens, the size of the embeddings
        print("positions 0 to 5:")
        print(P[:6])
        print("the sentence with its positions:")
        print(add_positions(inputs, P))

        def attend(X):  # self-attention without weights: softmax(X Xᵀ / √d) X
            return torch.softmax(X @ X.mT / X.shape[-1] ** 0.5, dim=-1) @ X

        swapped = [0, 5, 2, 3, 4, 1]  # "Your step starts with one journey"
        print("'journey' first, then moved to the end, without positions:")
        print(attend(inputs)[1], attend(inputs[swapped])[5])
        print("and with positions:")
        print(attend(add_positions(inputs, P))[1], attend(add_positions(inputs[swapped], P))[5])
    """,
    "lstm_step": """
        cell = examples.lstm_example()  # 3 inputs, 4 hidden units: the gates are 4 · 4 = 16 wide
        h_t, c_t = lstm_step(*cell.args)
        print("h_t =", h_t, "expected", examples.tensor(examples.LSTM_H_1))
        print("c_t =", c_t, "expected", examples.tensor(examples.LSTM_C_1))
        b = cell.b.clone()
        b[:4], b[4:8] = -30.0, 30.0  # input gate shut, forget gate open: the cell keeps its memory
        print("c_prev =", cell.c_prev)
        print("c_t    =", lstm_step(cell.x_t, cell.h_prev, cell.c_prev, cell.W_x, cell.W_h, b)[1])
    """,
    "attention_decoder": """
        # The encoder states H are the six embeddings of the sentence (d_enc = 3); the decoder
        # has d_y = 2, d_dec = 4, d_attn = 5 and a vocabulary of 7.
        y_prev, s_prev, H, params = examples.decoder_example()
        s_t, context, weights, logits = attention_decoder_step(y_prev, s_prev, H, params)
        print("weights:", weights)
        print("expected", examples.tensor(examples.DECODER_WEIGHTS))
        print("context:", context, "expected", examples.tensor(examples.DECODER_CONTEXT))
        print("s_t:    ", s_t, "expected", examples.tensor(examples.DECODER_S_T))
        print("logits: ", logits)
        print("expected", examples.tensor(examples.DECODER_LOGITS))
    """,
    "why_attention": """
        import sys
        from pathlib import Path

        # Your functions first: 6 states of a 4-unit RNN whose W_hh shrinks vectors by 0.9.
        hs = torch.tanh(torch.randn(6, 4, generator=torch.Generator().manual_seed(0)))
        print("‖∂h_last/∂h_t‖:", gradient_norms_through_time(hs, 0.9 * torch.eye(4)))

        # experiments/ sits next to the notebooks' folder, in the repository and the release
        # (not in an nbgrader course, where this part is skipped).
        if (Path.cwd().parent / "experiments").is_dir():
            sys.path.insert(0, str(Path.cwd().parent))
            from experiments import why_attention as experiment

            # Lengths up to 30: 10 to 20 s on one core. The README's figure goes up to 40, in half
            # a minute, from the folder above this one: `python experiments/why_attention.py`.
            results = experiment.run_experiment(lengths=(5, 10, 20, 30))
            for name, (logits, targets) in results.outputs.items():  # test sequences, length 30
                print(f"{name:>14}: accuracy by position", accuracy_by_position(logits, targets))
            norms = gradient_norms_through_time(results.states, results.W_hh).mean(dim=0)
            print("the trained RNN encoder's ‖∂h_last/∂h_t‖, averaged:", norms)
            experiment.plot(results)
            plt.show()
    """,
}

# Exercises whose try-it cell draws a figure itself.
PLOTTING_TRY_IT = frozenset({"why_attention"})

# The exercises that compute attention weights, and how to show them.
HEATMAPS: dict[str, Heatmap] = {
    "normalization": Heatmap(
        "weights = normalize(inputs @ inputs.T)  # every pair's score, divided by its row's sum",
        title="normalize(X Xᵀ): each row sums to 1",
    ),
    "softmax": Heatmap(
        "weights = softmax(inputs @ inputs.T)  # every pair's score, softmax along each row",
        title="softmax(X Xᵀ)",
    ),
    "context_vectors": Heatmap(
        "weights = torch.softmax(inputs @ inputs.mT, dim=-1)  # what simple_self_attention mixes",
        title="the weights of simple self-attention",
    ),
    "bahdanau": Heatmap(
        "example = examples.bahdanau_example()\n"
        "_, weights = bahdanau_attention(*example.args)\n"
        "weights = weights.unsqueeze(0)  # one decoder state: one row",
        rows='["s"]',
        columns='[f"h{i + 1}" for i in range(weights.shape[-1])]',
        row_name="decoder state",
        column_name="encoder state (position)",
        title="Bahdanau attention over the encoder states",
    ),
    "scaled_attention": Heatmap(
        "_, weights = self_attention(inputs, *examples.qkv_weights())",
        title="softmax(Q Kᵀ / √d_k)",
    ),
    "causal_attention": Heatmap(
        "_, weights = causal_self_attention(inputs, *examples.qkv_weights())",
        title="causal self-attention: nothing above the diagonal",
    ),
    "multi_head_attention": Heatmap(
        "W_q, W_k, W_v = examples.qkv_weights()\n"
        "_, weights = multi_head_attention(inputs, W_q, W_k, W_v, torch.eye(2), num_heads=2)\n"
        "weights = weights.flatten(0, 1)  # head 1's rows, then head 2's",
        rows='[f"head {h + 1}: {token}" for h in range(2) for token in examples.TOKENS]',
        row_name="head: query",
        title="2 heads, each with its own weights",
    ),
    "attention_decoder": Heatmap(
        "# Four decoder steps, each fed the state the previous one returned (params from above).\n"
        "state, steps = s_prev, []\n"
        "for y in torch.randn(4, 2, generator=torch.Generator().manual_seed(0)):\n"
        "    state, _, step_weights, _ = attention_decoder_step(y, state, H, params)\n"
        "    steps.append(step_weights)\n"
        "weights = torch.stack(steps)",
        rows='[f"step {t + 1}" for t in range(weights.shape[0])]',
        row_name="decoder step",
        column_name="encoder state (token)",
        title="Each decoder step gets its own weights over the sentence",
    ),
}


def _literal(text: str) -> str:
    """A double-quoted Python string literal."""
    return json.dumps(text, ensure_ascii=False)


def _guarded(body: str) -> str:
    """`body` under the main guard: run in the notebook, skipped when graded."""
    return f"{MAIN_GUARD}\n{textwrap.indent(textwrap.dedent(body).strip(), '    ')}"


def without_docstring(source: str) -> str:
    """A module's source after its docstring (and the blank lines that follow it)."""
    body = ast.parse(source).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        source = "\n".join(source.splitlines()[body[0].end_lineno :])
    return source.strip("\n") + "\n"


def teaching_notes(source: str) -> str:
    """The module docstring without its first line when that only repeats the title."""
    docstring = ast.get_docstring(ast.parse(source)) or ""
    first, _, rest = docstring.partition("\n")
    return rest.strip() if first.startswith("Exercise ") else docstring.strip()


def _intro(exercise: Exercise, notes: str) -> str:
    functions = ", ".join(f"`{name}`" for name in exercise.functions)
    if forbidden := forbidden_note(exercise.forbidden, markdown=True):
        notes += f"\n\n{forbidden}"
    return (
        f"# Exercise {exercise.number}: {exercise.title}\n\n"
        f"*{exercise.points:g} points.* Write {functions} in the exercise cell, "
        "below the setup.\n\n"
        f"{notes}\n\n"
        "---\n\n"
        "**What to do.** Replace each `raise NotImplementedError(...)` in the exercise cell with "
        "your code, run it, then run the cells below it: *try it* runs your functions on the "
        "course documents' example, and the public checks are the same as "
        f"`pytest exercises/test_{exercise.module}.py`. When you submit, hidden tests grade your "
        "functions on many more inputs (batches, float64, extreme values, masks, gradients), so "
        "passing every public check is not yet full marks.\n\n"
        f"Code under `{MAIN_GUARD}` runs here in the notebook only: when this notebook is "
        "graded, the grader imports your functions from it without running the examples."
    )


def _setup(plots: bool) -> str:
    lines = ["%matplotlib inline"] if plots else []
    lines += [
        "# Setup: PyTorch and the course documents' example tensors.",
        _guarded(
            ("import matplotlib.pyplot as plt\n" if plots else "")
            + textwrap.dedent(
                """
                import torch

                from autograder.course import examples

                torch.set_printoptions(precision=4, sci_mode=False)
                inputs = examples.inputs()  # "Your journey starts with one step", a row per token
                for token, embedding in zip(examples.TOKENS, inputs, strict=True):
                    print(f"{token:>8}", embedding)
                """
            ).lstrip("\n")
        ),
    ]
    return "\n".join(lines)


def _try_it(exercise: Exercise) -> str:
    body = TRY_IT.get(exercise.id, "print('Try your functions on the examples here.')")
    return "# Try it on the course documents' example.\n" + _guarded(body)


def _heatmap(heatmap: Heatmap) -> str:
    body = (
        textwrap.dedent(heatmap.weights).strip()
        + f"""
rows, columns = {heatmap.rows}, {heatmap.columns}
fig, ax = plt.subplots(figsize=(6, 1.8 + 0.45 * len(rows)))
image = ax.imshow(weights.detach().numpy(), cmap="viridis")
ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
ax.set_yticks(range(len(rows)), rows)
ax.set_xlabel({_literal(heatmap.column_name)})
ax.set_ylabel({_literal(heatmap.row_name)})
ax.set_title({_literal(heatmap.title)})
for i in range(len(rows)):
    for j in range(len(columns)):
        ax.text(j, i, f"{{weights[i, j].item():.2f}}", ha="center", va="center", color="w")
fig.colorbar(image, ax=ax, label="weight")
plt.show()"""
    )
    comment = "# The attention weights as a heatmap: row i is how query i spreads its attention."
    return f"{comment}\n{_guarded(body)}"


_CHECKS = """\
{imports}

import pytest

# The tests import a module: the code of the cells that define the functions, and of the
# cells that define the notebook's own functions they call.
functions, cells, seen = [{functions}], {{}}, set()
while functions:
    function = functions.pop()
    if function in seen:
        continue
    seen.add(function)
    cells[function.__code__.co_filename] = None
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        codes += [c for c in code.co_consts if inspect.iscode(c)]
        used = [function.__globals__.get(name) for name in code.co_names]
        functions += [f for f in used if inspect.isfunction(f) and f.__module__ == "__main__"]
with tempfile.TemporaryDirectory() as folder:
    with open(f"{{folder}}/{filename}", "w", encoding="utf-8") as module:
        module.write("\\n".join("".join(linecache.getlines(cell)) for cell in cells))
    scoreboard = pathlib.Path(folder, "scoreboard.json")
    arguments = ["--exercises-dir", folder, "--scoreboard-json", str(scoreboard)]
    arguments += ["-q", "-p", "no:cacheprovider"]
    # The setup cell imported the course's package before pytest could rewrite it: no matter.
    arguments += ["-W", "ignore::pytest.PytestAssertRewriteWarning"]
    {run}
    # The exercise's status on the scoreboard ("" if its checks could not be collected).
    outcome = ""
    if scoreboard.exists():
        outcome = json.loads(scoreboard.read_text())["exercises"][0]["status"]
unfinished = {{
    "not attempted": "not attempted yet: the functions above still raise NotImplementedError",
    "in progress": "some checks are not attempted yet, and none failed: see above",
}}
why = unfinished.get(outcome, "a public check failed: see above")
{verdict}
"""
_RUN = "status = pytest.main([{tests}, *arguments])"
_VERDICT = "assert status == pytest.ExitCode.OK, why"
# In an nbgrader grade cell any stderr output costs the cell its points, and under autograde
# the hidden score that follows decides: a failed public check only shows.
_GRADED_RUN = "with contextlib.redirect_stderr(sys.stdout):  # nbgrader: stderr scores 0\n        "
_GRADED_VERDICT = (
    "# When nbgrader grades, the hidden tests below give the points: a failure here only shows.\n"
    'autograding = os.environ.get("NBGRADER_EXECUTION") == "autograde"\n'
    "assert status == pytest.ExitCode.OK or autograding, why"
)


def checks_code(exercise: Exercise, tests: str, *, graded: bool = False) -> str:
    """The public checks cell: pytest runs the public test file `tests` (a path from the
    notebook's folder) with the course's pytest plugin on a module made of the cells that
    define the exercise's functions and the notebook's own functions they call, as
    `pytest exercises/test_exNN_name.py` does on a module. It imports only what the student
    release ships, never the grader. `graded`: the visible part of an nbgrader grade cell."""
    imports = ["inspect", "json", "linecache", "pathlib", "tempfile"]
    imports += ["contextlib", "os", "sys"] if graded else []
    run = _RUN.format(tests=_literal(tests))
    body = _CHECKS.format(
        imports="\n".join(f"import {name}" for name in sorted(imports)),
        functions=", ".join(exercise.functions),
        filename=exercise.filename,
        run=_GRADED_RUN + run if graded else run,
        verdict=_GRADED_VERDICT if graded else _VERDICT,
    )
    comment = (
        f"# The public checks: `pytest exercises/test_{exercise.module}.py`, on this notebook's "
        "code.\n# Hidden tests grade many more inputs: passing these is not yet full marks."
    )
    return f"{comment}\n{_guarded(body)}"


def exercise_cells(course: Course, exercise: Exercise, *, reference: bool) -> list[CellSpec]:
    """The cells of one exercise's notebook; `reference` keeps the solutions instead of stubs."""
    source = solution_source(course, exercise)
    filename = str(course.solutions_dir / exercise.filename)
    code = source if reference else make_stub(source, filename)
    heatmap = HEATMAPS.get(exercise.id)
    cells = [
        CellSpec("intro", "markdown", _intro(exercise, teaching_notes(source))),
        CellSpec(
            "setup", "code", _setup(plots=heatmap is not None or exercise.id in PLOTTING_TRY_IT)
        ),
        CellSpec("exercise", "code", without_docstring(code).rstrip("\n")),
        CellSpec("try_it", "code", _try_it(exercise)),
    ]
    if heatmap is not None:
        cells.append(CellSpec("heatmap", "code", _heatmap(heatmap)))
    exercises = os.path.relpath(course.exercises_dir, course.notebooks_dir)
    tests = f"{Path(exercises).as_posix()}/test_{exercise.module}.py"
    cells.append(CellSpec("checks", "code", checks_code(exercise, tests)))
    return cells


def make_notebook(
    exercise: Exercise, cells: list[CellSpec], metadata: dict | None = None
) -> nbformat.NotebookNode:
    """An nbformat notebook of `cells`, with stable ids `<exercise id>-<index>`; `metadata`
    maps a cell index to that cell's metadata."""
    nodes = []
    for index, spec in enumerate(cells):
        make = new_code_cell if spec.cell_type == "code" else new_markdown_cell
        node = make(spec.source)
        node.id = f"{exercise.id}-{index}"
        node.metadata = dict((metadata or {}).get(index, {}))
        nodes.append(node)
    return new_notebook(
        cells=nodes,
        metadata={"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}},
    )


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """The notebook as deterministic JSON text (validated), ending with a newline."""
    nbformat.validate(notebook)
    return nbformat.writes(notebook, version=4) + "\n"


def build_notebook(course: Course, exercise: Exercise, *, reference: bool = False) -> str:
    """One exercise's notebook as JSON text: the students' (stubs) or the reference."""
    return notebook_text(
        make_notebook(exercise, exercise_cells(course, exercise, reference=reference))
    )


def generated_notebooks(course: Course) -> dict[Path, str]:
    """Every students' notebook `autograder build` writes, with its JSON text."""
    folder = course.notebooks_dir
    return {
        folder / f"{exercise.module}.ipynb": build_notebook(course, exercise)
        for exercise in course.exercises
    }


def reference_notebooks(course: Course) -> dict[str, str]:
    """Each exercise's reference notebook (solutions kept) as JSON text, by exercise id; for
    tests and instructors, never written next to the students' notebooks."""
    return {e.id: build_notebook(course, e, reference=True) for e in course.exercises}


def check_notebooks(course: Course) -> list[Drift]:
    """How the checked-in notebooks differ from what `autograder build` would write."""
    return check_generated(
        generated_notebooks(course), "differs from the notebook generated from its solution"
    )


def write_notebooks(course: Course) -> list[Path]:
    """Write every students' notebook; returns the paths that changed."""
    return write_changed(generated_notebooks(course))

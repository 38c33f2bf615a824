"""Mutation score of the hidden suites: how many small wrong edits of the reference they catch.

Every mutant is the reference module with one small edit in one exercise function: an operator
swapped or its right operand dropped, `A @ B` made `A @ B.T`, a dim -1/-2 swapped, a
`.transpose`, `.unsqueeze` or `.masked_fill` dropped, tanh/exp/sqrt/softmax made the identity,
`~mask` made `mask`, keepdim dropped, amax made amin or sum mean, a comparison negated, a
constant changed, two call arguments swapped, a reassignment deleted, a returned pair swapped,
a `...` index dropped, an input changed in place, a result detached or cast to float32.

Each mutant is graded in this process by the hidden suites, through `collect_suites` and
`run_tests` with the mutant as an `InProcessModule` (the grader's path without the sandbox). A
mutant no test fails is then run against the reference on many random inputs (values, dtypes,
shapes, gradients, inputs left alone): if it always agrees it is equivalent, and excluded from
the kill ratio. A benchmark, not a test. Usage:
`python bench/mutation.py [--exercise ID] [--trials 200] [--json FILE]`.
"""

from __future__ import annotations

import argparse
import ast
import copy
import difflib
import json
import math
import time
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path
from typing import Any

import torch

from autograder.course.config import Course, Exercise, load_course
from autograder.grading.grader import load_reference
from autograder.grading.session import SubmissionContext, collect_suites, run_tests
from autograder.grading.student import InProcessModule
from autograder.grading.submission import ModuleSource
from autograder.sandbox.calls import execute_call, output_tensors

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.95

# --- mutation operators -------------------------------------------------------------------------

BINOPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.MatMult: ast.Mult,
}
SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.MatMult: "@"}
IDENTITY = {"tanh", "exp", "sqrt", "softmax", "relu", "sigmoid"}  # f(x, ...) -> x
DROPPED = {"transpose", "unsqueeze", "masked_fill", "detach", "clone"}  # x.m(...) -> x
RENAMED = {"amax": "amin", "amin": "amax", "sum": "mean", "mean": "sum"}
COMPARE = {ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
COMPARE |= {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt}
CONSTANTS = {0.0: 1.0, 1.0: 0.0, "-inf": "inf", "inf": "-inf"}  # floats and strings only
DIMS = {1: 2, 2: 1}  # -1 <-> -2
IN_PLACE = {ast.Add: "add_", ast.Sub: "sub_", ast.Mult: "mul_", ast.Div: "div_"}

Edit = Callable[[Any], ast.AST]


def edits(node: ast.AST, parameters: set[str]) -> Iterator[tuple[str, Edit]]:
    """The mutations that apply at `node` in a function with these parameters: (label, function
    of a copy of the node -> its replacement)."""
    if isinstance(node, ast.BinOp) and type(node.op) in BINOPS:
        old, new = type(node.op), BINOPS[type(node.op)]
        yield f"{SYMBOL[old]} -> {SYMBOL[new]}", lambda n: ast.BinOp(n.left, new(), n.right)
        yield f"drop `{SYMBOL[old]} right`", lambda n: n.left
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        yield "A @ B -> A @ B.T", lambda n: ast.BinOp(n.left, n.op, _attribute(n.right, "T"))
    if isinstance(node, ast.BinOp) and type(node.op) in IN_PLACE and _named(node.left, parameters):
        method = IN_PLACE[type(node.op)]
        yield f"input.{method}(...) in place", lambda n: _method(n.left, method, n.right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _dim(node.operand):
        other = DIMS[node.operand.value]
        yield (
            f"-{node.operand.value} -> -{other}",
            lambda n: ast.UnaryOp(ast.USub(), ast.Constant(other)),
        )
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
        yield "~x -> x", lambda n: n.operand
    if isinstance(node, ast.Constant) and type(node.value) in (float, str) and _known(node.value):
        new_value = CONSTANTS[node.value]
        yield f"{node.value!r} -> {new_value!r}", lambda n: ast.Constant(new_value)
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARE:
        new_op = COMPARE[type(node.ops[0])]
        yield "negated comparison", lambda n: ast.Compare(n.left, [new_op()], n.comparators)
    if isinstance(node, ast.Call):
        yield from _call_edits(node)
    if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and _pair(node.value):
        yield "swap returned pair", lambda n: ast.Return(ast.Tuple(n.value.elts[::-1], ast.Load()))
    if isinstance(node, ast.Return) and node.value is not None:
        yield from _return_edits(node)
    if isinstance(node, ast.Assign) and _reassignment(node):
        yield "delete reassignment", lambda n: ast.Pass()
    if isinstance(node, ast.Subscript) and _ellipsis(node.slice):
        yield "drop `...` index", lambda n: ast.Subscript(n.value, _drop_ellipsis(n.slice), n.ctx)


def _return_edits(node: ast.Return) -> Iterator[tuple[str, Edit]]:
    """The result (or one item of a returned pair) detached, or cast to float32."""
    for method in ("detach", "float"):
        if isinstance(node.value, ast.Tuple):
            for i in range(len(node.value.elts)):
                yield f"return item {i} .{method}()", partial(_return_item, i=i, method=method)
        else:
            yield f"return .{method}()", lambda n, m=method: ast.Return(_method(n.value, m))


def _return_item(node: ast.Return, *, i: int, method: str) -> ast.Return:
    items = list(node.value.elts)
    items[i] = _method(items[i], method)
    return ast.Return(ast.Tuple(items, ast.Load()))


def _attribute(value: ast.expr, name: str) -> ast.Attribute:
    return ast.Attribute(value, name, ast.Load())


def _method(value: ast.expr, name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(_attribute(value, name), list(args), [])


def _named(node: ast.AST, names: set[str]) -> bool:
    return isinstance(node, ast.Name) and node.id in names


def _dim(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value in DIMS


def _known(value: float | str) -> bool:
    return value in CONSTANTS


def _pair(node: ast.Tuple) -> bool:
    return len(node.elts) == 2


def _reassignment(node: ast.Assign) -> bool:
    """`x = f(x)`: deleting it skips a step (deleting a first assignment only breaks the code)."""
    target = node.targets[0] if len(node.targets) == 1 else None
    names = {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    return isinstance(target, ast.Name) and target.id in names


def _ellipsis(index: ast.AST) -> bool:
    elements = index.elts if isinstance(index, ast.Tuple) else []
    return any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in elements)


def _call_edits(node: ast.Call) -> Iterator[tuple[str, Edit]]:
    name = node.func.attr if isinstance(node.func, ast.Attribute) else None
    if name in IDENTITY and node.args:
        yield f"{name}(x) -> x", lambda n: n.args[0]
    if name in DROPPED:
        yield f"drop .{name}()", lambda n: n.func.value
    if name in RENAMED:
        other = RENAMED[name]
        yield (
            f"{name} -> {other}",
            lambda n: ast.Call(ast.Attribute(n.func.value, other, ast.Load()), n.args, n.keywords),
        )
    if any(k.arg == "keepdim" for k in node.keywords):
        yield (
            "drop keepdim=True",
            lambda n: ast.Call(n.func, n.args, [k for k in n.keywords if k.arg != "keepdim"]),
        )
    for i in range(len(node.args) - 1):
        yield f"swap arguments {i + 1} and {i + 2}", partial(_swap_arguments, i=i)


def _swap_arguments(node: ast.Call, *, i: int) -> ast.Call:
    args = list(node.args)
    args[i], args[i + 1] = args[i + 1], args[i]
    return ast.Call(node.func, args, node.keywords)


def _drop_ellipsis(index: ast.Tuple) -> ast.AST:
    kept = [e for e in index.elts if not (isinstance(e, ast.Constant) and e.value is Ellipsis)]
    return kept[0] if len(kept) == 1 else ast.Tuple(kept, ast.Load())


# --- mutants ----------------------------------------------------------------------------------


@dataclass
class Mutant:
    exercise: str
    function: str
    operator: str
    line: int
    diff: str  # "- original line / + mutated line"
    source: str
    verdict: str = ""  # killed | survived | equivalent
    killed_by: str = ""


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    return next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name)


def _replace(root: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for parent in ast.walk(root):
        for field, value in ast.iter_fields(parent):
            if value is old:
                setattr(parent, field, new)
                return
            for i, item in enumerate(value if isinstance(value, list) else []):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not found")


def _diff(before: ast.FunctionDef, after: ast.FunctionDef) -> str:
    lines = difflib.ndiff(ast.unparse(before).splitlines(), ast.unparse(after).splitlines())
    return " / ".join(line.strip() for line in lines if line[:2] in ("- ", "+ "))


def mutants(course: Course, exercise: Exercise) -> list[Mutant]:
    """Every distinct mutant of the exercise's reference solution, in source order."""
    source = (course.solutions_dir / exercise.filename).read_text(encoding="utf-8")
    original = ast.parse(source)
    seen = {ast.unparse(original)}
    found = []
    for function in exercise.functions:
        definition = _function(original, function)
        parameters = {a.arg for a in definition.args.args}
        for index, node in enumerate(ast.walk(definition)):
            for label, edit in edits(node, parameters):
                tree = copy.deepcopy(original)
                target = list(ast.walk(_function(tree, function)))[index]
                _replace(_function(tree, function), target, edit(target))
                text = ast.unparse(ast.fix_missing_locations(tree))
                if text in seen:
                    continue
                seen.add(text)
                diff = _diff(_function(original, function), _function(tree, function))
                line = getattr(node, "lineno", 0)
                found.append(Mutant(exercise.id, function, label, line, diff, text))
    return found


def load(exercise: Exercise, source: str) -> types.ModuleType:
    module = types.ModuleType(exercise.module)
    module.__file__ = f"<mutant of {exercise.filename}>"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


# --- equivalence by random testing ------------------------------------------------------------


class Draw:
    """Random sizes and tensors from one generator."""

    def __init__(self, seed: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)

    def size(self, low: int = 1, high: int = 5) -> int:
        return int(torch.randint(low, high + 1, (1,), generator=self.gen))

    def batch(self) -> tuple[int, ...]:
        return tuple(self.size(1, 3) for _ in range(self.size(0, 2)))

    def tensor(self, *shape: int, dtype: torch.dtype, scale: float = 1.0) -> torch.Tensor:
        return torch.randn(*shape, generator=self.gen, dtype=dtype) * scale

    def chance(self, p: float) -> bool:
        return bool(torch.rand((), generator=self.gen) < p)

    def mask(self, rows: int, cols: int) -> torch.Tensor:
        mask = torch.rand(rows, cols, generator=self.gen) < 0.7
        if self.chance(0.5):
            mask[self.size(0, rows - 1)] = False  # a row that may see nothing
        return mask


def random_call(exercise: str, function: str, r: Draw, dtype: torch.dtype) -> tuple[list, dict]:
    """Random arguments of `function`, as its contract allows: (args, kwargs)."""
    b, t = r.batch(), lambda *shape, scale=1.0: r.tensor(*shape, dtype=dtype, scale=scale)
    n, d = r.size(), r.size()
    if function == "dot":
        return [t(*b, d), t(*b, d)], {}
    if function == "attention_scores":
        return [t(*b, d), t(*b, n, d)], {}
    if function in ("all_attention_scores", "simple_self_attention"):
        return [t(*b, n, d, scale=r.size(1, 3))], {}
    if function in ("normalize", "softmax"):
        shape = [r.size() for _ in range(r.size(1, 3))]
        dim = r.size(-len(shape), len(shape) - 1) if len(shape) > 1 else -1
        scores = t(*shape, scale=[1.0, 3.0, 100.0, 1000.0][r.size(0, 3)])
        kwargs = {"dim": dim} if r.chance(0.7) else {}  # else the default, -1
        dim = kwargs.get("dim", -1)
        if function == "normalize":
            return [scores.abs() + 0.1 if r.chance(0.5) else scores], kwargs
        if r.chance(0.5):
            scores = scores.masked_fill(torch.rand(scores.shape, generator=r.gen) < 0.3, -math.inf)
        if r.chance(0.3):  # some slices along dim all -inf
            lines = scores if len(shape) == 1 else scores.select((dim + 1) % len(shape), 0)
            lines.fill_(-math.inf)
        return [scores], kwargs
    if function == "context_vector":
        return [torch.softmax(t(*b, n), -1), t(*b, n, d)], {}
    if function in ("rnn_step", "rnn_forward"):
        d_h, d_out = r.size(), r.size()
        x = t(*b, d) if function == "rnn_step" else t(*b, r.size(), d)
        weights = [t(d, d_h, scale=0.6), t(d_h, d_h, scale=0.6), t(d_h), t(d_h, d_out), t(d_out)]
        return [x, t(*b, d_h), *weights], {}
    if function in ("additive_scores", "bahdanau_attention"):
        d_dec, d_attn = r.size(), r.size()
        return [t(*b, d_dec), t(*b, n, d), t(d_dec, d_attn), t(d, d_attn), t(d_attn)], {}
    if function == "scaled_dot_product_attention":
        n_k, d_k, d_v = r.size(), r.size(), r.size()
        args = [t(*b, n, d_k, scale=3.0), t(*b, n_k, d_k, scale=3.0), t(*b, n_k, d_v)]
        return args + ([r.mask(n, n_k)] if r.chance(0.6) else []), {}
    if function == "self_attention":
        d_k, d_v = r.size(), r.size()
        weights = [t(d, d_k, scale=0.6), t(d, d_k, scale=0.6), t(d, d_v, scale=0.6)]
        return [t(*b, n, d, scale=3.0), *weights] + ([r.mask(n, n)] if r.chance(0.6) else []), {}
    if function == "causal_mask":
        return [r.size(1, 7)], {}
    if function == "causal_self_attention":
        d_k, d_v = r.size(), r.size()
        weights = [t(d, d_k, scale=0.6), t(d, d_k, scale=0.6), t(d, d_v, scale=0.6)]
        return [t(*b, n, d, scale=[1.0, 3.0, 30.0][r.size(0, 2)]), *weights], {}
    if function == "multi_head_attention":
        heads, head_dim = r.size(1, 3), r.size(1, 3)  # num_heads divides d_out
        d_out = heads * head_dim
        weights = [t(d, d_out, scale=0.6) for _ in range(3)] + [t(d_out, d_out, scale=0.6)]
        args = [t(*b, n, d, scale=3.0), *weights, heads]
        if r.chance(0.4):  # one (n, n) mask for every head, or one per head
            mask = r.mask(n, n) if r.chance(0.5) else torch.stack([r.mask(n, n)] * heads)
            if r.chance(0.5):
                return args, {"mask": mask}  # by name, or else by position
            args.append(mask)
        return args, {}
    if function == "sinusoidal_positions":
        return [r.size(1, 12), r.size(1, 9)], {}  # odd d as well as even
    if function == "add_positions":
        table = t(n + r.size(0, 3), d)
        return [t(*b, n, d), table.double() if r.chance(0.5) else table.float()], {}
    if function == "lstm_step":
        d_h = r.size()
        weights = [t(d, 4 * d_h, scale=0.6), t(d_h, 4 * d_h, scale=0.6), t(4 * d_h)]
        return [t(*b, d), t(*b, d_h), t(*b, d_h, scale=2.0), *weights], {}
    if function == "attention_decoder_step":
        d_y, d_dec, d_attn, vocab = r.size(), r.size(), r.size(), r.size()
        shapes = {
            "W_s": (d_dec, d_attn),
            "W_h": (d, d_attn),
            "v": (d_attn,),
            "W_y": (d_y, d_dec),
            "W_ss": (d_dec, d_dec),
            "W_c": (d, d_dec),
            "b_s": (d_dec,),
            "W_out": (d_dec, vocab),
            "b_out": (vocab,),
        }
        params = {key: t(*shape, scale=0.8) for key, shape in shapes.items()}
        return [t(*b, d_y), t(*b, d_dec), t(*b, n, d), params], {}
    if function == "accuracy_by_position":
        vocab = r.size(2, 6)
        logits = t(*b, n, vocab)
        predicted = logits.argmax(dim=-1)
        hits = torch.rand(predicted.shape, generator=r.gen) < 0.6
        return [logits, torch.where(hits, predicted, (predicted + 1) % vocab)], {}
    if function == "gradient_norms_through_time":
        spread, scale = [0.1, 1.0, 4.0][r.size(0, 2)], [0.5, 1.0, 2.0][r.size(0, 2)]
        return [torch.tanh(t(*b, r.size(1, 7), d, scale=spread)), t(d, d, scale=scale)], {}
    raise KeyError(f"no random inputs for {exercise}.{function}")


def _same(a: Any, b: Any, dtype: torch.dtype) -> bool:
    if isinstance(b, torch.Tensor):
        tight = dtype == b.dtype == torch.float64  # a float32 table stays float32
        return (
            isinstance(a, torch.Tensor)
            and (a.dtype, a.shape) == (b.dtype, b.shape)
            and torch.allclose(
                a, b, atol=1e-9 if tight else 1e-5, rtol=1e-7 if tight else 1e-4, equal_nan=True
            )
        )
    if isinstance(b, tuple | list):
        return (
            isinstance(a, tuple | list)
            and len(a) == len(b)
            and all(_same(x, y, dtype) for x, y in zip(a, b, strict=True))
        )
    if isinstance(b, dict):  # inputs after the call, by label
        return (
            isinstance(a, dict)
            and a.keys() == b.keys()
            and all(_same(a[k], b[k], dtype) for k in b)
        )
    return a == b


def agrees_on_random_inputs(
    exercise: Exercise, mutant: types.ModuleType, reference: types.ModuleType, trials: int
) -> bool:
    """The mutant's values, gradients and untouched inputs equal the reference's on every draw."""
    for function in exercise.functions:
        r = Draw(seed=sum(map(ord, function)))
        for trial in range(trials):
            dtype = torch.float32 if trial % 4 == 3 else torch.float64
            args, kwargs = random_call(exercise.id, function, r, dtype)
            expected = execute_call(getattr(reference, function), args, kwargs)
            projections = [  # a bool mask has no gradient: any projection does
                torch.randn_like(o) if o.is_floating_point() else torch.zeros(o.shape)
                for o in output_tensors(expected.value)
            ]
            expected = execute_call(getattr(reference, function), args, kwargs, projections, True)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    actual = execute_call(
                        getattr(mutant, function), args, kwargs, projections, True
                    )
            except Exception:
                return False
            if not (
                _same(actual.value, expected.value, dtype)
                and _same(actual.grads, expected.grads, dtype)
                and _same(actual.inputs_after, expected.inputs_after, dtype)
            ):
                return False
    return True


# --- the run --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", action="append", help="only this exercise (repeatable)")
    parser.add_argument("--trials", type=int, default=200, help="random draws per function")
    parser.add_argument("--json", type=Path, help="also write every mutant's verdict here")
    options = parser.parse_args()
    torch.set_num_threads(1)
    started = time.monotonic()
    course = load_course(ROOT / "course.toml")
    modules = {e.id: load_reference(course, e) for e in course.exercises}
    references = {key: InProcessModule(module) for key, module in modules.items()}
    tests = collect_suites(course)
    chosen = [e for e in course.exercises if not options.exercise or e.id in options.exercise]
    results: list[Mutant] = []
    print(
        f"{'exercise':<18}{'mutants':>8}{'killed':>8}{'survived':>9}{'equivalent':>11}{'kill':>8}"
    )
    for exercise in chosen:
        found = mutants(course, exercise)
        for mutant in found:
            module = load(exercise, mutant.source)
            student = InProcessModule(module)
            context = SubmissionContext(
                course,
                references,
                lambda e, s=student: s,
                {exercise.module: ModuleSource(mutant.source, exercise.filename)},
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outcomes = run_tests(tests, context, [exercise.id])
            failed = [o.name for o in outcomes if o.status != "passed"]
            if failed:
                mutant.verdict, mutant.killed_by = "killed", failed[0]
            elif agrees_on_random_inputs(exercise, module, modules[exercise.id], options.trials):
                mutant.verdict = "equivalent"
            else:
                mutant.verdict = "survived"
        results += found
        print(_row(exercise.id, found))
    print(_row("total", results))
    for verdict in ("survived", "equivalent"):
        listed = [m for m in results if m.verdict == verdict]
        print(f"\n{verdict} ({len(listed)}):")
        for m in listed:
            print(f"  {m.exercise}.{m.function} line {m.line} [{m.operator}]: {m.diff}")
    ratio = _ratio(results)
    print(f"\nkill ratio {ratio:.1%} of non-equivalent mutants (goal >= {GOAL:.0%}); ", end="")
    print(f"{time.monotonic() - started:.0f} s")
    if options.json:
        rows = [{k: v for k, v in asdict(m).items() if k != "source"} for m in results]
        options.json.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")


def _ratio(mutants: list[Mutant]) -> float:
    counted = [m for m in mutants if m.verdict != "equivalent"]
    return sum(m.verdict == "killed" for m in counted) / len(counted) if counted else 1.0


def _row(name: str, mutants: list[Mutant]) -> str:
    count = {v: sum(m.verdict == v for m in mutants) for v in ("killed", "survived", "equivalent")}
    return (
        f"{name:<18}{len(mutants):>8}{count['killed']:>8}{count['survived']:>9}"
        f"{count['equivalent']:>11}{_ratio(mutants):>8.1%}"
    )


if __name__ == "__main__":
    main()

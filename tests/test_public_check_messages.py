"""What a failing public check tells a student: the dtype it expected and whose, what their
function raised and where, a wrong type before any value, and values rounded for reading.
Each test runs `pytest exercises` on the reference solutions with one module broken."""

import re
import shutil
from pathlib import Path

from tests.conftest import ROOT, run_public_tests


def _checks_with(tmp_path: Path, module: str, old: str, new: str) -> str:
    """What `pytest exercises` prints for `module`'s checks when its solution has `old`
    replaced by `new`."""
    folder = tmp_path / "submission"
    shutil.copytree(ROOT / "solutions", folder, ignore=shutil.ignore_patterns("__pycache__"))
    path = folder / f"{module}.py"
    source = path.read_text(encoding="utf-8")
    assert old in source
    path.write_text(source.replace(old, new), encoding="utf-8")
    return run_public_tests("--exercises-dir", folder, "-k", module).stdout


def _failure(output: str, test: str) -> str:
    """The report of the failed check `test`, up to the next report or summary."""
    found = re.search(rf"_ {test} _+\n(.*?)(\n_{{3}}|\n={{3}}|\n\n)", output, re.DOTALL)
    assert found, output
    return found[1]


def _line_of(module: str, code: str) -> int:
    """The line number of `code` in the reference solution of `module`."""
    lines = (ROOT / "solutions" / f"{module}.py").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if code in line)


SOFTMAX_RESULT = "return exps / torch.where(total == 0, 1.0, total)"


def test_a_float64_result_for_float32_input_fails_on_its_dtype_without_a_value_hint(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex03_softmax",
        SOFTMAX_RESULT,
        "return (exps / torch.where(total == 0, 1.0, total)).double()",
    )
    failure = _failure(output, "test_scores_of_journey")
    assert (
        "softmax(scores of x²): expected dtype torch.float32 (the input's), got torch.float64"
        in failure
    )
    assert "hint" not in failure
    assert "exp(1000) overflows" not in _failure(output, "test_large_scores_stay_finite")


def test_an_exception_names_the_check_the_students_line_and_the_hint(tmp_path):
    module, code = "ex04_context_vectors", "scores = inputs @ inputs.transpose(-2, -1)"
    output = _checks_with(tmp_path, module, code, "scores = inputs @ inputs.T")
    failure = _failure(output, "test_simple_self_attention_on_a_batch")
    assert (
        "simple_self_attention on a batch of 2 sequences: raised RuntimeError: The size of "
        "tensor a (2) must match the size of tensor b (3)" in failure
    )
    line = _line_of(module, code)
    assert f"at ex04_context_vectors.py, line {line}: scores = inputs @ inputs.T" in failure
    assert "hint: transpose the last two dims only: .transpose(-2, -1), not .T" in failure
    assert "test_ex04_context_vectors.py:" not in failure  # no traceback through the test


def test_a_loop_over_the_batch_gets_the_hint_and_the_line_in_the_helper_that_raised(tmp_path):
    module = "ex05_rnn_step"
    output = _checks_with(
        tmp_path,
        module,
        "for t in range(xs.shape[-2]):\n        h, y = rnn_step(xs[..., t, :], h,",
        "for x_t in xs:\n        h, y = rnn_step(x_t, h,",
    )
    failure = _failure(output, "test_batch_of_sequences")
    assert "rnn_forward on a batch of 3 sequences: raised RuntimeError: " in failure
    line = _line_of(module, "h_t = torch.tanh(")  # in rnn_step, which rnn_forward calls
    assert f"at ex05_rnn_step.py, line {line}: h_t = torch.tanh(" in failure
    assert "hint: time is dim -2, not dim 0" in failure


def test_a_result_that_is_not_the_tuple_asked_for_is_named(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex07_scaled_attention",
        "return scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask)",
        "return scaled_dot_product_attention(X @ W_q, X @ W_k, X @ W_v, mask)[0]",
    )
    assert (
        "self_attention(inputs, W_q, W_k, W_v): expected a tuple (context, weights), "
        "got a torch.float32 tensor of shape (6, 2)" in _failure(output, "test_documents_example")
    )
    assert "too many values to unpack" not in output


def test_a_result_that_is_not_a_tensor_gets_no_value_hint(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex03_softmax",
        SOFTMAX_RESULT,
        "return (exps / torch.where(total == 0, 1.0, total)).numpy()",
    )
    failure = _failure(output, "test_large_scores_stay_finite")
    assert (
        "softmax([1000, 999, -1000]): expected a torch.Tensor of shape (3,), got ndarray" in failure
    )
    assert "hint" not in failure


def test_a_list_is_reported_before_the_check_indexes_it(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex03_softmax",
        SOFTMAX_RESULT,
        "return (exps / torch.where(total == 0, 1.0, total)).tolist()",
    )
    failure = _failure(output, "test_dim_argument")
    assert (
        "softmax(6 × 3 scores, dim=0): expected a torch.Tensor of shape (6, 3), "
        "got list [[0.1385, 0.1385, 0.1385], [0.2379," in failure
    )
    assert "list indices must be integers" not in output


def test_values_are_shown_to_four_significant_digits(tmp_path):
    output = _checks_with(
        tmp_path, "ex03_softmax", "exps.sum(dim=dim, keepdim=True)", "exps.sum(dim=0, keepdim=True)"
    )
    failure = _failure(output, "test_rows_of_a_matrix")
    assert "expected: [0.1385, 0.2379, 0.2333, 0.124, 0.1082, 0.1581]" in failure
    assert f"got:      [{', '.join(['0.3333'] * 6)}]" in failure  # 3 equal rows summed
    assert "largest difference 0.2251 at index (4,) (allowed 0.0001)" in failure


def test_values_just_outside_the_tolerance_get_the_digits_that_tell_them_apart(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex01_dot_scores",
        "return (a * b).sum(dim=-1)",
        "return (a * b).sum(dim=-1) + 2e-4",
    )
    failure = _failure(output, "test_dot_works_on_batches")
    assert "expected: [0.9544, 1.495, 1.4754, 0.8434, 0.707, 1.0865]" in failure
    assert "got:      [0.9546, 1.4952, 1.4756, 0.8436, 0.7072, 1.0867]" in failure


def test_a_dtype_that_is_no_inputs_is_not_called_the_inputs(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex08_causal_attention",
        "torch.ones(n, n, dtype=torch.bool).tril()",
        "torch.ones(n, n).tril()",
    )
    failure = _failure(output, "test_causal_mask")
    assert "causal_mask(4): expected dtype torch.bool, got torch.float32" in failure
    assert "hint: a bool tensor: torch.ones(n, n, dtype=torch.bool)" in failure


def test_a_table_of_a_wider_dtype_is_caught_before_submission(tmp_path):
    """`X + P` alone is right for a float32 table; only a float64 one changes the result."""
    output = _checks_with(
        tmp_path,
        "ex10_positional_encoding",
        "return X + P[: X.shape[-2]].to(X.dtype)",
        "return X + P[: X.shape[-2]]",
    )
    failure = _failure(output, "test_the_embeddings_dtype_is_kept")
    assert (
        "add_positions of float32 embeddings and a float64 table: expected dtype torch.float32 "
        "(X's), got torch.float64" in failure
    )


def test_scaled_attention_with_k_t_fails_on_a_batch_before_submission(tmp_path):
    module = "ex07_scaled_attention"
    code = "scores = Q @ K.transpose(-2, -1) / math.sqrt(K.shape[-1])"
    output = _checks_with(tmp_path, module, code, "scores = Q @ K.T / math.sqrt(K.shape[-1])")
    failure = _failure(output, "test_on_a_batch")
    assert "self_attention on a batch of 2 sequences: raised RuntimeError: " in failure
    assert f"at {module}.py, line {_line_of(module, code)}: scores = Q @ K.T /" in failure
    assert "hint: transpose the last two dims only: K.transpose(-2, -1), not K.T" in failure


def test_a_loop_that_prints_shows_the_start_of_its_output_only(tmp_path):
    output = _checks_with(
        tmp_path,
        "ex02_normalization",
        "return scores / scores.sum(dim=dim, keepdim=True)",
        'while True:\n        print("still here")',
    )
    failure = _failure(output, "test_scores_of_journey")
    assert "still running after 10 s, the exercise's time limit" in failure
    assert "still here\n" in output and "more characters not shown]" in output
    assert len(output) < 20_000


def test_an_input_changed_in_place_is_named_by_its_parameter(tmp_path):
    code = "return scores / scores.sum(dim=dim, keepdim=True)"
    wrong = "return scores.div_(scores.sum(dim=dim, keepdim=True))"
    output = _checks_with(tmp_path, "ex02_normalization", code, wrong)
    failure = _failure(output, "test_scores_of_journey")
    assert "scores was modified in place; compute a new tensor instead" in failure


def test_nan_in_a_large_result_is_counted_and_located_not_printed(tmp_path):
    code = "weights = weights.masked_fill(~mask, 0.0)"
    output = _checks_with(tmp_path, "ex09_multi_head_attention", code, "weights = weights")
    failure = _failure(output, "test_a_batch_with_a_causal_mask")
    assert (
        "the weights where the mask is False: the result contains NaN: 20 of its 144 entries, "
        "the first at index (0, 0, 0, 1)"
    ) in failure
    assert "tensor(" not in failure and "nan," not in failure

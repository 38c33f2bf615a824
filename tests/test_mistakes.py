"""The catalogue of common mistakes and their detection: every entry is recognised as itself, the
reference as nothing, the corpus of wrong submissions (tests/mistakes/) by name, and a student
that crashes, hangs or is not attempted gets no diagnosis and costs few calls."""

from __future__ import annotations

import importlib.util
import types
from pathlib import Path
from types import SimpleNamespace
from typing import get_args

import pytest
import torch

from autograder.grading.errors import NotAttempted, StudentRaised, WorkerFailed, WorkerTimeout
from autograder.grading.grader import diagnosed, load_reference
from autograder.grading.session import SubmissionContext, collect_suites, run_tests
from autograder.grading.student import InProcessModule, ModuleProxy
from autograder.grading.submission import ModuleSource
from autograder.mistakes import (
    all_mistakes,
    diagnose,
    diagnose_exercise,
    diagnose_failures,
    diagnose_module,
    get,
    matching,
    mistakes_for,
    probes_for,
)
from autograder.mistakes.base import Kind

ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = ROOT / "tests" / "mistakes"
MISTAKES = all_mistakes()

# Entries whose outcomes on every probe are the same as another's: each may be diagnosed as the
# other. None today; declare any new ambiguity here rather than loosening the test.
EQUIVALENT: dict[str, set[str]] = {}

# tests/mistakes/<exercise>/<file> -> the catalogue entry it must be diagnosed as.
CORPUS = {
    "dot_scores/sum_over_all_dims": "dot_scores.sum_over_all_dims",
    "dot_scores/loop_drops_batch_dims": "dot_scores.loop_drops_batch_dims",
    "dot_scores/transpose_with_T": "dot_scores.transpose_with_T",
    "dot_scores/query_not_unsqueezed": "dot_scores.query_not_unsqueezed",
    "normalization/sum_over_dim_0": "normalization.sum_over_dim_0",
    "normalization/ignores_dim": "normalization.ignores_dim",
    "normalization/sum_without_keepdim": "normalization.no_keepdim",
    "normalization/l1_normalize": "normalization.sum_of_magnitudes",
    "softmax/fixed_dim_0": "softmax.fixed_dim_0",
    "softmax/ignores_dim": "softmax.ignores_dim",
    "softmax/no_max_shift": "softmax.no_max_shift",
    "softmax/global_max_shift": "softmax.global_max_shift",
    "softmax/nan_on_fully_masked_row": "softmax.nan_on_fully_masked_slice",
    "softmax/float32_cast": "softmax.float32_cast",
    "softmax/modifies_input": "softmax.modifies_input",
    "softmax/detached_result": "softmax.detached_result",
    "softmax/computed_under_no_grad": "softmax.detached_result",
    "context_vectors/xt_x_instead_of_x_xt": "context_vectors.xt_x_instead_of_x_xt",
    "context_vectors/no_softmax": "context_vectors.no_softmax",
    "context_vectors/scaled_by_sqrt_d": "context_vectors.scaled_by_sqrt_d",
    "context_vectors/transpose_with_T": "context_vectors.transpose_with_T",
    "context_vectors/softmax_over_columns": "context_vectors.softmax_over_columns",
    "context_vectors/context_vector_matmul": "context_vectors.context_vector_matmul",
    "context_vectors/squeeze_without_dim": "context_vectors.squeezes_every_size_1_dim",
    "rnn_step/missing_tanh": "rnn_step.missing_tanh",
    "rnn_step/relu_instead_of_tanh": "rnn_step.relu_instead_of_tanh",
    "rnn_step/h0_ignored": "rnn_step.h0_ignored",
    "rnn_step/weights_swapped": "rnn_step.weights_swapped",
    "rnn_step/transposed_w_hh": "rnn_step.transposed_w_hh",
    "rnn_step/bias_added_twice": "rnn_step.bias_added_twice",
    "rnn_step/output_through_tanh": "rnn_step.output_through_tanh",
    "rnn_step/stacks_time_on_dim_0": "rnn_step.stacks_time_on_dim_0",
    "rnn_step/state_squeezed": "rnn_step.state_squeezed",
    "rnn_step/loops_over_first_dim": "rnn_step.loops_over_first_dim",
    "rnn_step/state_detached_between_steps": "rnn_step.state_detached_between_steps",
    "bahdanau/softmax_over_wrong_dim": "bahdanau.softmax_over_wrong_dim",
    "bahdanau/v_not_applied": "bahdanau.v_not_applied",
    "bahdanau/tanh_missing": "bahdanau.tanh_missing",
    "bahdanau/context_sums_over_dim_0": "bahdanau.context_sums_over_dim_0",
    "bahdanau/squeeze_without_dim": "bahdanau.context_squeezes_every_size_1_dim",
    "bahdanau/state_not_unsqueezed": "bahdanau.state_not_unsqueezed",
    "scaled_attention/scaled_by_d_k": "scaled_attention.scaled_by_d_k",
    "scaled_attention/scaled_by_sqrt_d_in": "scaled_attention.scaled_by_sqrt_d_in",
    "scaled_attention/scaled_by_sqrt_d_v": "scaled_attention.scaled_by_sqrt_d_v",
    "scaled_attention/not_scaled": "scaled_attention.not_scaled",
    "scaled_attention/mask_after_softmax": "scaled_attention.mask_after_softmax",
    "scaled_attention/mask_inverted": "scaled_attention.mask_inverted",
    "scaled_attention/mask_filled_with_zero": "scaled_attention.mask_filled_with_zero",
    "scaled_attention/nan_on_fully_masked_row": "scaled_attention.nan_on_fully_masked_row",
    "scaled_attention/ignores_mask": "scaled_attention.ignores_mask",
    "scaled_attention/transpose_with_T": "scaled_attention.transpose_with_T",
    "scaled_attention/softmax_over_queries": "scaled_attention.softmax_over_queries",
    "scaled_attention/float32_cast": "scaled_attention.float32_cast",
    "scaled_attention/no_gradient": "scaled_attention.no_gradient",
    "causal_attention/mask_sees_the_future": "causal_attention.mask_sees_the_future",
    "causal_attention/mask_without_diagonal": "causal_attention.mask_without_diagonal",
    "causal_attention/mask_after_softmax": "causal_attention.mask_after_softmax",
    "causal_attention/renormalised_after_softmax": "causal_attention.renormalised_after_softmax",
    "causal_attention/mask_filled_with_zero": "causal_attention.mask_filled_with_zero",
    "causal_attention/query_weights_scaled_in_place": (
        "causal_attention.query_weights_scaled_in_place"
    ),
    "causal_attention/float32_cast": "causal_attention.float32_cast",
    "causal_attention/no_gradient": "causal_attention.no_gradient",
    "multi_head_attention/scaled_by_sqrt_d_out": "multi_head_attention.scaled_by_sqrt_d_out",
    "multi_head_attention/heads_split_in_wrong_order": (
        "multi_head_attention.heads_split_in_wrong_order"
    ),
    "multi_head_attention/heads_not_transposed": "multi_head_attention.heads_not_transposed",
    "multi_head_attention/merged_without_transpose": (
        "multi_head_attention.merged_without_transpose"
    ),
    "multi_head_attention/w_o_not_applied": "multi_head_attention.w_o_not_applied",
    "multi_head_attention/weights_averaged_over_heads": (
        "multi_head_attention.weights_averaged_over_heads"
    ),
    "multi_head_attention/no_divisibility_check": "multi_head_attention.no_divisibility_check",
    "multi_head_attention/float32_cast": "multi_head_attention.float32_cast",
    "multi_head_attention/no_gradient": "multi_head_attention.no_gradient",
    "attention_decoder/attends_with_new_state": "attention_decoder.attends_with_new_state",
    "attention_decoder/context_not_in_state": "attention_decoder.context_not_in_state",
    "attention_decoder/squeeze_without_dim": (
        "attention_decoder.context_squeezes_every_size_1_dim"
    ),
    "attention_decoder/softmax_over_wrong_dim": "attention_decoder.softmax_over_wrong_dim",
    "attention_decoder/encoder_projection_transposed": (
        "attention_decoder.encoder_projection_transposed"
    ),
    "attention_decoder/float32_cast": "attention_decoder.float32_cast",
    "attention_decoder/computed_under_no_grad": "attention_decoder.no_gradient",
    "attention_decoder/bias_accumulated_in_place": "attention_decoder.bias_accumulated_in_place",
    "positional_encoding/sin_cos_swapped": "positional_encoding.sin_cos_swapped",
    "positional_encoding/exponent_per_feature": "positional_encoding.exponent_per_feature",
    "positional_encoding/positions_from_one": "positional_encoding.positions_from_one",
    "positional_encoding/halves_concatenated": "positional_encoding.halves_concatenated",
    "positional_encoding/odd_d_fails": "positional_encoding.odd_d_fails",
    "positional_encoding/uses_all_rows": "positional_encoding.uses_all_rows",
    "positional_encoding/adds_in_place": "positional_encoding.adds_in_place",
    "lstm_step/gates_ifog": "lstm_step.gates_ifog",
    "lstm_step/input_and_forget_swapped": "lstm_step.input_and_forget_swapped",
    "lstm_step/output_gate_tanh": "lstm_step.output_gate_tanh",
    "lstm_step/states_squeezed": "lstm_step.states_squeezed",
    "lstm_step/no_forget_gate": "lstm_step.no_forget_gate",
    "lstm_step/h_without_tanh": "lstm_step.h_without_tanh",
    "lstm_step/chunk_along_dim_0": "lstm_step.chunk_along_dim_0",
    "lstm_step/float32_cast": "lstm_step.float32_cast",
    "lstm_step/cell_updated_in_place": "lstm_step.cell_updated_in_place",
    "why_attention/mean_over_dim_0": "why_attention.mean_over_dim_0",
    "why_attention/float_comparison": "why_attention.float_comparison",
    "why_attention/tanh_applied_again": "why_attention.tanh_applied_again",
    "why_attention/product_in_the_wrong_order": "why_attention.product_in_the_wrong_order",
    "why_attention/W_hh_transposed": "why_attention.W_hh_transposed",
    "why_attention/computed_under_no_grad": "why_attention.no_gradient",
    "why_attention/slopes_in_place": "why_attention.slopes_in_place",
}
# Corpus files with no catalogue entry, and why.
UNCATALOGUED = {
    "dot_scores/uses_matmul": "right values: only the forbidden-call test can tell",
    "softmax/uses_torch_softmax": "right values: only the forbidden-call test can tell",
    "scaled_attention/uses_functional_sdpa": "right values: only the forbidden-call test can tell",
    "causal_attention/uses_functional_sdpa": "right values: only the forbidden-call test can tell",
    "multi_head_attention/uses_functional_sdpa": (
        "right values: only the forbidden-call test can tell"
    ),
    "attention_decoder/uses_rnn_tanh_cell": "right values: only the forbidden-call test can tell",
    "positional_encoding/frequencies_grow": (
        "angles in the thousands: float32 tables from different formulas differ beyond the "
        "detector's tolerance"
    ),
    "positional_encoding/table_dtype_leaks": (
        "only a float64 table with float32 embeddings shows it; the probes are all float64"
    ),
    "lstm_step/uses_lstm_cell": "right values: only the forbidden-call test can tell",
    "why_attention/eye_without_dtype": "raises on float64: no entry computes on the float64 probes",
}


@pytest.fixture(scope="module")
def references(course):
    return {e.id: load_reference(course, e) for e in course.exercises}


def with_mistake(reference, exercise, mistake):
    """The reference module's functions, with the mistake's function replaced by it."""
    module = SimpleNamespace(**{f: getattr(reference, f) for f in exercise.functions})
    setattr(module, mistake.function, mistake.implementation)
    return InProcessModule(module)


def load_corpus(path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"_corpus_{path.parent.name}_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Counting(ModuleProxy):
    """Counts the calls made to a proxy; raises `error` from call number `fail_at` on."""

    def __init__(self, inner: ModuleProxy, error: Exception | None = None, fail_at: int = 0):
        self.inner, self.error, self.fail_at, self.calls = inner, error, fail_at, 0

    def call(self, function, *args, **kwargs):
        self.calls += 1
        if self.error is not None and self.calls > self.fail_at:
            raise self.error
        return self.inner.call(function, *args, **kwargs)


# --- the catalogue ----------------------------------------------------------------------------


def test_the_catalogue_names_at_least_30_mistakes_of_real_functions(course):
    assert len(MISTAKES) >= 30
    assert len({m.id for m in MISTAKES}) == len(MISTAKES), "ids must be unique"
    for m in MISTAKES:
        exercise = course.exercise(m.exercise)
        assert m.function in exercise.functions, m.id
        assert m.id.startswith(f"{m.exercise}."), m.id
        assert m.kind in get_args(Kind), m.id
        assert m.name and len(m.name) <= 80, m.id
        assert 20 <= len(m.explanation) <= 300, m.id
        assert m.diagnosis().startswith(m.name)
        assert get(m.id) is m


def test_every_exercise_has_mistakes_and_probes_for_each_function(course):
    for exercise in course.exercises:
        for function in exercise.functions:
            assert mistakes_for(exercise.id, function), f"{exercise.id}.{function}: no mistakes"
            assert 1 <= len(probes_for(exercise.id, function)) <= 5, f"{exercise.id}.{function}"


def test_probes_are_float64(course):
    for exercise in course.exercises:
        for function in exercise.functions:
            for probe in probes_for(exercise.id, function):
                floats = [a for a in probe.args if torch.is_tensor(a) and a.is_floating_point()]
                assert all(a.dtype == torch.float64 for a in floats), function
                assert floats or all(type(a) is int for a in probe.args), function


# --- detection --------------------------------------------------------------------------------


def test_the_reference_matches_no_mistake(course, references):
    for exercise in course.exercises:
        reference = InProcessModule(references[exercise.id])
        for function in exercise.functions:
            assert matching(reference, exercise, function) == [], f"{exercise.id}.{function}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_each_mistake_is_diagnosed_as_itself(course, references, mistake):
    exercise = course.exercise(mistake.exercise)
    student = with_mistake(references[exercise.id], exercise, mistake)
    found = [m.id for m in matching(student, exercise, mistake.function)]
    assert set(found) <= {mistake.id} | EQUIVALENT.get(mistake.id, set()), found
    assert found[0] in {mistake.id} | EQUIVALENT.get(mistake.id, set()), found
    other = [f for f in exercise.functions if f != mistake.function]
    assert all(diagnose(student, exercise, f) is None for f in other)


def test_every_corpus_file_is_mapped_or_explained():
    files = {f"{p.parent.name}/{p.stem}" for p in CORPUS_DIR.glob("*/*.py")}
    assert files == set(CORPUS) | set(UNCATALOGUED)
    assert not set(CORPUS) & set(UNCATALOGUED)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_corpus_mistake_gets_its_diagnosis(course, name):
    mistake = get(CORPUS[name])
    exercise = course.exercise(name.split("/")[0])
    module = load_corpus(CORPUS_DIR / f"{name}.py")
    assert diagnose_module(module, exercise, mistake.function) == mistake
    assert diagnose_exercise(InProcessModule(module), exercise)[mistake.function] == mistake


@pytest.mark.parametrize("name", sorted(UNCATALOGUED))
def test_a_corpus_file_without_entry_gets_no_diagnosis(course, name):
    exercise = course.exercise(name.split("/")[0])
    assert (
        diagnose_exercise(InProcessModule(load_corpus(CORPUS_DIR / f"{name}.py")), exercise) == {}
    )


def test_a_module_object_is_diagnosed_in_process(course, references):
    exercise = course.exercise("softmax")
    module = types.ModuleType("ex03_softmax")
    module.softmax = get("softmax.ignores_dim").implementation
    assert diagnose_module(module, exercise, "softmax") == get("softmax.ignores_dim")
    assert diagnose_module(module, exercise) == get("softmax.ignores_dim")
    assert diagnose_module(references["softmax"], exercise) is None


# --- costs and failures -----------------------------------------------------------------------


def test_at_most_six_student_calls_per_function(course, references):
    for exercise in course.exercises:
        for function in exercise.functions:
            counting = Counting(InProcessModule(references[exercise.id]))
            diagnose(counting, exercise, function)
            assert counting.calls <= 6, f"{exercise.id}.{function}: {counting.calls} calls"


def test_a_stub_is_not_diagnosed(course):
    for exercise in course.exercises:
        module = load_corpus(course.exercises_dir / exercise.filename)
        assert diagnose_exercise(InProcessModule(module), exercise) == {}


@pytest.mark.parametrize(
    "error",
    [
        WorkerFailed("the worker died"),
        WorkerTimeout("too slow"),
        NotAttempted("softmax"),
        StudentRaised("softmax", "ValueError", "no"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_student_errors_give_no_diagnosis_and_never_propagate(course, references, error):
    exercise = course.exercise("softmax")
    wrong = with_mistake(references["softmax"], exercise, get("softmax.ignores_dim"))
    for fail_at in (0, 1):
        assert diagnose(Counting(wrong, error, fail_at), exercise, "softmax") is None


@pytest.mark.parametrize(
    "value",
    ["nope", None, (1, 2), [torch.zeros(3)], torch.zeros(3, dtype=torch.int64), torch.ones(())],
    ids=repr,
)
def test_odd_return_values_give_no_diagnosis(course, value):
    module = SimpleNamespace(
        scaled_dot_product_attention=lambda *args: value, self_attention=lambda *args: value
    )
    exercise = course.exercise("scaled_attention")
    assert diagnose_exercise(InProcessModule(module), exercise) == {}


def test_a_worker_failure_stops_the_whole_exercise(course, references):
    exercise = course.exercise("scaled_attention")
    wrong = with_mistake(references[exercise.id], exercise, get("scaled_attention.not_scaled"))
    counting = Counting(wrong, WorkerTimeout("too slow"), fail_at=0)
    assert diagnose_exercise(counting, exercise) == {}
    assert counting.calls == 1


def test_failed_tests_get_their_function_s_mistake(course, references):
    exercise = course.exercise("scaled_attention")
    not_scaled = get("scaled_attention.not_scaled")
    student = with_mistake(references[exercise.id], exercise, not_scaled)
    failed = [
        "test_leading_batch_dims[scaled_dot_product_attention]",
        "test_leading_batch_dims[self_attention]",  # self_attention calls the wrong function
        "test_mask_blocks_keys",
        "test_no_forbidden_calls",
    ]
    shown = diagnose_failures(student, exercise, failed)
    assert shown == {name: not_scaled for name in failed[:3]}


def test_a_mistake_is_not_shown_under_a_function_it_cannot_explain(course, references):
    exercise = course.exercise("bahdanau")
    mistake = get("bahdanau.context_sums_over_dim_0")
    student = with_mistake(references[exercise.id], exercise, mistake)
    failed = ["test_gradients[additive_scores]", "test_gradients[bahdanau_attention]"]
    assert diagnose_failures(student, exercise, failed) == {failed[1]: mistake}


def test_no_failed_test_means_no_student_call(course, references):
    exercise = course.exercise("softmax")
    counting = Counting(InProcessModule(references["softmax"]))
    assert diagnose_failures(counting, exercise, ["test_no_forbidden_calls"]) == {}
    assert counting.calls == 0


@pytest.fixture(scope="module")
def suites(course):
    return collect_suites(course)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda m: m.id)
def test_each_mistake_loses_points_and_is_named(course, references, suites, mistake):
    """Every catalogue entry, as a submission's function, fails a hidden test of its exercise,
    and the failure carries its diagnosis. (Only its own module changes, so no other exercise
    can be affected; tests/test_hidden_suites.py proves that on whole submissions.)"""
    exercise = course.exercise(mistake.exercise)
    student = with_mistake(references[exercise.id], exercise, mistake)
    context = SubmissionContext(
        course,
        {e.id: InProcessModule(references[e.id]) for e in course.exercises},
        lambda _: student,
        {
            exercise.module: ModuleSource(
                (course.solutions_dir / exercise.filename).read_text(), exercise.filename
            )
        },
    )
    outcomes = run_tests(suites, context, [exercise.id])
    failed = [
        o for o in diagnosed(outcomes, {exercise.id: student}, course, {}) if o.status == "failed"
    ]
    assert failed, "no hidden test catches this mistake"
    assert mistake.diagnosis() in {o.diagnosis for o in failed}

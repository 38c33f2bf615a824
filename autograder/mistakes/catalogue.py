"""The registry: every exercise's common mistakes, and the probes that tell them apart.

Within an exercise, mistakes are in the order the detector prefers them when several match:
specific ones first, then the contract's (dtype, in place, gradient).
"""

from __future__ import annotations

from types import ModuleType

from autograder.mistakes import (
    attention_decoder,
    bahdanau,
    causal_attention,
    context_vectors,
    dot_scores,
    lstm_step,
    multi_head_attention,
    normalization,
    positional_encoding,
    rnn_step,
    scaled_attention,
    softmax,
    why_attention,
)
from autograder.mistakes.base import Mistake, Probe

_MODULES: dict[str, ModuleType] = {
    module.EXERCISE: module
    for module in (
        dot_scores,
        normalization,
        softmax,
        context_vectors,
        rnn_step,
        bahdanau,
        scaled_attention,
        causal_attention,
        multi_head_attention,
        positional_encoding,
        lstm_step,
        attention_decoder,
        why_attention,
    )
}


def mistakes_for(exercise_id: str, function: str | None = None) -> list[Mistake]:
    """The exercise's mistakes in catalogue order (only `function`'s, if given)."""
    module = _MODULES.get(exercise_id)
    found = list(module.MISTAKES) if module else []
    return [m for m in found if function is None or m.function == function]


def probes_for(exercise_id: str, function: str) -> list[Probe]:
    """The fixed inputs `function` is called on to recognise its mistakes."""
    module = _MODULES.get(exercise_id)
    return list(module.PROBES.get(function, [])) if module else []


def all_mistakes() -> list[Mistake]:
    return [m for exercise_id in _MODULES for m in mistakes_for(exercise_id)]


def get(mistake_id: str) -> Mistake:
    """The mistake with this id; KeyError otherwise."""
    for found in all_mistakes():
        if found.id == mistake_id:
            return found
    raise KeyError(mistake_id)

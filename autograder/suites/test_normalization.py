"""Hidden suite for exercise 2, normalize(scores, dim=-1)."""

import pytest
import torch

from autograder.course import examples
from autograder.grading.verdict import (
    agrees,
    documents_tolerance,
    fail,
    gradients_agree,
    inputs_unchanged,
    same_tensor,
    tolerance_for,
)


def positive(*shape, dtype=torch.float64, seed=0):
    """Scores bounded away from 0, so that their sums are too."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=generator, dtype=dtype) + 0.5


def mixed_signs(rows: int, cols: int, seed: int) -> torch.Tensor:
    """Scores of both signs whose row sums stay at least 0.5 away from 0: the first score of
    each row negated (cols >= 5, so the others outweigh it), then the whole second row."""
    scores = positive(rows, cols, seed=seed)
    scores[:, 0] *= -1
    scores[1] *= -1
    return scores


def test_documents_example(student, exercise_config):
    weights = student.normalize(examples.tensor(examples.SCORES_2))
    expected = examples.tensor(examples.NORMALIZED_2)
    same_tensor(weights, expected, documents_tolerance(exercise_config), "the scores of x²")


@pytest.mark.parametrize("shape", [(7,), (3, 7), (2, 3, 7)])
def test_batch_dims(student, reference, exercise_config, shape):
    agrees(
        student,
        reference,
        exercise_config,
        "normalize",
        positive(*shape, seed=len(shape)),
        what=f"wrong result on an input of shape {shape}",
    )


@pytest.mark.parametrize("dim", [0, 1, -2])
def test_dim_argument(student, reference, exercise_config, dim):
    agrees(
        student,
        reference,
        exercise_config,
        "normalize",
        positive(4, 5, 6, seed=dim),
        dim=dim,
        what=f"wrong result along dim={dim} of a (4, 5, 6) input",
    )


def test_negative_scores(student, reference, exercise_config):
    """Dividing by the sum of magnitudes (`F.normalize(p=1)`) is right only for positive scores."""
    agrees(
        student,
        reference,
        exercise_config,
        "normalize",
        mixed_signs(3, 5, seed=5),
        what="wrong result on a (3, 5) input with negative scores, one row summing below 0",
    )


def test_float32_kept(student, reference, exercise_config):
    agrees(
        student,
        reference,
        exercise_config,
        "normalize",
        positive(3, 5, dtype=torch.float32),
        what="wrong result on a float32 input of shape (3, 5)",
    )


def test_gradients(student, reference, exercise_config):
    gradients_agree(
        student,
        reference,
        exercise_config,
        "normalize",
        [positive(3, 5)],
        seed=1,
        what="normalize of a (3, 5) input",
    )


def test_inputs_unchanged(student, reference):
    inputs_unchanged(
        student, reference, "normalize", positive(3, 5), what="normalize of a (3, 5) input"
    )


def test_scaled_scores_give_the_same_weights(student, exercise_config):
    scores = positive(2, 4)
    first, second = student.normalize(scores), student.normalize(scores * 2)
    if not isinstance(first, torch.Tensor):
        fail("normalize of a float64 input of shape (2, 4): did not return a torch.Tensor")
    same_tensor(
        second,
        first,
        tolerance_for(exercise_config, torch.float64),
        "normalize of float64 scores of shape (2, 4) times 2, compared with the scores themselves",
    )

"""Common mistakes in exercise 13: accuracy_by_position(logits, targets) and
gradient_norms_through_time(hs, W_hh)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "why_attention"
ACCURACY, NORMS = "accuracy_by_position", "gradient_norms_through_time"
accuracy_mistake = partial(mistake, EXERCISE, ACCURACY)
norms_mistake = partial(mistake, EXERCISE, NORMS)


def accuracy_by_position(logits, targets):
    correct = (logits.argmax(dim=-1) == targets).to(logits.dtype)
    return correct.reshape(-1, correct.shape[-1]).mean(dim=0)


def accuracy_per_sequence(logits, targets):
    return (logits.argmax(dim=-1) == targets).to(logits.dtype).mean(dim=-1)


def mean_over_dim_0(logits, targets):
    return (logits.argmax(dim=-1) == targets).to(logits.dtype).mean(dim=0)


def argmax_over_dim_1(logits, targets):
    correct = (logits.argmax(dim=1) == targets).to(logits.dtype)
    return correct.reshape(-1, correct.shape[-1]).mean(dim=0)


def counts_not_fractions(logits, targets):
    correct = (logits.argmax(dim=-1) == targets).to(logits.dtype)
    return correct.reshape(-1, correct.shape[-1]).sum(dim=0)


def float_comparison(logits, targets):
    correct = (logits.argmax(dim=-1) == targets).float()
    return correct.reshape(-1, correct.shape[-1]).mean(dim=0)


def walk_back(hs, W_hh, step, *, first=1, order="fro", left=True):
    """For every t, the norm of the product of `step(t + first)`, ..., `step(T - 1)`, each new
    step multiplied on the left (or the right)."""
    d_h = hs.shape[-1]
    jacobian = torch.eye(d_h, dtype=hs.dtype).expand(*hs.shape[:-2], d_h, d_h)
    norms = []
    for t in range(hs.shape[-2] - 1, -1, -1):
        if t + first < hs.shape[-2]:
            M = step(t + first)
            jacobian = M @ jacobian if left else jacobian @ M
        norms.append(torch.linalg.matrix_norm(jacobian, ord=order))
    return torch.stack(norms[::-1], dim=-1)


def slope(h):
    """diag(1 - h²) as a row to multiply W_hh's columns by."""
    return (1 - h**2).unsqueeze(-2)


def gradient_norms_through_time(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(hs[..., t, :]))


def tanh_applied_again(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(torch.tanh(hs[..., t, :])))


def no_tanh_slope(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh)


def slope_of_the_earlier_state(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(hs[..., t - 1, :]))


def product_in_the_wrong_order(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(hs[..., t, :]), left=False)


def W_hh_transposed(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh.mT * slope(hs[..., t, :]))


def slope_on_the_rows(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: slope(hs[..., t, :]).mT * W_hh)


def one_step_too_many(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(hs[..., t, :]), first=0)


def indexed_by_distance(hs, W_hh):
    return gradient_norms_through_time(hs, W_hh).flip(-1)


def spectral_norm(hs, W_hh):
    return walk_back(hs, W_hh, lambda t: W_hh * slope(hs[..., t, :]), order=2)


def slopes_in_place(hs, W_hh):
    slopes = hs.mul_(hs).neg_().add_(1)  # 1 - h², in hs's own memory
    return walk_back(slopes, W_hh, lambda t: W_hh * slopes[..., t, :].unsqueeze(-2))


STEP = "a change δ of h_{t-1} moves h_t by δ M_t, with M_t = W_hh diag(1 - h_t²)"
MISTAKES = [
    accuracy_mistake(
        accuracy_per_sequence,
        "averaged over the positions instead of the sequences",
        "`.mean(dim=-1)` gives each sequence's accuracy. The result has one number per "
        "position, averaged over every sequence: flatten the leading dims, then mean over them.",
    ),
    accuracy_mistake(
        mean_over_dim_0,
        "averaged over dim 0 only",
        "`.mean(dim=0)` is right for one batch dim only: with none it averages the positions, "
        "with two it leaves one. Average over every dim but the last, e.g. "
        "`correct.reshape(-1, T).mean(dim=0)`.",
    ),
    accuracy_mistake(
        argmax_over_dim_1,
        "argmax over dim 1 instead of the vocabulary",
        "cross_entropy wants (batch, vocab, T), but these logits are (..., T, vocab): the "
        "prediction at each position is `logits.argmax(dim=-1)`.",
    ),
    accuracy_mistake(
        counts_not_fractions,
        "counts instead of fractions",
        "Summing the correct predictions counts them; the accuracy divides by the number of "
        "sequences: take the mean, not the sum.",
    ),
    accuracy_mistake(
        float_comparison,
        "the result is float32 for float64 logits",
        "`.float()` on the comparison makes the result float32 whatever the logits are. Convert "
        "to the logits' dtype instead: `(predicted == targets).to(logits.dtype)`.",
        kind="dtype",
    ),
    norms_mistake(
        tanh_applied_again,
        "tanh applied to states that already went through it",
        "hs holds h_t = tanh(a_t), so tanh'(a_t) = 1 - h_t², read off the state as it is; "
        "1 - tanh(h_t)² applies tanh a second time.",
    ),
    norms_mistake(
        no_tanh_slope,
        "the tanh slope is left out",
        f"Without diag(1 - h²) this is a linear RNN, powers of W_hh. Each step is tanh's: {STEP}.",
    ),
    norms_mistake(
        slope_of_the_earlier_state,
        "the slope comes from the state before the step",
        f"A step has the slope of the state it produces: {STEP}. So walking back from "
        "h_{t+1} to h_t uses 1 - h_{t+1}², not 1 - h_t².",
    ),
    norms_mistake(
        product_in_the_wrong_order,
        "the steps are multiplied in the wrong order",
        "With row vectors δh_last = δh_t M_{t+1} ⋯ M_last: the step nearest t comes first, so a "
        "new step goes on the left, `jacobian = step @ jacobian`.",
    ),
    norms_mistake(
        W_hh_transposed,
        "W_hh transposed",
        "In the row convention of exercise 5, h_t = tanh(x_t W_xh + h_{t-1} W_hh + b), so "
        f"{STEP}; W_hhᵀ belongs to the column-vector form.",
    ),
    norms_mistake(
        slope_on_the_rows,
        "diag(1 - h²) multiplies the rows of W_hh",
        "diag(1 - h²) W_hh scales W_hh's rows. In the row convention the slope scales the "
        f"columns, W_hh diag(1 - h²) = `W_hh * (1 - h**2)[..., None, :]`: {STEP}.",
    ),
    norms_mistake(
        one_step_too_many,
        "one step too many: each entry includes the step into h_t",
        "Entry t measures how h_t itself moves the last state: the steps after t only, so the "
        "last entry is the identity's norm √d_h.",
    ),
    norms_mistake(
        indexed_by_distance,
        "indexed by distance instead of by time step",
        "Entry t belongs to the state hs[..., t, :], so the norms grow towards the end and the "
        "last entry is √d_h; entry 0 is the farthest state, not the nearest.",
    ),
    norms_mistake(
        spectral_norm,
        "the spectral norm instead of the Frobenius norm",
        "The Frobenius norm is the square root of the sum of all the squared entries, "
        "`torch.linalg.matrix_norm(J)`; ord=2 gives the largest singular value.",
    ),
    float32_cast(EXERCISE, NORMS, gradient_norms_through_time, "float32_cast"),
    norms_mistake(
        slopes_in_place,
        "hs is changed in place",
        "`hs.mul_(hs)` (or `**=`, `.add_`) overwrites the caller's states with 1 - h². Compute "
        "new tensors: `1 - hs**2`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, NORMS, gradient_norms_through_time, "no_gradient"),
]


def _accuracy(batch, length, vocab, *, seed):
    """Logits, and targets that match their argmax except at some positions of some items."""
    logits = normal(*batch, length, vocab, seed=seed)
    predicted = logits.argmax(dim=-1)
    miss = normal(*batch, length, seed=seed + 1) > 0.3
    return Probe((logits, torch.where(miss, (predicted + 1) % vocab, predicted)))


def _norms(batch, length, d_h, *, seed, scale=0.9):
    hs = torch.tanh(normal(*batch, length, d_h, seed=seed))
    return Probe((hs, normal(d_h, d_h, seed=seed + 1, scale=scale)))


PROBES = {
    ACCURACY: [
        _accuracy((), 4, 5, seed=1),
        _accuracy((3,), 4, 4, seed=2),  # T == vocab: an argmax over dim 1 computes, wrongly
        _accuracy((2, 3), 5, 3, seed=3),
    ],
    NORMS: [
        _norms((), 5, 3, seed=10),
        _norms((2,), 4, 3, seed=20, scale=1.5),
    ],
}

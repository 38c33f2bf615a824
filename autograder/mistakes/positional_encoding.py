"""Common mistakes in exercise 10: sinusoidal_positions(n, d) and add_positions(X, P)."""

from functools import partial

import torch

from autograder.course.examples import normal
from autograder.mistakes.base import Probe, float32_cast, mistake, no_gradient

EXERCISE = "positional_encoding"
TABLE, ADD = "sinusoidal_positions", "add_positions"
table_mistake = partial(mistake, EXERCISE, TABLE)
add_mistake = partial(mistake, EXERCISE, ADD)


def table(n, d, *, base=10000.0, first=0, exponent=None, sine_on_even=True):
    """The table with one part of the formula replaceable; `exponent(feature)` gives 2i."""
    feature = torch.arange(d)
    power = feature - feature % 2 if exponent is None else exponent(feature)
    angles = torch.arange(first, first + n).unsqueeze(-1) / base ** (power / d)
    even = feature % 2 == 0
    return torch.where(even if sine_on_even else ~even, torch.sin(angles), torch.cos(angles))


def add_positions(X, P):
    return X + P[: X.shape[-2]].to(X.dtype)


def sin_cos_swapped(n, d):
    return table(n, d, sine_on_even=False)


def exponent_per_feature(n, d):
    return table(n, d, exponent=lambda feature: feature)


def exponent_without_2(n, d):
    return table(n, d, exponent=lambda feature: feature // 2)


def base_1000(n, d):
    return table(n, d, base=1000.0)


def positions_from_one(n, d):
    return table(n, d, first=1)


def halves_concatenated(n, d):
    pairs = torch.arange(0, d, 2)  # 2i, one per pair
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (pairs / d)
    return torch.cat([torch.sin(angles), torch.cos(angles[:, : d // 2])], dim=-1)


def odd_d_fails(n, d):
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (torch.arange(0, d, 2) / d)
    P = torch.zeros(n, d)
    P[:, 0::2] = torch.sin(angles)
    P[:, 1::2] = torch.cos(angles)
    return P


def table_float64(n, d):
    return table(n, d).double()


def uses_all_rows(X, P):
    return X + P.to(X.dtype)


def rows_from_dim_0(X, P):
    return X + P[: X.shape[0]].to(X.dtype)


def concatenated(X, P):
    rows = P[: X.shape[-2]].to(X.dtype)
    return torch.cat([X, rows.expand(*X.shape[:-1], rows.shape[-1])], dim=-1)


def adds_in_place(X, P):
    X += P[: X.shape[-2]].to(X.dtype)
    return X


FORMULA = "P[pos, 2i] = sin(pos / 10000^(2i/d)), P[pos, 2i+1] = cos(pos / 10000^(2i/d))"
MISTAKES = [
    table_mistake(
        sin_cos_swapped,
        "sine and cosine swapped",
        f"The even features (0, 2, 4, ...) take the sine and the odd ones the cosine: {FORMULA}.",
    ),
    table_mistake(
        exponent_per_feature,
        "the exponent uses the feature index, not 2i",
        "Features 2i and 2i + 1 form a pair with one frequency: the exponent is 2i/d for both, "
        f"so a cosine feature uses its pair's even index, not its own. {FORMULA}.",
    ),
    table_mistake(
        exponent_without_2,
        "the exponent is i/d instead of 2i/d",
        "For pair i (features 2i and 2i + 1) the exponent is 2i/d, so the frequencies run from "
        f"1 down to about 1/10000 across the features. {FORMULA}.",
    ),
    table_mistake(
        base_1000,
        "base 1000 instead of 10000",
        f"The Transformer's wavelengths grow geometrically up to 10000 · 2π: {FORMULA}.",
    ),
    table_mistake(
        positions_from_one,
        "positions start at 1",
        "The first token is at position 0, so the first row of P is sin(0) = 0 and cos(0) = 1, "
        "alternating: `torch.arange(n)`.",
    ),
    table_mistake(
        halves_concatenated,
        "a block of sines, then a block of cosines",
        "Concatenating all sines before all cosines is another (equally usable) layout, but this "
        f"exercise interleaves them: even features sines, odd features cosines. {FORMULA}.",
    ),
    table_mistake(
        odd_d_fails,
        "fails when d is odd",
        "For odd d there is one more sine feature (0, 2, ..., d - 1) than cosine features "
        "(1, 3, ..., d - 2). Give the odd features only the first d // 2 angles.",
    ),
    table_mistake(
        table_float64,
        "the table is float64",
        "sinusoidal_positions returns float32, the default dtype of PyTorch's tensors. Build it "
        "from `torch.arange` without `dtype=torch.float64`, or convert it with `.float()`.",
        kind="dtype",
    ),
    add_mistake(
        uses_all_rows,
        "adds every row of P, not the first n",
        "P may be built for a longer sequence than X. Add only its first n rows, "
        "`P[:X.shape[-2]]`, with n the number of tokens.",
    ),
    add_mistake(
        rows_from_dim_0,
        "n is taken from dim 0 of X",
        "With batch dims, `X.shape[0]` is the batch size. The tokens are on dim -2: "
        "`P[:X.shape[-2]]`.",
    ),
    add_mistake(
        concatenated,
        "the positions are concatenated, not added",
        "The Transformer adds the position vector to the embedding: X + P[:n], of X's shape "
        "(..., n, d). Concatenating doubles the width, which the next layer does not expect.",
    ),
    float32_cast(EXERCISE, ADD, add_positions, "float32_cast"),
    add_mistake(
        adds_in_place,
        "X is changed in place",
        "`X += ...` changes the caller's embeddings, and fails on a tensor that requires a "
        "gradient. Return a new tensor: `X + P[:n].to(X.dtype)`.",
        kind="in_place",
    ),
    no_gradient(EXERCISE, ADD, add_positions, "no_gradient"),
]

PROBES = {
    # No tensors in, only the table's size: an even and an odd d. Few positions keep the angles
    # small, so that float32 tables computed by different formulas agree within the detector's
    # tolerance (angles in the thousands, as with frequencies that grow, would not).
    TABLE: [Probe((4, 6)), Probe((3, 7))],
    ADD: [
        Probe((normal(5, 4, seed=1), normal(8, 4, seed=2))),  # a longer table
        Probe((normal(2, 5, 4, seed=3), normal(5, 4, seed=4))),  # batched, exactly n rows
    ],
}

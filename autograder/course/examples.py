"""The course's example tensors, shared by the public tests, the hidden suites and the notebooks.

The sentence, its embeddings and the printed values come from the course documents, which print
four decimals (compare with `documents_atol` from course.toml). The RNN, Bahdanau, LSTM and
decoder exercises have formulas but no numbers in the documents: their inputs are small
deterministic tensors with unequal sizes (d_in != d_h, d_dec != d_enc), so that a transposed
weight cannot give the right shape by accident, and their expected values were printed by the
reference solutions (a project test keeps them in step).

Every example is made afresh, float32: callers may modify what they get. `normal` makes seeded
random tensors (float64 by default) for the hidden suites and the mistake catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

TOKENS = ("Your", "journey", "starts", "with", "one", "step")
QUERY_INDEX = 1  # "journey", the query x² of the documents' running example

_EMBEDDINGS = (
    (0.43, 0.15, 0.89),  # Your     (x¹)
    (0.55, 0.87, 0.66),  # journey  (x²)
    (0.57, 0.85, 0.64),  # starts   (x³)
    (0.22, 0.58, 0.33),  # with     (x⁴)
    (0.77, 0.25, 0.10),  # one      (x⁵)
    (0.05, 0.80, 0.55),  # step     (x⁶)
)

# Values the documents print for the query x² ("journey").
SCORES_2 = (0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865)
NORMALIZED_2 = (0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656)
SOFTMAX_2 = (0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581)
CONTEXT_2 = (0.4419, 0.6515, 0.5683)

# Scaled attention with torch.manual_seed(123), then W_query, W_key, W_value = torch.rand(3, 2).
QKV_SEED = 123
QKV_QUERY_2 = (0.4306, 1.4551)
QKV_SCORES_2 = (1.2705, 1.8524, 1.8111, 1.0795, 0.5577, 1.5440)
QKV_WEIGHTS_2 = (0.1500, 0.2264, 0.2199, 0.1311, 0.0906, 0.1820)
QKV_CONTEXT_2 = (0.3061, 0.8210)


def tensor(values: tuple) -> Tensor:
    """A fresh float32 tensor of printed values."""
    return torch.tensor(values, dtype=torch.float32)


def inputs() -> Tensor:
    """The 6 × 3 embeddings of "Your journey starts with one step", one row per token."""
    return tensor(_EMBEDDINGS)


def qkv_weights() -> tuple[Tensor, Tensor, Tensor]:
    """W_query, W_key, W_value (each 3 × 2), drawn as the documents draw them."""
    generator = torch.Generator().manual_seed(QKV_SEED)
    return tuple(torch.rand(3, 2, generator=generator) for _ in range(3))  # type: ignore[return-value]


def _grid(rows: int, cols: int, start: float, stop: float) -> Tensor:
    return torch.linspace(start, stop, rows * cols).reshape(rows, cols)


@dataclass(frozen=True)
class RNNExample:
    """A 5-step sequence of 3-d inputs read by an RNN with 4 hidden units and 2 outputs."""

    xs: Tensor
    h0: Tensor
    W_xh: Tensor
    W_hh: Tensor
    b_h: Tensor
    W_hy: Tensor
    b_y: Tensor

    @property
    def weights(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(W_xh, W_hh, b_h, W_hy, b_y), in the order the exercise's functions take them."""
        return self.W_xh, self.W_hh, self.b_h, self.W_hy, self.b_y


def rnn_example() -> RNNExample:
    return RNNExample(
        xs=_grid(5, 3, -1.0, 1.0),
        h0=torch.linspace(-0.5, 0.5, 4),
        W_xh=_grid(3, 4, -0.8, 0.9),
        W_hh=_grid(4, 4, -0.6, 0.5),
        b_h=torch.linspace(-0.1, 0.2, 4),
        W_hy=_grid(4, 2, -0.7, 0.6),
        b_y=torch.tensor([0.05, -0.05]),
    )


# The reference's outputs on rnn_example(): the first step, and the whole sequence.
RNN_H_1 = (0.7751, 0.6265, 0.4122, 0.1399)
RNN_Y_1 = (-0.6228, -0.3600)
RNN_H_LAST = (-0.0343, 0.4835, 0.7966, 0.9290)
RNN_YS = (
    (-0.6228, -0.3600),
    (0.2655, -0.0134),
    (-0.0863, 0.0543),
    (0.5540, 0.6171),
    (0.3341, 0.6380),
)


@dataclass(frozen=True)
class BahdanauExample:
    """A 2-d decoder state attending over 5 encoder states of size 3, in a 4-d attention space."""

    s: Tensor
    H: Tensor
    W1: Tensor
    W2: Tensor
    v: Tensor

    @property
    def args(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(s, H, W1, W2, v), in the order the exercise's functions take them."""
        return self.s, self.H, self.W1, self.W2, self.v


def bahdanau_example() -> BahdanauExample:
    return BahdanauExample(
        s=torch.tensor([0.3, -0.6]),
        H=_grid(5, 3, -0.9, 1.0),
        W1=_grid(2, 4, -0.5, 0.7),
        W2=_grid(3, 4, 0.6, -0.8),
        v=torch.linspace(-1.0, 1.2, 4),
    )


# The reference's outputs on bahdanau_example().
BAHDANAU_SCORES = (0.7127, 0.1313, -0.3860, -0.7875, -1.0818)
BAHDANAU_WEIGHTS = (0.4383, 0.2450, 0.1461, 0.0978, 0.0728)
BAHDANAU_CONTEXT = (-0.4432, -0.3075, -0.1718)


@dataclass(frozen=True)
class LSTMExample:
    """One step of an LSTM cell with 3 inputs and 4 hidden units (its gates are 16 wide), the
    forget gate's bias raised by 1, a common initialisation that starts out remembering."""

    x_t: Tensor
    h_prev: Tensor
    c_prev: Tensor
    W_x: Tensor
    W_h: Tensor
    b: Tensor

    @property
    def args(self) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
        """(x_t, h_prev, c_prev, W_x, W_h, b), in the order `lstm_step` takes them."""
        return self.x_t, self.h_prev, self.c_prev, self.W_x, self.W_h, self.b


def lstm_example() -> LSTMExample:
    b = torch.linspace(-0.2, 0.3, 16)
    b[4:8] += 1.0  # the forget gate's block
    return LSTMExample(
        x_t=torch.tensor([0.5, -1.0, 0.8]),
        h_prev=torch.linspace(-0.5, 0.5, 4),
        c_prev=torch.linspace(1.0, -1.0, 4),
        W_x=_grid(16, 3, -0.8, 0.9).T,
        W_h=_grid(4, 16, 0.6, -0.6),
        b=b,
    )


# The reference's outputs on lstm_example().
LSTM_H_1 = (0.2065, 0.0501, -0.1391, -0.3100)
LSTM_C_1 = (0.4760, 0.1043, -0.2863, -0.6954)


DECODER_SEED = 177
DECODER_SHAPES = {
    "W_s": (4, 5),
    "W_h": (3, 5),
    "v": (5,),
    "W_y": (2, 4),
    "W_ss": (4, 4),
    "W_c": (3, 4),
    "b_s": (4,),
    "W_out": (4, 7),
    "b_out": (7,),
}


def decoder_example() -> tuple[Tensor, Tensor, Tensor, dict[str, Tensor]]:
    """(y_prev, s_prev, H, params) for one attention decoder step: the encoder states H are the
    sentence's six embeddings (d_enc = 3); the decoder has d_y = 2, d_dec = 4, d_attn = 5 and a
    vocabulary of 7, its tensors drawn from torch.Generator().manual_seed(DECODER_SEED)."""
    generator = torch.Generator().manual_seed(DECODER_SEED)
    y_prev, s_prev = torch.randn(2, generator=generator), torch.randn(4, generator=generator)
    params = {
        name: torch.randn(*shape, generator=generator) for name, shape in DECODER_SHAPES.items()
    }
    return y_prev, s_prev, inputs(), params


# The reference's outputs on decoder_example().
DECODER_WEIGHTS = (0.0729, 0.1589, 0.1507, 0.2041, 0.0730, 0.3404)
DECODER_CONTEXT = (0.3228, 0.6862, 0.5281)
DECODER_S_T = (0.5248, 0.6152, -0.2290, -0.1556)
DECODER_LOGITS = (-1.9944, -0.0934, -0.6981, -0.2802, 1.7917, 1.4886, 2.0009)


def normal(
    *shape: int, seed: int, dtype: torch.dtype = torch.float64, scale: float = 1.0
) -> Tensor:
    """Seeded standard-normal entries times `scale`: the same tensor on every run (the hidden
    suites' random inputs, the mistake catalogue's probes)."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=generator, dtype=dtype) * scale

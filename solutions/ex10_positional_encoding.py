"""Exercise 10: sinusoidal positional encoding.

Self-attention has no sense of order. Every token is compared with every other by the same dot
products, so permuting the tokens only permutes the outputs: the context vector of "dog" is the
same in "dog bites man" and "man bites dog". It is permutation-equivariant. An RNN knows the
order because it reads one token after another; attention reads them all at once and must be
told where each token stands.

The Transformer tells it by adding a position vector to each token's embedding before the first
layer. Position pos gets a row of an n × d table P: features come in pairs (2i, 2i + 1) that
share one frequency, a sine on the even feature and a cosine on the odd one,

    P[pos, 2i]     = sin(pos / 10000^(2i/d))
    P[pos, 2i + 1] = cos(pos / 10000^(2i/d)).

Pair i turns by 10000^(-2i/d) radians per position, like the hands of a clock: the first pair
by one radian, each later pair more slowly. Only when d is large do the last pairs barely move:
for d = 512 the last one turns by about 0.1 radian over 1,000 positions. Why sinusoids?

- every position gets its own pattern, and the table can be built for any length;
- the values stay in [-1, 1]: they do not grow with the position. Whether they drown the
  embeddings they are added to depends on the embeddings' scale. The sentence's 3-d embeddings
  are about as long as the position vectors, so "with", [0.22, 0.58, 0.33], becomes
  [0.36, -0.41, 0.34] at position 3. The Transformer multiplies its embeddings by √d_model
  before adding the positions, to keep the two in proportion;
- the encoding of pos + k is a fixed rotation of that of pos, the same for every pos (each
  (sin, cos) pair is a point on a circle, and moving k steps turns it by a fixed angle), so
  relative offsets are easy for the projections W_q and W_k to pick up.

The exponent uses 2i, the index of the pair's first feature, so both features of a pair share
a frequency. When d is odd the last pair has no cosine: the final feature is a sine.

The course documents describe the alternative: a learned table of N position vectors, trained
with the rest of the model. It works as well in practice (GPT-2 and BERT learn theirs), but
cannot go beyond the N positions it was trained on; newer models often encode relative positions
inside attention instead (rotary embeddings rotate queries and keys by these same angles).

A table is usually built once for the longest sequence and sliced: `add_positions` adds the
first n rows of P to a sequence of n tokens, in the embeddings' dtype. The table need not share
that dtype (this exercise's is float32; one built elsewhere may be float64), and adding tensors
of two dtypes gives the wider one: float32 embeddings plus a float64 table would come back as
float64.

Shapes: sinusoidal_positions(n, d) -> P (n, d), float32.
add_positions: X (..., n, d), P (max_len, d) with max_len >= n -> (..., n, d), X's dtype.
"""

import torch
from torch import Tensor


def sinusoidal_positions(n: int, d: int) -> Tensor:
    """The n × d table of sines (even features) and cosines (odd features), float32."""
    ### BEGIN SOLUTION
    # Hint: features 2i and 2i + 1 share the angle pos / 10000 ** (2i / d): sin even, cos odd.
    feature = torch.arange(d)
    pair_start = feature - feature % 2  # 2i, for feature 2i and for feature 2i + 1
    angles = torch.arange(n).unsqueeze(-1) / 10000 ** (pair_start / d)  # (n, d)
    return torch.where(feature % 2 == 0, torch.sin(angles), torch.cos(angles))
    ### END SOLUTION


def add_positions(X: Tensor, P: Tensor) -> Tensor:
    """X plus the first n = X.shape[-2] rows of the table P, in X's dtype."""
    ### BEGIN SOLUTION
    # Hint: P may be longer than the sequence, and of another dtype: which rows, in which dtype?
    return X + P[: X.shape[-2]].to(X.dtype)
    ### END SOLUTION

"""Exercise 1: dot-product attention scores.

Attention starts by asking, for one token (the *query*), how much every token of the sequence
has to do with it. The simplest measure is the dot product of two embeddings,

    a · b = a_1 b_1 + a_2 b_2 + ... + a_d b_d,

a single number, equal to ‖a‖ ‖b‖ cos θ with θ the angle between them: it is large when the
vectors point the same way, and also when they are long (doubling a doubles it). Exercise 7
comes back to this: vectors with more dimensions tend to be longer, and their scores larger.

For the six 3-d embeddings of "Your journey starts with one step", the scores of the query x²
("journey") against every token are

    ω_2 = [x² · x¹, x² · x², ..., x² · x⁶] = [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865],

and doing this for every query at once gives the n × n matrix ω with ω_ij = xⁱ · xʲ.

Here you write the dot product itself, as an elementwise product followed by a sum over the last
dimension, and let broadcasting do the looping. Every function accepts any number of leading
batch dimensions: a batch of sequences of shape (batch, n, d) gives scores of shape (batch, n, n).

Shapes: a, b (..., d) -> (...);  query (..., d), inputs (..., n, d) -> (..., n);
inputs (..., n, d) -> (..., n, n).

Not allowed in this exercise (a check looks for them): torch.dot, torch.inner, torch.vdot,
torch.matmul, torch.mm, torch.bmm, torch.mv, torch.einsum, torch.tensordot, the @ operator; nor
eval, exec, compile, __import__, importlib, vars, globals, __dict__ or getattr with a computed name,
which could reach them.
"""

from torch import Tensor


def dot(a: Tensor, b: Tensor) -> Tensor:
    """The dot product of `a` and `b` over their last dimension: (..., d), (..., d) -> (...)."""
    raise NotImplementedError("Hint: multiply elementwise, then sum over the last dimension.")


def attention_scores(query: Tensor, inputs: Tensor) -> Tensor:
    """The score of `query` against each row of `inputs`: (..., d), (..., n, d) -> (..., n)."""
    raise NotImplementedError("Hint: give the query a length-1 sequence dimension so it broadcasts against all n inputs.")


def all_attention_scores(inputs: Tensor) -> Tensor:
    """Every token's score against every token, ω_ij = xⁱ · xʲ: (..., n, d) -> (..., n, n)."""
    raise NotImplementedError("Hint: row i of the result is attention_scores(xⁱ, inputs); unsqueeze so both axes broadcast.")

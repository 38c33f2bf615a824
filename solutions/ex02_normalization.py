"""Exercise 2: normalising scores by their sum.

Raw scores have no common scale: 1.4950 means little until you see the other scores of the same
query. Dividing each score by the sum of the scores of its query turns them into weights that add
up to 1, which can be read as "what share of the attention goes where":

    α_2i = ω_2i / Σ_j ω_2j,

so the scores of x² become [0.1455, 0.2278, 0.2249, 0.1285, 0.1077, 0.1656].

This is the most direct normalisation, and it has real flaws: a negative score gives a negative
"weight", scores that sum to zero divide by zero, and the weights depend on where the scores sit,
not only on how far apart they are. Add the same constant to every score and the weights change:

    normalize([1, 2]) = [0.3333, 0.6667],   normalize([1000, 1001]) = [0.4998, 0.5002].

Softmax (the next exercise) has none of these flaws. In particular it ignores such a shift, and
gives [0.2689, 0.7311] for both pairs. That is why attention uses softmax; this exercise shows
what it improves on. (One of the course documents says the opposite, that plain division
handles extreme values better: it does not.)

`dim` says which dimension holds the scores of one query; the others are batch dimensions.
Shapes: scores (...) -> the same shape, summing to 1 along `dim`.
"""

from torch import Tensor


def normalize(scores: Tensor, dim: int = -1) -> Tensor:
    """Divide `scores` by their sum along `dim`."""
    ### BEGIN SOLUTION
    # Hint: keep the summed dimension (keepdim=True) so the division broadcasts.
    return scores / scores.sum(dim=dim, keepdim=True)
    ### END SOLUTION

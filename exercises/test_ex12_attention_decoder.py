"""Public checks for exercise 12, the attention decoder step:
`pytest exercises/test_ex12_attention_decoder.py`."""

import torch

from autograder.course import examples
from autograder.student.checks import expect_close, expect_no_forbidden_calls, expect_tensor

# The encoder states are the six embeddings of "Your journey starts with one step" (d_enc = 3);
# the decoder has d_y = 2, d_dec = 4, d_attn = 5 and a vocabulary of 7. The values below were
# printed by the reference solution.
SEED = 177
SHAPES = {
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
S_T = (0.5248, 0.6152, -0.2290, -0.1556)
CONTEXT = (0.3228, 0.6862, 0.5281)
WEIGHTS = (0.0729, 0.1589, 0.1507, 0.2041, 0.0730, 0.3404)
LOGITS = (-1.9944, -0.0934, -0.6981, -0.2802, 1.7917, 1.4886, 2.0009)


def example():
    """(y_prev, s_prev, H, params), drawn from torch.Generator().manual_seed(177)."""
    generator = torch.Generator().manual_seed(SEED)
    y_prev, s_prev = torch.randn(2, generator=generator), torch.randn(4, generator=generator)
    params = {name: torch.randn(*shape, generator=generator) for name, shape in SHAPES.items()}
    return y_prev, s_prev, examples.inputs(), params


def test_one_step_over_the_sentence(exercise, exercise_config):
    s_t, context, weights, logits = exercise.attention_decoder_step(*example())
    atol = exercise_config.documents_atol
    expect_close(
        weights,
        WEIGHTS,
        "the weights over the 6 tokens",
        atol,
        hint="softmax over n of v · tanh(s_prev W_s + h_j W_h)",
    )
    expect_close(context, CONTEXT, "the context", atol, hint="Σ_j weights_j h_j, of size d_enc")
    expect_close(
        s_t,
        S_T,
        "the new state s_t",
        atol,
        hint="tanh(y_prev W_y + s_prev W_ss + context W_c + b_s)",
    )
    expect_close(logits, LOGITS, "the logits", atol, hint="s_t W_out + b_out, read off s_t")


def test_a_batch_of_three_decoders(exercise, exercise_config):
    y_prev, s_prev, H, params = example()
    s_t, context, weights, logits = exercise.attention_decoder_step(
        y_prev.expand(3, 2), s_prev.expand(3, 4), H.expand(3, 6, 3), params
    )
    expect_tensor(s_t, (3, 4), "s_t for a batch of 3", hint="(..., d_dec)")
    expect_tensor(context, (3, 3), "the context for a batch of 3", hint="(..., d_enc)")
    expect_tensor(weights, (3, 6), "the weights for a batch of 3", hint="(..., n)")
    expect_tensor(logits, (3, 7), "the logits for a batch of 3", hint="(..., vocab)")
    expect_close(
        weights[2],
        WEIGHTS,
        "the weights of the third decoder",
        exercise_config.documents_atol,
        hint="the softmax is over the encoder positions, the last dim; the batch comes first",
    )


def test_the_decoder_attends_before_it_updates(exercise, exercise_config):
    """y_prev only enters the update: the weights and the context depend on s_prev and H."""
    y_prev, s_prev, H, params = example()
    _, context, weights, _ = exercise.attention_decoder_step(-3 * y_prev, s_prev, H, params)
    hint = "score the encoder states against s_prev, the state before this step's update"
    atol = exercise_config.documents_atol
    expect_close(weights, WEIGHTS, "the weights for another y_prev", atol, hint=hint)
    expect_close(context, CONTEXT, "the context for another y_prev", atol, hint=hint)


def test_no_forbidden_calls(exercise, exercise_config):
    """The recurrent update must be written out, not taken from torch.nn."""
    expect_no_forbidden_calls(exercise, exercise_config)

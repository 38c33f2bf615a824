"""Public checks for exercise 12, the attention decoder step:
`pytest exercises/test_ex12_attention_decoder.py`."""

from autograder.course import examples
from autograder.student.checks import call, expect_close, expect_no_forbidden_calls, expect_tensor

# The encoder states are the six embeddings of "Your journey starts with one step" (d_enc = 3);
# the decoder has d_y = 2, d_dec = 4, d_attn = 5 and a vocabulary of 7.
# Its expected values are examples.DECODER_*, printed by the reference solution.
RETURNS = ("s_t", "context", "weights", "logits")


def test_one_step_over_the_sentence(exercise, exercise_config):
    s_t, context, weights, logits = call(
        exercise.attention_decoder_step,
        *examples.decoder_example(),
        what="attention_decoder_step(y_prev, s_prev, H, params)",
        returns=RETURNS,
    )
    atol = exercise_config.documents_atol
    expect_close(
        weights,
        examples.DECODER_WEIGHTS,
        "the weights over the 6 tokens",
        atol,
        hint="softmax over n of v · tanh(s_prev W_s + h_j W_h)",
    )
    expect_close(
        context,
        examples.DECODER_CONTEXT,
        "the context",
        atol,
        hint="Σ_j weights_j h_j, of size d_enc",
    )
    expect_close(
        s_t,
        examples.DECODER_S_T,
        "the new state s_t",
        atol,
        hint="tanh(y_prev W_y + s_prev W_ss + context W_c + b_s)",
    )
    expect_close(
        logits, examples.DECODER_LOGITS, "the logits", atol, hint="s_t W_out + b_out, read off s_t"
    )


def test_a_batch_of_three_decoders(exercise, exercise_config):
    y_prev, s_prev, H, params = examples.decoder_example()
    s_t, context, weights, logits = call(
        exercise.attention_decoder_step,
        y_prev.expand(3, 2),
        s_prev.expand(3, 4),
        H.expand(3, 6, 3),
        params,
        what="attention_decoder_step for a batch of 3",
        hint="s_prev @ W_s needs a length-1 dim to broadcast against the n rows of H @ W_h",
        returns=RETURNS,
    )
    expect_tensor(s_t, (3, 4), "s_t for a batch of 3", hint="(..., d_dec)")
    expect_tensor(context, (3, 3), "the context for a batch of 3", hint="(..., d_enc)")
    expect_tensor(weights, (3, 6), "the weights for a batch of 3", hint="(..., n)")
    expect_tensor(logits, (3, 7), "the logits for a batch of 3", hint="(..., vocab)")
    expect_close(
        weights[2],
        examples.DECODER_WEIGHTS,
        "the weights of the third decoder",
        exercise_config.documents_atol,
        hint="the softmax is over the encoder positions, the last dim; the batch comes first",
    )


def test_the_decoder_attends_before_it_updates(exercise, exercise_config):
    """y_prev only enters the update: the weights and the context depend on s_prev and H."""
    y_prev, s_prev, H, params = examples.decoder_example()
    _, context, weights, _ = call(
        exercise.attention_decoder_step,
        -3 * y_prev,
        s_prev,
        H,
        params,
        what="attention_decoder_step for another y_prev",
        returns=RETURNS,
    )
    hint = "score the encoder states against s_prev, the state before this step's update"
    atol = exercise_config.documents_atol
    expect_close(
        weights, examples.DECODER_WEIGHTS, "the weights for another y_prev", atol, hint=hint
    )
    expect_close(
        context, examples.DECODER_CONTEXT, "the context for another y_prev", atol, hint=hint
    )


def test_no_forbidden_calls(exercise, exercise_config):
    """The recurrent update must be written out, not taken from torch.nn."""
    expect_no_forbidden_calls(exercise, exercise_config)

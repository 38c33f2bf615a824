"""The shared example tensors agree with the documents and with the reference solutions."""

import importlib.util

import torch

from autograder.course import examples
from tests.conftest import ROOT


def _solution(module):
    spec = importlib.util.spec_from_file_location(module, ROOT / "solutions" / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


def _close(actual, printed):
    return torch.allclose(actual, examples.tensor(printed), atol=1e-4, rtol=0)


def test_qkv_weights_are_drawn_as_the_documents_draw_them():
    torch.manual_seed(examples.QKV_SEED)
    drawn = [torch.rand(3, 2) for _ in range(3)]
    assert all(torch.equal(a, b) for a, b in zip(drawn, examples.qkv_weights(), strict=True))
    query = examples.inputs()[examples.QUERY_INDEX] @ examples.qkv_weights()[0]
    assert _close(query, examples.QKV_QUERY_2)
    _, W_k, _ = examples.qkv_weights()
    scores = query @ (examples.inputs() @ W_k).T
    assert _close(scores, examples.QKV_SCORES_2)


def test_printed_values_follow_from_the_embeddings():
    inputs = examples.inputs()
    scores = inputs @ inputs[examples.QUERY_INDEX]
    assert _close(scores, examples.SCORES_2)
    assert _close(scores / scores.sum(), examples.NORMALIZED_2)
    assert _close(torch.softmax(scores, 0), examples.SOFTMAX_2)
    assert _close(torch.softmax(scores, 0) @ inputs, examples.CONTEXT_2)


def test_rnn_values_are_the_references():
    rnn, solution = examples.rnn_example(), _solution("ex05_rnn_step")
    h_1, y_1 = solution.rnn_step(rnn.xs[0], rnn.h0, *rnn.weights)
    hs, ys = solution.rnn_forward(rnn.xs, rnn.h0, *rnn.weights)
    assert _close(h_1, examples.RNN_H_1) and _close(y_1, examples.RNN_Y_1)
    assert _close(hs[-1], examples.RNN_H_LAST) and _close(ys, examples.RNN_YS)
    assert rnn.W_xh.shape != rnn.W_xh.T.shape, "unequal sizes catch a transposed weight"


def test_bahdanau_values_are_the_references():
    bahdanau, solution = examples.bahdanau_example(), _solution("ex06_bahdanau")
    context, weights = solution.bahdanau_attention(*bahdanau.args)
    assert _close(solution.additive_scores(*bahdanau.args), examples.BAHDANAU_SCORES)
    assert _close(weights, examples.BAHDANAU_WEIGHTS) and _close(context, examples.BAHDANAU_CONTEXT)
    assert bahdanau.s.shape[-1] != bahdanau.H.shape[-1], "d_dec != d_enc"


def test_lstm_values_are_the_references():
    cell = examples.lstm_example()
    h_t, c_t = _solution("ex11_lstm_step").lstm_step(*cell.args)
    assert _close(h_t, examples.LSTM_H_1) and _close(c_t, examples.LSTM_C_1)
    assert cell.W_x.shape == (3, 16) and cell.W_h.shape == (4, 16), "d_in != d_h"


def test_decoder_values_are_the_references():
    y_prev, s_prev, H, params = examples.decoder_example()
    s_t, context, weights, logits = _solution("ex12_attention_decoder").attention_decoder_step(
        y_prev, s_prev, H, params
    )
    assert _close(weights, examples.DECODER_WEIGHTS) and _close(context, examples.DECODER_CONTEXT)
    assert _close(s_t, examples.DECODER_S_T) and _close(logits, examples.DECODER_LOGITS)
    assert s_prev.shape[-1] != H.shape[-1], "d_dec != d_enc"


def test_examples_are_fresh_each_time():
    first = examples.inputs()
    first.zero_()
    assert examples.inputs().sum() > 0

"""The experiment behind exercise 13 (experiments/why_attention.py) shows what the course claims:
at the longest length both attention models beat the plain RNN encoder-decoder by a wide
margin, and the gradient reaching the RNN's early states vanishes, without attention only.
The slow tests train every model once, with the experiment's seed 0, in two processes
(about half a minute on two idle cores)."""

import importlib.util
import json

import pytest
import torch

from experiments import why_attention as experiment
from tests.conftest import ROOT

MARGIN = 0.5  # accuracy; measured with seed 0: about 0.8 for both attention models
VANISHED = 1e-3  # measured with seed 0: 1e-5 to 1e-6 over 39 steps without attention


@pytest.fixture(scope="module")
def results():
    return experiment.run_experiment(seed=0, workers=2)


def _solution():
    path = ROOT / "solutions" / "ex13_why_attention.py"
    spec = importlib.util.spec_from_file_location("ex13_why_attention", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_attention_beats_the_plain_rnn_at_the_longest_length(results):
    assert results.lengths == [5, 10, 20, 40]
    rnn = results.accuracy["rnn"][-1]
    for name in ("bahdanau", "self_attention"):
        assert results.accuracy[name][-1] >= rnn + MARGIN, results.accuracy


@pytest.mark.slow
def test_the_rnn_gradient_vanishes_with_distance_and_not_with_attention(results):
    plain, attended = results.gradient_norms["rnn"], results.gradient_norms["bahdanau"]
    assert len(plain) == len(attended) == 40
    assert plain[-1] < VANISHED * plain[0], plain
    assert all(far < near for near, far in zip(plain[::10], plain[10::10], strict=False)), plain
    assert attended[-1] > 0.1 * attended[0], attended  # a direct path to every encoder state


@pytest.mark.slow
def test_the_exercise_s_jacobian_norms_vanish_on_the_trained_rnn(results):
    """gradient_norms_through_time on the trained encoder: ‖∂h_last/∂h_0‖ is tiny next to √d_h."""
    norms = _solution().gradient_norms_through_time(results.states, results.W_hh).mean(dim=0)
    assert norms.shape == (40,)
    assert norms[-1] == pytest.approx(results.W_hh.shape[0] ** 0.5)
    assert norms[0] < VANISHED * norms[-1], norms


def test_the_unrolled_encoder_is_the_trained_one():
    model = experiment.EncoderDecoder(length=7, d=8, attention=False)
    source, _ = experiment.reverse_task(3, 7, torch.Generator().manual_seed(0))
    states, _ = model.encoder(model.embed_source(source))
    torch.testing.assert_close(torch.stack(model.unrolled_encoder(source), dim=1), states)


def test_the_numbers_do_not_depend_on_the_number_of_processes():
    config = experiment.Config(steps=3, test_size=8)
    serial, parallel = (
        experiment.run_experiment((3, 4), seed=1, config=config, workers=workers)
        for workers in (1, 2)
    )
    assert serial.accuracy == parallel.accuracy
    assert serial.gradient_norms == parallel.gradient_norms
    assert torch.equal(serial.states, parallel.states)


def test_main_writes_the_plot_and_the_numbers(tmp_path, capsys):
    png, numbers = tmp_path / "plot.png", tmp_path / "numbers.json"
    arguments = ["--lengths", "3", "4", "--steps", "2", "--seed", "5", "--workers", "1"]
    experiment.main([*arguments, "--out-png", str(png), "--out-json", str(numbers)])
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.stat().st_size > 10_000
    saved = json.loads(numbers.read_text(encoding="utf-8"))
    assert saved["lengths"] == [3, 4] and saved["seed"] == 5
    assert {name: len(a) for name, a in saved["accuracy"].items()} == dict.fromkeys(
        experiment.MODELS, 2
    )
    assert all(0.0 <= a <= 1.0 for accuracies in saved["accuracy"].values() for a in accuracies)
    assert {name: len(n) for name, n in saved["gradient_norms"].items()} == {
        "rnn": 4,
        "bahdanau": 4,
    }
    assert "RNN + Bahdanau attention" in capsys.readouterr().out


def test_a_plot_without_matplotlib_is_refused_before_training(monkeypatch, capsys):
    monkeypatch.setattr(experiment.importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr(experiment, "run_experiment", lambda *a: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exit_info:
        experiment.main(["--out-png", "plot.png"])
    assert exit_info.value.code == 2
    assert "--out-png needs matplotlib: python -m pip install matplotlib" in capsys.readouterr().err

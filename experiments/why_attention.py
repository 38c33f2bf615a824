"""Why attention replaced RNNs, measured: three small models learn to reverse sequences.

The task: read a sequence of random tokens (a vocabulary of 10) and write it backwards. Three
models learn it, each from scratch, for every sequence length:

- "rnn": an RNN encoder-decoder (Cho et al., 2014). A tanh RNN reads the input; its last hidden
  state is the context, the one vector the decoder starts from and reads at every step.
- "bahdanau": the same model, except that before each step the decoder attends over all the
  encoder's states with Bahdanau's additive score, v · tanh(s_prev W_s + h_j W_h), and reads
  their weighted sum as that step's context (Bahdanau, Cho and Bengio, 2014).
- "self_attention": no recurrence at all: one pre-norm transformer block (multi-head
  self-attention, then a feed-forward layer) over the token embeddings, and a linear read-out at
  every position.

Every model adds the same sinusoidal position vectors to its token embeddings, so all three
know where each token sits, and each gets the same number of training steps on the same
batches. The decoders learn with teacher forcing and are scored greedily, on their own outputs.
The score is token accuracy on held-out sequences (chance is 0.1).

A second measurement explains the first: after training at the longest length, the encoder of
each RNN model is unrolled by hand and the norm of the loss's gradient with respect to every
encoder state h_t is recorded, by distance from the last state. Without attention the gradient
reaches h_t only through the chain h_t -> h_{t+1} -> ... -> h_T, one tanh step at a time, and
shrinks with every step; with attention, every h_t also feeds the decoder directly.

    python experiments/why_attention.py --out-png docs/why_attention.png \\
        --out-json docs/why_attention.json

trains the 12 models in two processes (`--workers`) in about half a minute on two CPU cores, a
minute on one, and gives the same numbers for the same seed however many processes it uses.
Self-contained: it needs torch and, for the plot, matplotlib.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

VOCAB = 10  # the tokens 0..9
BOS = VOCAB  # the token a decoder starts from
MODELS = {
    "rnn": "RNN encoder-decoder",
    "bahdanau": "RNN + Bahdanau attention",
    "self_attention": "self-attention (transformer block)",
}
RNN_MODELS = ("rnn", "bahdanau")


@dataclass(frozen=True)
class Config:
    """The training budget and the models' size, the same for every model and length."""

    steps: int = 200
    batch: int = 64
    lr: float = 1e-2
    d_model: int = 32
    heads: int = 2
    test_size: int = 256


def reverse_task(n: int, length: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """n random sequences (n, length) of tokens in [0, VOCAB), and their reversals."""
    source = torch.randint(0, VOCAB, (n, length), generator=generator)
    return source, source.flip(-1)


def sinusoidal_positions(length: int, d: int) -> Tensor:
    """(length, d): sin and cos of position / 10000^(2i/d) in the even and odd columns."""
    angles = torch.arange(length)[:, None] / 10000 ** (torch.arange(0, d, 2) / d)
    return torch.stack([angles.sin(), angles.cos()], dim=-1).flatten(-2)


class EncoderDecoder(nn.Module):
    """A tanh-RNN encoder-decoder; `attention` makes each step's context Bahdanau's, instead of
    the encoder's last state."""

    def __init__(self, length: int, d: int, attention: bool):
        super().__init__()
        self.attention = attention
        self.register_buffer("positions", sinusoidal_positions(length, d))
        self.source_embedding = nn.Embedding(VOCAB, d)
        self.target_embedding = nn.Embedding(VOCAB + 1, d)
        self.encoder = nn.RNN(d, d, batch_first=True)
        self.decoder = nn.RNNCell(2 * d, d)  # input: [previous token's embedding, context]
        self.W_s = nn.Linear(d, d, bias=False)
        self.W_h = nn.Linear(d, d)
        self.v = nn.Parameter(torch.randn(d) / math.sqrt(d))
        self.read_out = nn.Linear(2 * d, VOCAB)  # from [state, context]

    def embed_source(self, source: Tensor) -> Tensor:
        return self.source_embedding(source) + self.positions

    def forward(self, source: Tensor, target: Tensor | None = None) -> Tensor:
        """Logits (n, length, VOCAB): fed `target` (teacher forcing), or greedily without."""
        states, _ = self.encoder(self.embed_source(source))
        return self.decode(states, target)

    def decode(self, states: Tensor, target: Tensor | None = None) -> Tensor:
        """Decode from the encoder's states (n, length, d)."""
        n, length, _ = states.shape
        s = states[:, -1]
        keys = self.W_h(states) if self.attention else None
        if target is not None:  # teacher forcing: step t reads the target's token t - 1
            previous = torch.cat([torch.full_like(target[:, :1], BOS), target[:, :-1]], dim=1)
            forced = self.target_embedding(previous) + self.positions
        token = torch.full((n,), BOS, device=states.device)
        outputs = []
        for t in range(length):
            if self.attention:
                scores = torch.tanh(self.W_s(s).unsqueeze(-2) + keys) @ self.v
                context = (torch.softmax(scores, dim=-1).unsqueeze(-2) @ states).squeeze(-2)
            else:
                context = states[:, -1]
            if target is None:
                embedded = self.target_embedding(token) + self.positions[t]
            else:
                embedded = forced[:, t]
            s = self.decoder(torch.cat([embedded, context], dim=-1), s)
            outputs.append(torch.cat([s, context], dim=-1))
            if target is None:
                token = self.read_out(outputs[-1]).argmax(dim=-1)
        return self.read_out(torch.stack(outputs, dim=1))

    def unrolled_encoder(self, source: Tensor) -> list[Tensor]:
        """The encoder's states, one tensor (n, d) per step, computed step by step as nn.RNN
        does: h_t = tanh(x_t W_ihᵀ + b_ih + h_{t-1} W_hhᵀ + b_hh), from h_0 = 0."""
        rnn, inputs = self.encoder, self.embed_source(source)
        h = inputs.new_zeros(inputs.shape[0], rnn.hidden_size)
        states = []
        for x_t in inputs.unbind(dim=1):
            h = torch.tanh(
                x_t @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
            )
            states.append(h)
        return states


class SelfAttentionModel(nn.Module):
    """Token embeddings plus positions, one transformer block, a read-out at every position."""

    def __init__(self, length: int, d: int, heads: int):
        super().__init__()
        self.register_buffer("positions", sinusoidal_positions(length, d))
        self.embedding = nn.Embedding(VOCAB, d)
        self.block = nn.TransformerEncoderLayer(
            d, heads, 2 * d, dropout=0.0, batch_first=True, norm_first=True
        )
        self.read_out = nn.Linear(d, VOCAB)

    def forward(self, source: Tensor, target: Tensor | None = None) -> Tensor:
        """Logits (n, length, VOCAB); position t predicts the target's token t."""
        return self.read_out(self.block(self.embedding(source) + self.positions))


def make_model(name: str, length: int, config: Config) -> nn.Module:
    if name == "self_attention":
        return SelfAttentionModel(length, config.d_model, config.heads)
    return EncoderDecoder(length, config.d_model, attention=name == "bahdanau")


def train(model: nn.Module, length: int, config: Config, generator: torch.Generator) -> float:
    """Adam on fresh batches with teacher forcing; returns the last batch's loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    for _ in range(config.steps):
        source, target = reverse_task(config.batch, length, generator)
        loss = F.cross_entropy(model(source, target).flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
    return loss.item()


def encoder_gradient_norms(model: EncoderDecoder, source: Tensor, target: Tensor) -> list[float]:
    """‖∂loss/∂h_t‖ for every encoder state, averaged over the sequences; index k is k steps
    before the last state."""
    states = model.unrolled_encoder(source)
    for h in states:
        h.retain_grad()
    logits = model.decode(torch.stack(states, dim=1), target)
    F.cross_entropy(logits.flatten(0, 1), target.flatten()).backward()
    return [h.grad.norm(dim=-1).mean().item() for h in reversed(states)]


@dataclass
class Run:
    """One model trained at one length and tested: its accuracy and, when `keep` was asked for,
    its test outputs and gradient measurements."""

    name: str
    length: int
    accuracy: float
    outputs: tuple[Tensor, Tensor] | None = None
    gradient_norms: list[float] | None = None
    W_hh: Tensor | None = None
    states: Tensor | None = None


def train_and_test(name: str, length: int, seed: int, config: Config, keep: bool = False) -> Run:
    """Train model `name` from its own seed at `length`, on one thread, and test it greedily.
    One thread is the fastest for models this small, and gives the same numbers in a worker
    process as in this one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        source, target = reverse_task(
            config.test_size, length, torch.Generator().manual_seed(seed + 1000)
        )
        torch.manual_seed(seed + 100 * list(MODELS).index(name))
        model = make_model(name, length, config)
        train(model, length, config, torch.Generator().manual_seed(seed + length))
        model.eval()
        with torch.no_grad():
            logits = model(source)
        run = Run(name, length, (logits.argmax(dim=-1) == target).float().mean().item())
        if keep:
            run.outputs = (logits, target)
        if keep and isinstance(model, EncoderDecoder):
            run.gradient_norms = encoder_gradient_norms(model, source, target)
            run.W_hh = model.encoder.weight_hh_l0.detach().T.clone()  # x @ W, as in the course
            with torch.no_grad():
                run.states = torch.stack(model.unrolled_encoder(source), dim=1)
    finally:
        torch.set_num_threads(threads)
    return run


@dataclass
class Results:
    """What `run_experiment` measured. `accuracy[model][i]` is the test accuracy at
    `lengths[i]`; `gradient_norms[model][k]`, ‖∂loss/∂h_t‖ k steps before the encoder's last
    state, at the longest length. The rest stays out of the JSON: at the longest length, each
    model's test `outputs` (logits, targets), and the plain RNN encoder's recurrent weights
    `W_hh` (row convention: h_t = tanh(x_t W_xh + h_{t-1} W_hh + b)) and its `states` on the
    test sequences (n, length, d)."""

    lengths: list[int]
    seed: int
    config: Config
    accuracy: dict[str, list[float]] = field(default_factory=dict)
    gradient_norms: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    outputs: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict, repr=False)
    W_hh: Tensor | None = field(default=None, repr=False)
    states: Tensor | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        """The numbers, the settings and the models' names, for json.dumps."""
        names = ("lengths", "seed", "accuracy", "gradient_norms", "seconds")
        return {"models": MODELS, "config": asdict(self.config)} | {
            name: getattr(self, name) for name in names
        }


def run_experiment(
    lengths: Sequence[int] = (5, 10, 20, 40),
    seed: int = 0,
    config: Config | None = None,
    workers: int = 1,
) -> Results:
    """Train and test every model at every length; with `workers` > 1, in that many processes
    at once. Every run has its own seeds, so the numbers do not depend on `workers`."""
    config, started, longest = config or Config(), time.perf_counter(), max(lengths)
    # The longest runs first, so that the workers finish at about the same time.
    jobs = sorted(((name, n) for n in lengths for name in MODELS), key=lambda job: -job[1])
    arguments = [(name, n, seed, config, n == longest) for name, n in jobs]
    if workers > 1:
        spawn = multiprocessing.get_context("spawn")  # fork and torch's threads do not mix
        with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
            runs = list(pool.map(train_and_test, *zip(*arguments, strict=True)))
    else:
        runs = [train_and_test(*a) for a in arguments]
    found = {(run.name, run.length): run for run in runs}
    results = Results(list(lengths), seed, config)
    for name in MODELS:
        results.accuracy[name] = [found[name, n].accuracy for n in lengths]
        last = found[name, longest]
        results.outputs[name] = last.outputs
        if last.gradient_norms is not None:
            results.gradient_norms[name] = last.gradient_norms
    results.W_hh, results.states = found["rnn", longest].W_hh, found["rnn", longest].states
    results.seconds = time.perf_counter() - started
    return results


def plot(results: Results, path: str | Path | None = None):
    """Accuracy against length, and the gradient reaching earlier encoder states; saved as a
    PNG to `path` if given. Returns the matplotlib figure."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, label in MODELS.items():
        left.plot(results.lengths, results.accuracy[name], "o-", label=label)
    left.axhline(1 / VOCAB, color="grey", linestyle=":", label="chance")
    left.set(xlabel="sequence length", ylabel="token accuracy (held-out)", ylim=(0, 1.05))
    left.set_xticks(results.lengths)
    left.set_title("Reversing a sequence: accuracy against length")
    left.legend()
    for name in RNN_MODELS:
        norms = results.gradient_norms.get(name)
        if norms:
            right.semilogy(range(len(norms)), norms, label=MODELS[name])
    right.set(xlabel="steps before the encoder's last state", ylabel="‖∂loss / ∂h_t‖")
    right.set_title(f"Gradient reaching the encoder's states (length {max(results.lengths)})")
    right.legend()
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, dpi=100)
    return fig


def main(argv: Sequence[str] | None = None) -> Results:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-png", type=Path, help="where to save the plot")
    parser.add_argument("--out-json", type=Path, help="where to save the numbers")
    parser.add_argument("--lengths", type=int, nargs="+", default=[5, 10, 20, 40])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=Config.steps, help="training steps")
    parser.add_argument("--workers", type=int, default=2, help="processes to train in")
    args = parser.parse_args(argv)
    if args.out_png and importlib.util.find_spec("matplotlib") is None:
        parser.error("--out-png needs matplotlib: python -m pip install matplotlib")
    results = run_experiment(args.lengths, args.seed, Config(steps=args.steps), args.workers)
    for name, label in MODELS.items():
        accuracies = ", ".join(f"{a:.3f}" for a in results.accuracy[name])
        print(f"{label:>36}: {accuracies}  (lengths {results.lengths})")
    for name, norms in results.gradient_norms.items():
        far = len(norms) - 1
        print(
            f"{MODELS[name]:>36}: ‖∂loss/∂h‖ {far} steps back / at the last state = "
            f"{norms[-1] / norms[0]:.2e}"
        )
    print(f"{results.seconds:.1f} s")
    for path in (args.out_json, args.out_png):
        if path:
            path.parent.mkdir(parents=True, exist_ok=True)
    if args.out_json:
        args.out_json.write_text(json.dumps(results.to_json(), indent=2) + "\n", encoding="utf-8")
    if args.out_png:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt

        plt.close(plot(results, args.out_png))
    return results


if __name__ == "__main__":
    main()

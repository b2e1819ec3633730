"""``python -m tinygrad_reg``: the course network trained four ways, side by side.

The 3-layer network [2, 20, 3, 1] (LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID), course init
(seed 3), plain gradient descent with learning rate 0.3 on the whole training set, on the
default dataset (``datasets.load()``), with

- no regularization (it learns the noisy labels by heart: overfits),
- L2, λ = 0.7 (cost + λ/(2m)·ΣW², smaller weights, a smoother boundary),
- L1 (cost + λ/m·Σ|W|, many weights driven to 0),
- inverted dropout, keep_prob = 0.86 (each hidden unit dropped with probability 0.14).

Before training, each variant's autodiff gradients are compared with the hand-written
backprop of ``reference.py`` at the initial parameters (same init; for dropout, two
identically seeded RandomStates, so both sides drop the same units): the last column of the
table is the largest |autodiff − hand-written| over every entry of every dW_l and db_l.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import numpy as np

from ..data import datasets
from ..engine import no_grad
from ..nn.modules import MLP
from ..nn.regularizers import ZERO_THRESHOLD, near_zero_fraction, weights_of
from ..optim.optimizers import SGD
from ..testing import reference
from ..train.evaluate import accuracy
from ..train.loop import History, auto_loss, fit
from ..train.regularization_path import LAYER_DIMS, LEARNING_RATE, SEED
from . import plots
from .selfcheck import Network, autodiff_gradients, reference_gradients

DEFAULT_ITERATIONS = 12_000


@dataclass(frozen=True)
class Variant:
    """One way to regularize: a penalty ("none", "l2", "l1") with its λ, and/or dropout."""

    name: str
    penalty: str = "none"
    lambd: float = 0.0
    keep_prob: float = 1.0

    @property
    def hyperparameters(self) -> str:
        if self.keep_prob < 1:
            return f"keep_prob = {self.keep_prob:g}"
        if self.penalty == "none":
            return "-"
        return f"λ = {self.lambd:g}"

    @property
    def label(self) -> str:
        """For plots: "no regularization", "L2, λ = 0.7", ..."""
        if self.penalty == "none" and self.keep_prob == 1:
            return "no regularization"
        return f"{self.name}, {self.hyperparameters}"


VARIANTS = (
    Variant("none"),
    Variant("L2", "l2", lambd=0.7),
    Variant("L1", "l1", lambd=0.7),
    Variant("dropout", keep_prob=0.86),
)


@dataclass
class Result:
    """A trained variant and what the table shows about it."""

    variant: Variant
    model: MLP
    history: History
    train_accuracy: float
    test_accuracy: float
    zero_fraction: float
    gradient_gap: float
    test_costs: tuple[list[int], list[float]] = ([], [])

    @property
    def final_cost(self) -> float:
        return self.history.costs[-1]


def start_gradient_gap(variant: Variant, X: np.ndarray, Y: np.ndarray) -> float:
    """max |autodiff − hand-written| over every entry of every dW_l, db_l, at the initial
    parameters (the course's init with SEED) and, for dropout, the same masks on both sides."""
    parameters = reference.initialize_parameters(LAYER_DIMS, seed=SEED)
    network = Network(parameters, X, Y, variant.penalty, variant.lambd, variant.keep_prob, SEED)
    autodiff, by_hand = autodiff_gradients(network), reference_gradients(network)
    return max(float(np.max(np.abs(autodiff[name] - by_hand[name]))) for name in parameters)


class TestCost:
    """The test set's cost (cross-entropy, no penalty, no dropout), recorded by ``record`` as
    fit's callback at its logged iterations (after that iteration's update)."""

    def __init__(self, model: MLP, test: tuple[np.ndarray, np.ndarray] | None):
        self.model, self.test = model, test
        self.iterations: list[int] = []
        self.costs: list[float] = []

    def record(self, iteration: int) -> None:
        if self.test is None:
            return
        was_training = self.model.training
        self.model.eval()
        try:
            with no_grad():
                cost = auto_loss(self.model(self.test[0]), self.test[1])
        finally:
            self.model.train(was_training)
        self.iterations.append(iteration + 1)  # after the update of ``iteration``
        self.costs.append(cost.item())


def train_variant(
    variant: Variant, data: datasets.Dataset, iterations: int, progress: bool = True
) -> Result:
    """Compare the starting gradients, then train ``variant`` (fit's progress line on a TTY)."""
    X, Y = data.train_X, data.train_Y
    gap = start_gradient_gap(variant, X, Y)
    model = MLP(LAYER_DIMS, seed=SEED, keep_prob=variant.keep_prob)
    test_cost = TestCost(model, (data.test_X, data.test_Y))
    history = fit(
        model,
        X,
        Y,
        penalty=variant.penalty,
        lambd=variant.lambd,
        optimizer=SGD(model.parameters(), lr=LEARNING_RATE),
        iterations=iterations,
        log_every=max(1, iterations // 200),
        callback=lambda i, cost: test_cost.record(i),
        progress=progress,
    )
    return Result(
        variant,
        model,
        history,
        accuracy(model, X, Y),
        accuracy(model, data.test_X, data.test_Y),
        near_zero_fraction(model),
        gap,
        (test_cost.iterations, test_cost.costs),
    )


def table(results: list[Result]) -> str:
    """The results as a plain-text table, with a note on the last two columns."""
    header = (
        f"{'variant':<9}{'hyperparameters':<18}{'train acc':>9}{'test acc':>10}{'final cost':>12}"
        f"{f'|w| < {ZERO_THRESHOLD:g}':>12}{'|autodiff − hand-written|':>28}"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(
            f"{r.variant.name:<9}{r.variant.hyperparameters:<18}{r.train_accuracy:>9.1%}"
            f"{r.test_accuracy:>10.1%}{r.final_cost:>12.4f}{r.zero_fraction:>12.0%}"
            f"{r.gradient_gap:>28.1e}"
        )
    lines += [
        "-" * len(header),
        f"|w| < {ZERO_THRESHOLD:g}: the fraction of the weights (W1..W{len(LAYER_DIMS) - 1}) that "
        "are ~0.",
        "|autodiff − hand-written|: the largest difference between the engine's gradients and "
        "reference.py's\nhand-written backprop, over every entry of every dW and db, at the "
        "start of training (same initial\nparameters; for dropout, identically seeded masks).",
    ]
    return "\n".join(lines)


def write_plots(results: list[Result], data: datasets.Dataset, out: Path) -> list[str]:
    """The three PNGs of the demo in ``out`` (created if missing); returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    panels = [
        plots.Panel(
            f"{r.variant.label}: train {r.train_accuracy:.1%}, test {r.test_accuracy:.1%}",
            r.model,
        )
        for r in results
    ]
    histograms = {r.variant.label: weights_of(r.model) for r in results}
    written = [
        plots.decision_boundaries(
            out / "decision_boundaries.png",
            panels,
            data.train_X,
            data.train_Y,
            title=f"The course network on the {data.name!r} data",
        ),
        plots.cost_curves(
            out / "cost_curves.png",
            {r.variant.label: (r.history.iterations, r.history.costs) for r in results},
            title=f"Cost during training: {LAYER_DIMS}, gradient descent, lr {LEARNING_RATE}\n"
            "unregularized it bounces once the fit sharpens (a smaller lr only\ndelays it); "
            "dropout's is noisy: a new thinned network every step",
            test_curves={r.variant.label: r.test_costs for r in results},
        ),
    ]
    if histograms:
        written.append(
            plots.weight_histograms(
                out / "weights_l1_vs_l2.png",
                histograms,
                ZERO_THRESHOLD,
                title="Weights after training: L1 drives many to 0, L2 only shrinks them",
            )
        )
    return written


def run_demo(
    iterations: int = DEFAULT_ITERATIONS,
    out: str | os.PathLike[str] = "tinygrad_reg_out",
    dataset: str = datasets.DEFAULT,
    make_plots: bool = True,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> list[Result]:
    """Train every variant, print the table to ``stdout`` and write the plots to ``out``
    (when matplotlib is installed and ``make_plots``). Progress goes to ``stderr``."""
    stdout = sys.stdout if stdout is None else stdout
    stderr = sys.stderr if stderr is None else stderr
    data = datasets.load(dataset)
    print(
        f"The course network {LAYER_DIMS} (seed {SEED}, lr {LEARNING_RATE}, full batch, "
        f"{iterations} iterations)\non the {data.name!r} dataset: {data.train_X.shape[1]} "
        f"training and {data.test_X.shape[1]} test examples.",
        file=stdout,
        flush=True,
    )
    results = []
    for k, variant in enumerate(VARIANTS, start=1):
        name = f"[{k}/{len(VARIANTS)}] {variant.name}"
        if stderr.isatty():  # fit's progress line follows; say what it is about
            print(f"[{k}/{len(VARIANTS)}] {variant.label}", file=stderr, flush=True)
        start = time.perf_counter()
        results.append(train_variant(variant, data, iterations, progress=True))
        seconds = time.perf_counter() - start
        print(f"{name}: {iterations} iterations in {seconds:.1f} s", file=stderr, flush=True)
    print("\n" + table(results) + "\n", file=stdout)
    if not make_plots:
        return results
    if not plots.available():
        print(f"For the plots, install matplotlib: {plots.INSTALL_HINT}", file=stdout)
        return results
    try:
        written = write_plots(results, data, Path(out))
    except OSError as error:  # out went away or filled up during training
        written = write_plots(results, data, fallback_folder(out, error, stderr))
    print("Plots:\n" + "\n".join(f"  {path}" for path in written), file=stdout)
    return results


def fallback_folder(out: str | os.PathLike[str], error: OSError, stderr: TextIO) -> Path:
    """A new folder in the system's temporary directory, for what could not be written in
    ``out`` after training (so that the work is not lost); says so on ``stderr``."""
    fallback = Path(tempfile.mkdtemp(prefix="tinygrad_reg_out-"))
    print(
        f"error: cannot write in {out} ({error.strerror or error}); writing in {fallback} instead",
        file=stderr,
        flush=True,
    )
    return fallback

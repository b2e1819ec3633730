"""The regularization path: the course network trained once per strength, side by side.

"Which λ?" has no answer in the formulas; the course's answer is to try several and keep the
one that does best on data the training never saw. ``sweep`` does exactly that: for each value
(λ for "l2", "l1" and "elastic", keep_prob for "dropout") it trains the demo's network (same
init, seed 3, lr 0.3, full batch: ``demo.py``'s settings) and measures

- train and validation accuracy and cost. The cost here is the cross-entropy alone, in
  evaluation mode (no dropout, no penalty), so train and validation numbers are comparable
  across values; the validation set is the dataset's held-out test set, or, with ``folds=k``,
  k-fold cross-validation on the training set (each number the mean over the k folds);
- the weights: their overall 2-norm ‖W‖ (all weight matrices as one vector) and the share
  with |w| < 0.01 (``regularizers.ZERO_THRESHOLD``).

Too little regularization overfits (low training cost, higher validation cost), too much
underfits (both high): the validation cost traces a U, and ``SweepTable.best`` is its bottom.

Interrupting (Ctrl-C) keeps the rows finished so far: ``sweep`` returns them with
``complete=False``, and ``on_row`` has already seen each one (the CLI writes the CSV there).
"""

from __future__ import annotations

import csv
import io
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, TextIO

import numpy as np

from ..data import datasets
from ..engine import no_grad
from ..nn.modules import MLP
from ..nn.regularizers import ZERO_THRESHOLD, near_zero_fraction, weights_of
from ..optim.optimizers import SGD
from .checkpoint import write_atomically
from .evaluate import accuracy, outputs_for_labels
from .loop import DEFAULT_LR, auto_loss, fit

#: The demo's network and settings, the course's (app/demo.py trains with them too).
LAYER_DIMS = [2, 20, 3, 1]
SEED = 3
LEARNING_RATE = DEFAULT_LR

PENALTIES = ("l2", "l1", "elastic", "dropout")
#: Enough for the unregularized network to overfit the default dataset (its validation cost
#: is lowest near iteration 1300 and rises after), short enough for a quick sweep.
DEFAULT_ITERATIONS = 3000


def log_grid(low_exponent: float, high_exponent: float) -> tuple[float, ...]:
    """0 (no regularization), then 10^e for e from ``low_exponent`` to ``high_exponent`` in
    steps of 0.5 (two values per decade), to 3 significant digits:
    log_grid(-1, 1.5) = (0, 0.1, 0.316, 1, 3.16, 10, 31.6)."""
    exponents = np.arange(low_exponent, high_exponent + 0.25, 0.5)
    return (0.0, *(float(f"{10**e:.3g}") for e in exponents))


#: λ: from none to so much that the network underfits; keep_prob: from 1 (no dropout) down.
DEFAULT_VALUES: dict[str, tuple[float, ...]] = {
    "l2": log_grid(-1, 1.5),
    "l1": log_grid(-2, 1),
    "elastic": log_grid(-2, 1),
    "dropout": (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3),
}


@dataclass(frozen=True)
class Row:
    """One value's results (means over the folds with cross-validation)."""

    value: float
    train_accuracy: float
    val_accuracy: float
    train_cost: float
    val_cost: float
    weight_norm: float
    near_zero: float
    seconds: float


@dataclass
class SweepTable:
    """The rows in the order trained; ``validation`` says what the val_ columns measure."""

    penalty: str
    validation: str
    iterations: int
    rows: list[Row] = field(default_factory=list)
    complete: bool = True

    @property
    def parameter(self) -> str:
        return "keep_prob" if self.penalty == "dropout" else "lambd"

    @property
    def best(self) -> Row | None:
        """The row with the lowest validation cost (the first, on ties); None if empty."""
        return min(self.rows, key=lambda row: row.val_cost) if self.rows else None

    def columns(self) -> list[str]:
        return [self.parameter, *[f.name for f in fields(Row)][1:]]

    def write_csv(self, path: str | os.PathLike[str]) -> str:
        """The table as CSV, one row per value, with a header; returns the path. Written
        atomically: interrupted, the file keeps its previous rows, whole."""
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(self.columns())
        for row in self.rows:
            writer.writerow([f"{x:.6g}" for x in asdict(row).values()])
        write_atomically(path, lambda file: file.write(text.getvalue().encode("utf-8")))
        return os.fspath(path)

    def format(self) -> str:
        """A plain-text table; the best row is marked with '<'."""
        name = "keep_prob" if self.penalty == "dropout" else "λ"
        header = (
            f"{name:>9}{'train acc':>11}{'val acc':>9}{'train cost':>12}{'val cost':>10}"
            f"{'‖W‖':>8}{f'|w|<{ZERO_THRESHOLD:g}':>10}"
        )
        lines = [header, "-" * len(header)]
        best = self.best
        for row in self.rows:
            lines.append(
                f"{row.value:>9.4g}{row.train_accuracy:>11.1%}{row.val_accuracy:>9.1%}"
                f"{row.train_cost:>12.4f}{row.val_cost:>10.4f}{row.weight_norm:>8.2f}"
                f"{row.near_zero:>10.0%}" + ("  < best" if row is best else "")
            )
        lines.append(f"val = {self.validation}; cost = cross-entropy without the penalty.")
        if not self.complete:
            lines.append(f"Interrupted: {len(self.rows)} value(s) done.")
        return "\n".join(lines)


def check_values(penalty: str, values: Sequence[float]) -> list[float]:
    """The values as floats, checked for the penalty: λ >= 0, keep_prob in (0, 1]."""
    if penalty not in PENALTIES:
        raise ValueError(f"sweep: unknown penalty {penalty!r}; expected one of {list(PENALTIES)}.")
    checked = [float(v) for v in values]
    if not checked:
        raise ValueError("sweep: values is empty; expected at least one value.")
    if penalty == "dropout":
        bad = [v for v in checked if not 0 < v <= 1]
        expected = "keep_prob values in (0, 1]"
    else:
        bad = [v for v in checked if not 0 <= v < math.inf]
        expected = "λ values >= 0"
    if bad:
        raise ValueError(f"sweep: {bad} for penalty {penalty!r}; expected {expected}.")
    return checked


def fold_columns(m: int, folds: int, seed: int) -> list[np.ndarray]:
    """k disjoint sets of example indices covering 0..m-1 (shuffled by RandomState(seed)),
    sizes differing by at most one; each sorted."""
    if not (isinstance(folds, (int, np.integer)) and 2 <= folds <= m):
        raise ValueError(f"sweep: folds = {folds!r}; expected an integer from 2 to m = {m}.")
    order = np.random.RandomState(seed).permutation(m)
    return [np.sort(part) for part in np.array_split(order, folds)]


def train_one(
    penalty: str,
    value: float,
    X: np.ndarray,
    Y: np.ndarray,
    iterations: int,
    seed: int = SEED,
    progress: bool = False,
) -> MLP:
    """The demo's network trained with one value: what each row of the sweep runs."""
    keep_prob = value if penalty == "dropout" else 1.0
    layer_dims = [*LAYER_DIMS[:-1], outputs_for_labels(Y)]  # one output per class for K > 2
    model = MLP(layer_dims, seed=seed, keep_prob=keep_prob)
    kind = "none" if penalty == "dropout" or value == 0 else penalty
    fit(
        model,
        X,
        Y,
        penalty=kind,
        lambd=0.0 if kind == "none" else value,
        optimizer=SGD(model.parameters(), lr=LEARNING_RATE),
        iterations=iterations,
        log_every=max(1, iterations // 200),
        progress=progress,
    )
    return model


def cross_entropy(model: MLP, X: np.ndarray, Y: np.ndarray) -> float:
    """The mean cross-entropy of the model's predictions, in evaluation mode (no dropout)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return auto_loss(model(X), Y).item()  # cross-entropy over K classes if K outputs
    finally:
        model.train(was_training)


def measure(model: MLP, train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray]):
    """(train acc, val acc, train cost, val cost, ‖W‖, share |w| < ZERO_THRESHOLD)."""
    weights = weights_of(model)
    return (
        accuracy(model, *train),
        accuracy(model, *val),
        cross_entropy(model, *train),
        cross_entropy(model, *val),
        float(np.sqrt(np.sum(weights**2))),
        near_zero_fraction(model),
    )


def sweep(
    penalty: str = "l2",
    values: Sequence[float] | None = None,
    *,
    dataset: str = datasets.DEFAULT,
    iterations: int = DEFAULT_ITERATIONS,
    folds: int | None = None,
    seed: int = SEED,
    progress: TextIO | None = None,
    on_row: Callable[[SweepTable], Any] | None = None,
) -> SweepTable:
    """Train the demo's network once per value (per fold with ``folds``) and return the table.

    ``penalty``: "l2", "l1", "elastic" (the value is λ for both parts) or "dropout" (the value
    is keep_prob); ``values`` defaults to ``DEFAULT_VALUES[penalty]``. ``seed`` sets the
    initial weights and dropout masks (the same for every value) and the folds. One line per
    value goes to ``progress`` (e.g. sys.stderr); ``on_row(table)`` is called after each row.
    Ctrl-C returns the rows done so far, with ``complete=False``.
    """
    values = check_values(penalty, DEFAULT_VALUES[penalty] if values is None else values)
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 1):
        raise ValueError(f"sweep: iterations = {iterations!r}; expected an integer >= 1.")
    data = datasets.load(dataset)
    X, Y = data.train_X, data.train_Y
    if folds is None:
        splits = [((X, Y), (data.test_X, data.test_Y))]
        validation = f"the {data.name!r} test set ({data.test_X.shape[1]} examples)"
    else:
        parts = fold_columns(X.shape[1], folds, seed)
        splits = []
        for held_out in parts:
            rest = np.setdiff1d(np.arange(X.shape[1]), held_out)
            splits.append(((X[:, rest], Y[:, rest]), (X[:, held_out], Y[:, held_out])))
        validation = f"{folds}-fold cross-validation on the {X.shape[1]} training examples"
    table = SweepTable(penalty, validation, iterations)
    name = "keep_prob" if penalty == "dropout" else "λ"
    try:
        for k, value in enumerate(values, start=1):
            start = time.perf_counter()
            results = []
            for train, val in splits:
                tty = progress is not None and progress.isatty()
                model = train_one(penalty, value, *train, iterations, seed, progress=tty)
                results.append(measure(model, train, val))
            means = [float(np.mean(column)) for column in zip(*results)]
            row = Row(value, *means, seconds=time.perf_counter() - start)  # type: ignore[misc]
            table.rows.append(row)
            if progress is not None:
                print(
                    f"[{k}/{len(values)}] {name} = {value:g}: train {row.train_accuracy:.1%}, "
                    f"val {row.val_accuracy:.1%}, val cost {row.val_cost:.4f} "
                    f"({row.seconds:.1f} s)",
                    file=progress,
                    flush=True,
                )
            if on_row is not None:
                on_row(table)
    except KeyboardInterrupt:
        table.complete = False
    return table

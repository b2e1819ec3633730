"""The regularization path: the course network trained once per strength, side by side.

"Which λ?" has no answer in the formulas; the course's answer is to try several and keep the
one that does best on data the training never saw. ``sweep`` does exactly that: for each value
of a technique's strength (λ for "l2", "l1" and "elastic", keep_prob for "dropout", ...: the
table ``TECHNIQUES`` of ``techniques.py``, one ``Technique`` each) it trains the demo's network
(same init, seed 3, lr 0.3, full batch: ``demo.py``'s settings) and measures

- train and validation accuracy and cost. The cost here is the cross-entropy alone, in
  evaluation mode (no dropout, no penalty), so train and validation numbers are comparable
  across values; the validation set is the dataset's held-out test set, or, with ``folds=k``,
  k-fold cross-validation on the training set (each number the mean over the k folds);
- the weights: their overall 2-norm ‖W‖ (all weight matrices as one vector) and the share
  with |w| < 0.01 (``regularizers.ZERO_THRESHOLD``).

Too little regularization overfits (low training cost, higher validation cost), too much
underfits (both high): the validation cost traces a U, and ``SweepTable.best`` is its bottom.

The runs (one per value and fold) are independent, so ``executor`` can spread them: an integer
n > 1 runs them in a pool of n processes, and any ``concurrent.futures.Executor`` is used as it
is (a ``ProcessPoolExecutor``, or ``dask.distributed.Client(...).get_executor()`` for a
cluster). Each run starts from the same seed whatever process runs it, so the table is the
sequential one, bit for bit, in the same order; only ``seconds`` (the time the runs of a row
took) may differ. A run that raises becomes its value's row, with NaN numbers and the error.

Interrupting (Ctrl-C) keeps the rows finished so far and cancels the runs not started:
``sweep`` returns the rows with ``complete=False``, and ``on_row`` has already seen each one
(the CLI writes the CSV there).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import csv
import io
import math
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
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
from .loop import auto_loss, fit
from .techniques import (  # noqa: F401  (the table is part of this module's interface)
    DEFAULT_VALUES,
    LEARNING_RATE,
    PENALTIES,
    TECHNIQUES,
    Technique,
    log_grid,
    technique,
)

#: The demo's network and settings, the course's (app/demo.py trains with them too).
LAYER_DIMS = [2, 20, 3, 1]
SEED = 3

#: Enough for the unregularized network to overfit the default dataset (its validation cost
#: is lowest near iteration 1300 and rises after), short enough for a quick sweep.
DEFAULT_ITERATIONS = 3000


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
    error: str = ""  # why the value's run failed (its numbers are then NaN); "" for a good row


def _cell(value: float, width: int, decimals: int) -> str:
    """``value`` right-aligned in ``width`` characters, at least one of them a space: with
    ``decimals`` digits, or in scientific notation with as many as fit (1.0e+12, a huge ‖W‖)."""
    text, digits = f"{value:.{decimals}f}", decimals
    while len(text) >= width and digits > 0:
        digits -= 1
        text = f"{value:.{digits}e}"
    return f"{text:>{width}}"


@dataclass
class SweepTable:
    """The rows in the order trained; ``validation`` says what the val_ columns measure."""

    penalty: str
    validation: str
    iterations: int
    rows: list[Row] = field(default_factory=list)
    complete: bool = True

    @property
    def technique(self) -> Technique:
        return TECHNIQUES[self.penalty]

    @property
    def parameter(self) -> str:
        return self.technique.parameter

    @property
    def best(self) -> Row | None:
        """The row with the lowest validation cost (the first, on ties); None if no row
        succeeded."""
        good = [row for row in self.rows if not row.error]
        return min(good, key=lambda row: row.val_cost) if good else None

    def columns(self) -> list[str]:
        return [self.parameter, *[f.name for f in fields(Row)][1:]]

    def write_csv(self, path: str | os.PathLike[str]) -> str:
        """The table as CSV, one row per value, with a header; returns the path. Written
        atomically: interrupted, the file keeps its previous rows, whole."""
        text = io.StringIO(newline="")
        writer = csv.writer(text)
        writer.writerow(self.columns())
        for row in self.rows:
            cells = asdict(row).values()
            writer.writerow([f"{x:.6g}" if isinstance(x, float) else x for x in cells])
        write_atomically(path, lambda file: file.write(text.getvalue().encode("utf-8")))
        return os.fspath(path)

    def format(self) -> str:
        """A plain-text table; the best row is marked with '<'."""
        name = self.technique.symbol
        header = (
            f"{name:>9}{'train acc':>11}{'val acc':>9}{'train cost':>12}{'val cost':>10}"
            f"{'‖W‖':>8}{f'|w|<{ZERO_THRESHOLD:g}':>10}"
        )
        lines = [header, "-" * len(header)]
        best = self.best
        for row in self.rows:
            if row.error:
                lines.append(f"{row.value:>9.4g}  failed: {row.error}")
                continue
            lines.append(
                f"{row.value:>9.4g}{row.train_accuracy:>11.1%}{row.val_accuracy:>9.1%}"
                f"{_cell(row.train_cost, 12, 4)}{_cell(row.val_cost, 10, 4)}"
                f"{_cell(row.weight_norm, 8, 2)}{row.near_zero:>10.0%}"
                + ("  < best" if row is best else "")
            )
        lines.append(f"val = {self.validation}; cost = cross-entropy without the penalty.")
        if not self.complete:
            lines.append(f"Interrupted: {len(self.rows)} value(s) done.")
        return "\n".join(lines)


def check_values(penalty: str, values: Sequence[float]) -> list[float]:
    """The values as floats, checked for the penalty (its ``Technique.valid``: λ >= 0,
    keep_prob in (0, 1], ...)."""
    entry = technique(penalty)
    checked = [float(v) for v in values]
    if not checked:
        raise ValueError("sweep: values is empty; expected at least one value.")
    bad = [v for v in checked if not entry.valid(v)]
    if bad:
        raise ValueError(f"sweep: {bad} for penalty {penalty!r}; expected {entry.expected}.")
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
    """The demo's network trained with one value: what each row of the sweep runs (the
    technique's ``model_keywords`` and ``fit_keywords``, see ``Technique``)."""
    entry = technique(penalty)
    # the data's features in, one output per class for K > 2
    layer_dims = [X.shape[0], *LAYER_DIMS[1:-1], outputs_for_labels(Y)]
    model = MLP(layer_dims, seed=seed, **entry.model_keywords(value))
    module = entry.wrap(value, model)
    options = {
        "optimizer": SGD(model.parameters(), lr=LEARNING_RATE),
        **entry.fit_keywords(value, module, X.shape[1]),
    }
    fit(
        module,
        X,
        Y,
        iterations=iterations,
        log_every=max(1, iterations // 200),
        progress=progress,
        **options,
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


Split = tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
#: One run's measurements and seconds, or the text of its error.
Outcome = tuple[float, ...] | str


def run_one(
    penalty: str, value: float, split: Split, iterations: int, seed: int, progress: bool = False
) -> Outcome:
    """One training run on one split, measured: what an executor runs (in whichever process,
    the same numbers: the run depends on its arguments only). A failure is returned as its
    text, so that it becomes its row."""
    start = time.perf_counter()
    train, val = split
    try:
        model = train_one(penalty, value, *train, iterations, seed, progress=progress)
        return (*measure(model, train, val), time.perf_counter() - start)
    except Exception as error:  # the run's failure is its row's content, not the sweep's end
        return f"{type(error).__name__}: {error}"


def _ignore_ctrl_c() -> None:
    """In the pool's processes: Ctrl-C reaches the whole process group, and the parent alone
    decides what it stops (the pending runs), so the workers finish the run they hold."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextlib.contextmanager
def _executor(executor: int | concurrent.futures.Executor | None):
    """None for in-process runs, else an Executor: the user's as given (not shut down here),
    or a pool of ``executor`` processes, shut down on leaving (pending runs cancelled)."""
    if executor is None or isinstance(executor, concurrent.futures.Executor):
        yield executor
        return
    if isinstance(executor, bool) or not isinstance(executor, (int, np.integer)) or executor < 1:
        raise ValueError(
            f"sweep: executor = {executor!r}; expected None, a number of processes >= 1 or a "
            "concurrent.futures.Executor."
        )
    if executor == 1:
        yield None
        return
    # fork: workers start at once and the user's script needs no `if __name__ == "__main__"`
    context = multiprocessing.get_context("fork") if sys.platform == "linux" else None
    pool = concurrent.futures.ProcessPoolExecutor(
        int(executor), mp_context=context, initializer=_ignore_ctrl_c
    )
    try:
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _outcomes(
    tasks: list[tuple], executor: concurrent.futures.Executor | None, progress: bool
) -> Iterator[tuple[int, Outcome]]:
    """(task index, outcome) as the runs finish: in order in this process without an executor;
    else in the order they complete. Closing the iterator cancels the runs not started."""
    if executor is None:
        for index, task in enumerate(tasks):
            yield index, run_one(*task, progress=progress)
        return
    futures = {executor.submit(run_one, *task): index for index, task in enumerate(tasks)}
    try:
        for future in concurrent.futures.as_completed(futures):
            try:
                outcome = future.result()
            except Exception as error:  # the worker itself failed (e.g. its process died)
                outcome = f"{type(error).__name__}: {error}"
            yield futures[future], outcome
    finally:
        for future in futures:
            future.cancel()


def _row(value: float, outcomes: list[Outcome]) -> Row:
    """A value's row from its runs' outcomes (one per fold, in fold order)."""
    failed = [(k, o) for k, o in enumerate(outcomes, start=1) if isinstance(o, str)]
    if failed:
        where = f"fold {failed[0][0]}: " if len(outcomes) > 1 else ""
        return Row(value, *[math.nan] * 6, seconds=math.nan, error=where + failed[0][1])  # type: ignore[misc]
    *means, seconds = [float(np.mean(column)) for column in zip(*outcomes)]
    return Row(value, *means, seconds=seconds * len(outcomes))  # type: ignore[misc]


def check_stable(penalty: str, values: Sequence[float], m: int) -> None:
    """Refuse λ for which gradient descent with the L2 part diverges: each step multiplies the
    weights by 1 - lr·λ/m, which grows them when lr·λ/m > 2 (m: examples of a training run)."""
    if not technique(penalty).l2_part:
        return
    limit = 2 * m / LEARNING_RATE
    bad = [v for v in values if v >= limit]
    if bad:
        raise ValueError(
            f"sweep: λ = {bad} for penalty {penalty!r}; with lr {LEARNING_RATE:g} on {m} training "
            f"examples each step multiplies the weights by 1 - lr·λ/m < -1, so training "
            f"diverges; expected λ < 2m/lr = {limit:.4g}."
        )


def splits_for(data: datasets.Dataset, folds: int | None, seed: int) -> tuple[list[Split], str]:
    """The (train, validation) pairs and what the validation measures: the data's test split,
    or ``folds``-fold cross-validation on the training split."""
    X, Y = data.train_X, data.train_Y
    if folds is None:
        if data.test_X is None:
            raise ValueError(f"sweep: {data.name} has no test split; give folds to validate on.")
        validation = f"the {data.name!r} test set ({data.test_X.shape[1]} examples)"
        return [((X, Y), (data.test_X, data.test_Y))], validation
    splits = []
    for held_out in fold_columns(X.shape[1], folds, seed):
        rest = np.setdiff1d(np.arange(X.shape[1]), held_out)
        splits.append(((X[:, rest], Y[:, rest]), (X[:, held_out], Y[:, held_out])))
    validation = f"{folds}-fold cross-validation on the {X.shape[1]} training examples"
    return splits, validation + f" of {data.name!r}"


def sweep(
    penalty: str = "l2",
    values: Sequence[float] | None = None,
    *,
    dataset: str | datasets.Dataset = datasets.DEFAULT,
    iterations: int = DEFAULT_ITERATIONS,
    folds: int | None = None,
    seed: int = SEED,
    progress: TextIO | None = None,
    on_row: Callable[[SweepTable], Any] | None = None,
    executor: int | concurrent.futures.Executor | None = None,
) -> SweepTable:
    """Train the demo's network once per value (per fold with ``folds``) and return the table.

    ``penalty``: a name in ``TECHNIQUES``: "l2", "l1", "elastic" (the value is λ for both
    parts), "dropout" (the value is keep_prob), ...; ``values`` defaults to the technique's
    ``values``. ``dataset``: a built-in
    dataset's name or a ``datasets.Dataset`` (e.g. from ``datasets.load_file``; one without a
    test split needs ``folds``). ``seed`` sets the initial weights and dropout masks (the same
    for every value) and the folds. ``executor``: None or 1 runs in this process; n > 1 in a
    pool of n processes; an Executor runs the runs as submitted to it. One line per row goes to
    ``progress`` (e.g. sys.stderr); ``on_row(table)`` is called after each row. Ctrl-C returns
    the rows done so far, with ``complete=False``.
    """
    values = check_values(penalty, technique(penalty).values if values is None else values)
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 1):
        raise ValueError(f"sweep: iterations = {iterations!r}; expected an integer >= 1.")
    if isinstance(seed, bool) or not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**32):
        raise ValueError(f"sweep: seed = {seed!r}; expected an integer from 0 to 2**32 - 1.")
    data = datasets.load(dataset) if isinstance(dataset, str) else dataset
    splits, validation = splits_for(data, folds, seed)
    check_stable(penalty, values, min(train[0].shape[1] for train, _ in splits))
    table = SweepTable(penalty, validation, iterations)
    name = TECHNIQUES[penalty].symbol
    tasks = [(penalty, value, split, iterations, seed) for value in values for split in splits]
    runs: dict[int, dict[int, Outcome]] = {}  # value index → fold → outcome
    done: dict[int, Row] = {}
    tty = progress is not None and progress.isatty()
    try:
        with (
            _executor(executor) as runner,
            contextlib.closing(_outcomes(tasks, runner, tty)) as outcomes,
        ):
            for task, outcome in outcomes:
                k, fold = divmod(task, len(splits))
                runs.setdefault(k, {})[fold] = outcome
                if len(runs[k]) < len(splits):
                    continue
                row = done[k] = _row(values[k], [runs[k][f] for f in range(len(splits))])
                table.rows = [done[i] for i in sorted(done)]  # the values' order, not the runs'
                if progress is not None:
                    result = (
                        f"failed: {row.error}"
                        if row.error
                        else f"train {row.train_accuracy:.1%}, val {row.val_accuracy:.1%}, "
                        f"val cost {row.val_cost:.4f} ({row.seconds:.1f} s)"
                    )
                    print(
                        f"[{len(done)}/{len(values)}] {name} = {values[k]:g}: {result}",
                        file=progress,
                        flush=True,
                    )
                if on_row is not None:
                    on_row(table)
    except KeyboardInterrupt:
        table.complete = False
    return table

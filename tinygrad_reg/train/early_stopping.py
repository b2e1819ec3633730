"""Validation during training and early stopping, for ``fit``.

The course's advice on choosing when to stop: watch the cost on a dev (validation) set that
training never sees. It falls with the training cost at first; once the network starts to
learn the training set's noise it turns back up. Early stopping keeps the parameters from the
bottom of that curve.

``fit(..., validation=(X_val, Y_val))`` or ``fit(..., validation_split=0.2)`` measures, at each
logged iteration i (0, log_every, 2·log_every, ... and the last, the iterations where ``fit``
records the training cost):

- the validation cost: the loss alone (no penalty: it measures prediction error, not the
  objective) on the validation set, in evaluation mode (no dropout), no graph;
- the validation accuracy, and the training accuracy on the whole training set;

all on the parameters *before* iteration i's update, the same ones the recorded training cost
was computed with. ``early_stopping=patience`` stops the training once the validation cost has
not improved (strictly decreased) for ``patience`` evaluations in a row, i.e.
patience·log_every iterations. ``restore_best=True`` (the default) then puts back the parameters
with the lowest validation cost (the first such, on ties); the optimizer's state (momentum, Adam's
moments) is not rewound. A training stopped by Ctrl-C keeps its last update instead, so that it
can be saved and continued. Measuring never changes the training itself: no random numbers are
drawn, so the parameters follow the same path as without validation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import no_grad
from ..tensor import Tensor
from .callbacks import Callback, TrainingState


def split_validation(
    X: Tensor, Y: Tensor, fraction: float, seed: int
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """(X_train, Y_train, X_val, Y_val): a random ``fraction`` of the columns (examples), at
    least one, held out for validation; the order comes from np.random.RandomState(seed), so a
    seed always picks the same examples. Both parts keep the original column order."""
    m = X.shape[1]
    n_val = round(fraction * m)
    if not 1 <= n_val <= m - 1:
        raise ValueError(
            f"fit: validation_split = {fraction} of m = {m} examples holds out {n_val}; "
            "expected at least one example on each side."
        )
    held_out = np.zeros(m, dtype=bool)
    held_out[np.random.RandomState(seed).permutation(m)[:n_val]] = True
    columns = (np.flatnonzero(~held_out), np.flatnonzero(held_out))
    return tuple(Tensor(a.data[:, c]) for c in columns for a in (X, Y))  # type: ignore[return-value]


def check_arguments(
    validation: Any, validation_split: Any, early_stopping: Any, restore_best: Any
) -> None:
    """Up-front checks of fit's validation arguments (the data itself is checked by fit)."""
    if validation is not None and validation_split is not None:
        raise ValueError("fit: give validation=(X_val, Y_val) or validation_split, not both.")
    if validation is not None and not (
        isinstance(validation, (tuple, list)) and len(validation) == 2
    ):
        raise TypeError(
            f"fit: validation is a {type(validation).__name__}; expected a pair (X_val, Y_val)."
        )
    if validation_split is not None:
        ok = isinstance(validation_split, (float, int, np.floating, np.integer)) and not isinstance(
            validation_split, bool
        )
        if not ok or not 0 < validation_split < 1:
            raise ValueError(
                f"fit: validation_split = {validation_split!r}; expected a fraction in (0, 1), "
                "e.g. 0.2."
            )
    if early_stopping is not None:
        ok = isinstance(early_stopping, (int, np.integer)) and not isinstance(early_stopping, bool)
        if not ok or early_stopping < 1:
            raise ValueError(
                f"fit: early_stopping = {early_stopping!r}; expected a patience, an integer >= 1 "
                "(evaluations without improvement before stopping)."
            )
        if validation is None and validation_split is None:
            raise ValueError(
                "fit: early_stopping needs a validation set: pass validation=(X_val, Y_val) or "
                "validation_split=0.2."
            )
    if not isinstance(restore_best, (bool, np.bool_)):
        raise TypeError(f"fit: restore_best = {restore_best!r}; expected True or False.")


class ValidationMonitor(Callback):
    """Measures the validation set at fit's logged iterations, before their update, remembers
    the best parameters and stops when the patience has run out; at the end, notes the best
    iteration in the history and puts its parameters back if asked."""

    def __init__(
        self,
        train: tuple[Tensor, Tensor],
        validation: tuple[Tensor, Tensor],
        loss_fn: Callable[[Tensor, Tensor], Tensor],
        accuracy_fn: Callable[[Any, Tensor, Tensor], float],
        patience: int | None,
        restore_best: bool,
    ):
        self.train, self.validation = train, validation
        self.loss_fn, self.accuracy_fn = loss_fn, accuracy_fn
        self.patience, self.restore_best = patience, restore_best
        self.best_cost = np.inf
        self.best_iteration: int | None = None
        self.best_state: dict[str, np.ndarray] | None = None
        self.since_best = 0

    def eager_step(self, state: TrainingState) -> bool:
        return state.logged  # measured on the parameters before the update

    def before_update(self, state: TrainingState) -> None:
        """Record validation cost and accuracy and the training accuracy in the history; stop
        when the patience has run out."""
        if not state.logged:
            return
        model, history = state.model, state.history
        X_val, Y_val = self.validation
        model.eval()
        try:
            with no_grad():
                cost = float(self.loss_fn(model(X_val), Y_val).item())
        finally:
            model.train()
        history.val_costs.append(cost)
        history.val_accuracies.append(self.accuracy_fn(model, X_val, Y_val))
        history.accuracies.append(self.accuracy_fn(model, *self.train))
        if cost < self.best_cost:
            self.best_cost, self.best_iteration, self.since_best = cost, state.iteration, 0
            if self.restore_best:
                self.best_state = model.state_dict()  # copies
        else:
            self.since_best += 1
        if self.patience is not None and self.since_best >= self.patience:
            history.stopped_early = state.stop = True

    def on_train_end(self, state: TrainingState) -> None:
        if state.error is not None:
            return
        history = state.history
        history.best_iteration = self.best_iteration
        history.best_val_cost = float(self.best_cost) if self.best_iteration is not None else None
        # Interrupted, the model keeps its last update: the run can go on from there.
        if self.restore_best and self.best_state is not None and not history.interrupted:
            state.model.load_state_dict(self.best_state)
            history.restored = True

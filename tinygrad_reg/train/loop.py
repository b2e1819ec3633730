"""The training loop for the course's classifiers: ``fit``.

``fit`` is the course's ``model()`` loop, with the gradients left to autodiff::

    for i in range(iterations):
        Z = model(X)                                   # logits; dropout masks drawn here
        cost = loss(Z, Y) + penalty(model, λ, m)       # one fused node each
        cost.backward()
        optimizer.step()                               # default: W ← W − 0.3·dW

Data is in the course layout: X is (n_features, m) with one column per example, Y is (1, m)
of 0/1 labels. For C classes the model has C outputs and Y holds class indices 0..C-1, (1, m),
or one-hot columns, (C, m); the default loss then is the cross-entropy over the classes.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.loader import DataLoader
from ..engine import no_grad
from ..jit.compiler import compile as compile_step
from ..nn import regularizers
from ..nn.losses import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy
from ..optim.optimizers import SGD, Optimizer
from ..tensor import Tensor
from . import early_stopping as early_stopping_module
from .callbacks import (
    Callback,
    LogFunction,
    MaxNorm,
    Progress,
    SpectralNorm,
    StopOnInterrupt,
    TrainingState,
    WarnOnDivergence,
)
from .evaluate import accuracy, check_data, in_model_dtype

#: The course's learning rate for plain gradient descent, used when no optimizer is given.
DEFAULT_LR = 0.3


def auto_loss(logits: Tensor, Y: Any, label_smoothing: float = 0.0) -> Tensor:
    """The default: cross-entropy over the classes for a model with C >= 2 outputs, the stable
    binary cross-entropy for a model with one. ``fit(loss=functools.partial(auto_loss,
    label_smoothing=ε))`` trains either with smoothed labels (see ``nn/losses.py``)."""
    if logits.shape[0] > 1:
        return cross_entropy(logits, Y, label_smoothing=label_smoothing)
    labels = Y.data if isinstance(Y, Tensor) else np.asarray(Y)
    if labels.ndim == 2 and labels.shape[0] == 1 and labels.size and labels.max() > 1:
        classes = int(labels.max()) + 1
        raise ValueError(
            f"fit: the labels go up to {classes - 1} ({classes} classes) but the model has one "
            f"output; give it one output per class, e.g. MLP([..., {classes}])."
        )
    return binary_cross_entropy_with_logits(logits, Y, label_smoothing=label_smoothing)


LOSSES: dict[str, Callable[[Tensor, Tensor], Tensor]] = {
    # The default: one of the two below, by the number of the model's outputs.
    "auto": auto_loss,
    # Stable: log-sum-exp form, finite for any logits.
    "bce_with_logits": binary_cross_entropy_with_logits,
    # C >= 2 classes: softmax and cross-entropy in one stable node.
    "cross_entropy": cross_entropy,
    # The course's formula on sigmoid(Z): log(0) = -inf once an output saturates.
    "bce": lambda logits, Y: binary_cross_entropy(logits.sigmoid(), Y),
}

PENALTIES = regularizers.PENALTIES

#: A cost this large is refused like a NaN one: its square (and a gradient's of that size, as
#: in Adam's second moment) overflows float64, √(largest float64) ≈ 1.3e154, so training would
#: go on with infinities while reporting a finite, meaningless cost.
COST_OVERFLOW = math.sqrt(sys.float_info.max)


@dataclass
class History:
    """What ``fit`` recorded.

    ``costs[k]`` is the cost (loss + penalty) computed at iteration ``iterations[k]``, before
    that iteration's update, as the course records it. ``steps`` is the number of updates made
    (by this call: a resumed run counts from its ``start_iteration``) and ``wall_time`` their
    duration in seconds. ``batch_order`` is where the run is in its order of mini-batches when
    ``fit`` returned (its ``DataLoader``'s ``state_dict()``): save it to continue the run later.

    With a validation set (see ``early_stopping``), at the same iterations and on the same
    parameters: ``accuracies[k]`` on the whole training set, ``val_costs[k]`` (the loss alone)
    and ``val_accuracies[k]`` on the validation set; ``best_iteration`` has the lowest
    validation cost (``best_val_cost``), and ``restored`` says its parameters were put back.
    """

    iterations: list[int] = field(default_factory=list)
    costs: list[float] = field(default_factory=list)
    steps: int = 0
    wall_time: float = 0.0
    stopped_early: bool = False
    interrupted: bool = False
    accuracies: list[float] = field(default_factory=list)
    val_costs: list[float] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)
    best_iteration: int | None = None
    best_val_cost: float | None = None
    restored: bool = False
    batch_order: dict[str, Any] | None = None

    @property
    def iterations_per_second(self) -> float:
        return self.steps / self.wall_time if self.wall_time > 0 else float("inf")


def fit(
    model: Any,
    X: Any,
    Y: Any = None,
    *,
    loss: str | Callable[[Tensor, Tensor], Tensor] = "auto",
    penalty: str | Callable[[Any, int], Tensor] | None = None,
    lambd: Any = 0.0,
    optimizer: Optimizer | None = None,
    iterations: int = 30_000,
    batch_size: int | None = None,
    seed: int = 0,
    log_every: int = 1000,
    callback: Callable[[int, float], Any] | None = None,
    callbacks: Sequence[Callback] = (),
    progress: bool | float = True,
    interruptible: bool = False,
    validation: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    early_stopping: int | None = None,
    restore_best: bool = True,
    max_norm: float | None = None,
    spectral_norm: float | None = None,
    dtype: Any = None,
    compiled: bool = False,
    start_iteration: int = 0,
    batch_order: dict[str, Any] | None = None,
) -> History:
    """Train ``model`` (a Module returning logits) on X (n_features, m), Y (1, m), or on the
    batches of a ``DataLoader``: ``fit(model, loader)``.

    - ``loss``: ``"auto"`` (default: ``"cross_entropy"`` for a model with C >= 2 outputs, else
      ``"bce_with_logits"``), ``"bce_with_logits"`` (stable), ``"cross_entropy"`` (C classes,
      stable; Y class indices (1, m) or one-hot (C, m)), ``"bce"`` (the course's formula on
      sigmoid(Z), NaN once outputs saturate) or a function ``loss(logits, Y) -> Tensor``.
    - ``penalty``: None/``"none"``, ``"l2"`` (λ/(2m)·ΣW²), ``"l1"`` (λ/m·Σ|W|) or
      ``"elastic"`` (``lambd = (λ₁, λ₂)``, or one λ for both), over the weight matrices
      (``lambd`` may also be a dict name → λ, see ``regularizers``), or a function
      ``penalty(model, m) -> Tensor``. m is the number of examples in the batch the cost is
      computed on.
    - ``optimizer``: default ``SGD(model.parameters(), lr=0.3)``, the course's gradient descent.
    - ``iterations``: number of updates. ``batch_size=None`` uses the whole training set each
      time (the course); otherwise the batches are those of
      ``DataLoader(X, Y, batch_size=batch_size, shuffle=True, seed=seed)`` (``data/loader.py``):
      each epoch visits the examples in an order shuffled by ``np.random.RandomState(seed)``,
      in batches of ``batch_size`` (the last may be smaller).
      Dropout masks come from the model's own rng, not from ``seed``. ``fit(model, loader)``
      takes the loader's data, batch size, shuffling, drop_last and generator instead, and
      goes on from the loader's place; the loader is left where the training stopped.
    - ``start_iteration``, ``batch_order``: continue a saved run. ``iterations`` stays the
      run's total; the loop goes from ``start_iteration`` (the updates already made) to it, and
      the mini-batches continue from ``batch_order`` (the ``History.batch_order`` of the run so
      far). With the model's parameters, the optimizer's state and the dropout generator's
      state restored as well (``data/generators.py``), the run ends bit for bit where one call
      without the pause would have.
    - ``log_every``: the cost is recorded at iterations 0, log_every, 2·log_every, ... and at
      the last one; ``callback(iteration, cost)`` is called at each of them and stops the
      training by returning a true value (``History.stopped_early`` then says so).
    - ``callbacks``: your own ``Callback`` objects (a schedule, a logger), called at fixed
      points of every iteration; the protocol is in ``callbacks.py``. The options below are
      shortcuts: each builds one of the callbacks there.
    - ``progress``: iteration, cost and iterations/s on stderr. ``True``: on a terminal one line
      updated in place; otherwise (output going to a log) a new line every
      ``LOG_INTERVAL`` seconds and one at the end. A number: a new line every that many
      seconds. ``False``: nothing.

    ``interruptible=True``: Ctrl-C (SIGINT) ends the training after the step in progress, so
    the model holds the last completed update; ``History.interrupted`` says so (a second Ctrl-C
    stops at once, as usual). Only in the main thread, where Python receives signals.

    Training should bring the cost down: when it rises above its starting value and stays there
    for ``RISING_ITERATIONS`` iterations in a row, ``fit`` warns once (``DivergenceWarning``)
    that the learning rate is probably too large.

    - ``validation=(X_val, Y_val)`` or ``validation_split=f`` (a random fraction f of X's
      examples, drawn with ``seed``, is held out and not trained on): the validation cost and
      accuracy, and the training accuracy, are recorded at the logged iterations.
      ``early_stopping=patience`` stops after ``patience`` evaluations (so patience·log_every
      iterations) without a lower validation cost; ``restore_best`` (default True) then puts
      back the parameters with the lowest one. See ``early_stopping.py``.
    - ``max_norm=c``: after every step, each row of every weight matrix (a unit's incoming
      weights; W is (n_out, n_in)) is scaled down to 2-norm c if longer (see
      ``optim/constraints.py``); biases are left alone. ``spectral_norm=c``: after every step
      (after max-norm), each weight matrix is scaled down to largest singular value c if above.

    A non-finite cost raises FloatingPointError (it would make every parameter NaN), and so does
    one above ``COST_OVERFLOW`` ≈ 1.3e154 (features of order 1e300, say), whose square
    overflows.
    ``dtype``: the data is converted to the dtype of the model's parameters (float32 data for
    a float32 model, ``MLP(..., dtype=np.float32)``), so that numpy never silently computes a
    float32 model in float64. ``dtype=`` states that dtype: one different from the
    parameters' is a ``TypeError`` (build the model with it instead).
    ``compiled=True`` runs each step through ``tinygrad_reg.compile``: the first step (and the
    first of each new batch shape) is recorded, the others replay it, with the same results to
    the last bit and less Python per step. The iterations that evaluate a validation set run
    eagerly. A non-finite cost is then reported after its step's update was applied.
    The model is in training mode during ``fit`` and back in its previous mode afterwards.
    """
    given = X if isinstance(X, DataLoader) else None
    if given is not None:
        X, Y = _loader_data(given, Y, batch_size, batch_order, validation_split)
    elif Y is None:
        raise TypeError("fit: Y is missing; expected fit(model, X, Y) or fit(model, loader).")
    X, Y = check_data(X, Y, "fit")
    X, Y = in_model_dtype(model, X, Y, dtype, "fit")
    early_stopping_module.check_arguments(
        validation, validation_split, early_stopping, restore_best
    )
    if validation_split is not None:
        X, Y, X_val, Y_val = early_stopping_module.split_validation(X, Y, validation_split, seed)
        validation = (X_val, Y_val)
    m = X.shape[1]
    _check_arguments(model, m, iterations, batch_size, seed, log_every, callback, callbacks)
    if not (_is_integer(start_iteration) and 0 <= start_iteration < iterations):
        raise ValueError(
            f"fit: start_iteration = {start_iteration!r}; expected an integer from 0 (a new run) "
            f"to iterations - 1 = {iterations - 1} (the updates a resumed run has made)."
        )
    loader = _loader(X, Y, batch_size, seed, given)
    if batch_order is not None:
        loader.load_state_dict(batch_order, "fit (batch_order)")
    mini_batches = batch_size is not None or given is not None
    loss_fn = _loss_function(loss)
    penalty_fn = _penalty_function(penalty, lambd)
    if penalty_fn is not None and not callable(penalty):
        with no_grad():  # λ and what it selects are checked now, not at the first iteration
            penalty_fn(model, m)
    if optimizer is None:
        optimizer = SGD(model.parameters(), lr=DEFAULT_LR)
    _check_optimizer(optimizer, model)

    # The keyword arguments are shortcuts that build callbacks; yours come after them.
    watchers: list[Callback] = [] if max_norm is None else [MaxNorm(max_norm)]
    if spectral_norm is not None:
        watchers.append(SpectralNorm(spectral_norm))
    watchers.append(WarnOnDivergence())
    display = Progress.for_fit(progress, sys.stderr)
    if display is not None:
        watchers.append(display)
    if validation is not None:
        X_val, Y_val = check_data(*validation, "fit (validation)")
        X_val, Y_val = in_model_dtype(model, X_val, Y_val, dtype, "fit (validation)")
        if X_val.shape[0] != X.shape[0]:
            raise ValueError(
                f"fit: the validation X has {X_val.shape[0]} features (rows) but X has "
                f"{X.shape[0]}; expected the same features."
            )
        watchers.append(
            early_stopping_module.ValidationMonitor(
                (X, Y), (X_val, Y_val), loss_fn, accuracy, early_stopping, restore_best
            )
        )
    if callback is not None:
        watchers.append(LogFunction(callback))
    watchers += callbacks
    if interruptible:
        watchers.append(StopOnInterrupt())

    compiled_step = None if not compiled else _compiled_step(model, loss_fn, penalty_fn, optimizer)
    history = History()
    state = TrainingState(model, optimizer, history, iterations, start_iteration, loader)
    state.iteration = start_iteration
    was_training = model.training
    model.train()
    start = time.perf_counter()
    try:
        for hook in watchers:
            hook.on_train_begin(state)
        also = state.also_logged_every or iterations + 1  # no request: never
        for i in range(start_iteration, iterations):
            X_batch, Y_batch = loader.next_batch() if mini_batches else (X, Y)
            logged = i % log_every == 0 or i == iterations - 1 or (i + 1) % also == 0
            state.iteration, state.logged = i, logged
            eager = compiled_step is None or any(hook.eager_step(state) for hook in watchers)
            if eager:
                cost = loss_fn(model(X_batch), Y_batch)
                if penalty_fn is not None:
                    cost = cost + penalty_fn(model, Y_batch.shape[1])
            else:  # forward, backward and update, replayed
                cost = compiled_step(X_batch, Y_batch)
            state.cost = _checked_cost(cost.item(), i, loss_fn)
            if state.logged:
                history.iterations.append(i)
                history.costs.append(state.cost)
            for hook in watchers:
                hook.before_update(state)
            if state.stop:  # no update from here
                break
            if eager:
                model.zero_grad()
                cost.backward()
                optimizer.step()
            history.steps = i + 1 - start_iteration
            for hook in watchers:
                hook.after_update(state)
            if state.stop:
                if not state.logged:  # the history ends where the training did
                    history.iterations.append(i)
                    history.costs.append(state.cost)
                break
    except BaseException as error:
        state.error = error
        raise
    finally:
        history.wall_time = time.perf_counter() - start
        history.batch_order = loader.state_dict()
        if given is not None:
            given.load_state_dict(history.batch_order)
        try:
            for hook in watchers:
                hook.on_train_end(state)
        finally:
            if not was_training:
                model.eval()
    return history


def _loader_data(
    loader: DataLoader, Y: Any, batch_size: Any, batch_order: Any, validation_split: Any
) -> tuple[np.ndarray, np.ndarray]:
    """The X and Y of ``fit(model, loader)``, whose loader says what the arguments would."""
    for name, value in [
        ("Y", Y),
        ("batch_size", batch_size),
        ("batch_order", batch_order),
        ("validation_split", validation_split),
    ]:
        if value is not None:
            raise ValueError(
                f"fit: given a DataLoader and {name}; the loader holds the labels, the batch "
                "size and its place (load_state_dict), and a split of it is validation=(X, Y)."
            )
    if loader.examples_axis != 1 or loader.X.ndim != 2 or len(loader) == 0:
        raise ValueError(
            f"fit: the loader is {loader!r} with {len(loader)} batches per epoch; expected "
            "X in the course layout (n_features, m), one column per example, and at least one "
            "batch."
        )
    return loader.X, loader.Y


def _loader(X: Tensor, Y: Tensor, batch_size: Any, seed: int, given: Any) -> DataLoader:
    """fit's loader: ``DataLoader(X, Y, batch_size, shuffle=True, seed=seed)``, or one with the
    settings, generator and place of the loader given. Whole-set training (batch_size=None)
    draws no batches, but carries a loader's state on (a run saved mid-epoch goes on from
    there when resumed with mini-batches)."""
    if given is None:
        generator = np.random.RandomState(seed)
        return DataLoader(
            X, Y, batch_size=batch_size or X.shape[1], shuffle=True, generator=generator
        )
    loader = DataLoader(
        X,
        Y,
        batch_size=given.batch_size,
        shuffle=given.shuffle,
        drop_last=given.drop_last,
        generator=given.generator,
    )
    loader.load_state_dict(given.state_dict())
    return loader


def _checked_cost(value: float, iteration: int, loss_fn: Any) -> float:
    """The cost, if training can go on from it: not NaN, not infinite, not so large that its
    square overflows."""
    if abs(value) < COST_OVERFLOW:  # False for NaN and ±inf too
        return value
    hint = "a smaller learning rate"
    if loss_fn is LOSSES["bce"]:
        hint = "loss='bce_with_logits' (finite for saturated outputs) or " + hint
    if math.isfinite(value):
        raise FloatingPointError(
            f"fit: the cost is {value:.3g} at iteration {iteration}; above "
            f"{COST_OVERFLOW:.2g} its square overflows float64 (so do Adam's and "
            "L2's squares of gradients and weights). Scale the features to about 1 "
            f"(standardize X), or use {hint}."
        )
    raise FloatingPointError(
        f"fit: the cost is {value} at iteration {iteration}; the parameters would become "
        f"NaN. Use {hint}."
    )


def _compiled_step(model: Any, loss_fn: Any, penalty_fn: Any, optimizer: Optimizer) -> Any:
    """The eager iteration's numpy calls, in the same order, as one compiled step."""

    def step(X_batch: Tensor, Y_batch: Tensor) -> Tensor:
        cost = loss_fn(model(X_batch), Y_batch)
        if penalty_fn is not None:
            cost = cost + penalty_fn(model, Y_batch.shape[1])
        model.zero_grad()
        cost.backward()
        optimizer.step()
        return cost

    return compile_step(step)


def _check_arguments(
    model: Any,
    m: int,
    iterations: Any,
    batch_size: Any,
    seed: Any,
    log_every: Any,
    callback: Any,
    callbacks: Any,
) -> None:
    """Everything ``fit`` is given is checked before training starts, in the ranges the
    command line accepts: a mistake is reported at once, not after (or instead of) training."""
    if not (callable(model) and callable(getattr(model, "parameters", None))):
        raise TypeError(
            f"fit: model is a {type(model).__name__}; expected a Module (e.g. nn.MLP) that "
            "returns logits."
        )
    for name, value, low in [("iterations", iterations, 1), ("log_every", log_every, 1)]:
        if not _is_integer(value) or value < low:
            raise ValueError(f"fit: {name} = {value!r}; expected an integer >= {low}.")
    if batch_size is not None and not (_is_integer(batch_size) and 1 <= batch_size <= m):
        raise ValueError(
            f"fit: batch_size = {batch_size!r}; expected None (the whole set) or an integer "
            f"between 1 and m = {m}."
        )
    if not (_is_integer(seed) and 0 <= seed < 2**32):
        raise ValueError(f"fit: seed = {seed!r}; expected an integer in [0, 2**32).")
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback is a {type(callback).__name__}; expected a function.")
    for hook in callbacks:
        if not isinstance(hook, Callback):
            raise TypeError(
                f"fit: callbacks holds a {type(hook).__name__}; expected Callback objects "
                "(subclass tinygrad_reg.train.Callback and override its hooks)."
            )


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _loss_function(loss: Any) -> Callable[[Tensor, Tensor], Tensor]:
    if callable(loss):
        return loss
    if loss not in LOSSES:
        raise ValueError(
            f"fit: unknown loss {loss!r}; expected one of {list(LOSSES)} or a function."
        )
    return LOSSES[loss]


def _penalty_function(penalty: Any, lambd: Any) -> Callable[[Any, int], Tensor] | None:
    """``penalty(model, m) -> Tensor``, or None for no penalty."""
    if callable(penalty):
        return penalty
    kind = "none" if penalty is None else penalty
    if kind not in PENALTIES:
        raise ValueError(
            f"fit: unknown penalty {penalty!r}; expected one of {list(PENALTIES)} or a function."
        )
    if kind != "none":
        return lambda model, m: regularizers.penalty(kind, model, lambd, m)
    if not isinstance(lambd, dict) and np.any(np.asarray(lambd) != 0):
        raise ValueError(
            f"fit: lambd = {lambd} but penalty is None; say which penalty, e.g. penalty='l2' "
            "(or leave lambd at 0)."
        )
    return None


def _check_optimizer(optimizer: Any, model: Any) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"fit: optimizer is a {type(optimizer).__name__}; expected one from tinygrad_reg.optim."
        )
    own = {id(p) for p in model.parameters()}
    if any(id(p) not in own for p in optimizer.params):
        raise ValueError(
            "fit: the optimizer holds tensors that are not parameters of this model; build it "
            "from model.parameters()."
        )

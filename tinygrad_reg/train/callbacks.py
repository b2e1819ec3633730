"""What watches ``fit``'s loop: the callback protocol, and the small callbacks fit builds.

``fit`` itself only does forward, cost, backward and step. Everything else is a callback, an
object with one job that the loop calls at fixed points of every iteration::

    on_train_begin(state)
    for each iteration:
        (under compiled=True, eager_step(state) is asked first: see below)
        forward and cost
        before_update(state)    the cost is known, the parameters are not yet updated
        backward and step
        after_update(state)     the parameters hold this iteration's update
    on_train_end(state)         always, also after a stop or an error

``state`` is the ``TrainingState`` fit shares with every callback: the model, the optimizer,
the ``History`` being written, the iteration, its cost, whether it is a logged one, and the
``DataLoader`` handing out the mini-batches (with the model's and optimizer's states, what a
checkpoint of the run needs; ``data/loader.py``). Setting
``state.stop = True`` ends the training after the hook that set it (in ``before_update``: with
no update for that iteration). ``state.error`` is the exception leaving ``fit`` in
``on_train_end``, else None.

Under ``compiled=True`` an iteration replays forward, backward and step in one call, so
``before_update`` sees the parameters already updated; a callback that must see them before
(early stopping measures the validation set there) returns True from ``eager_step(state)`` for
the iterations it needs, and those run eagerly.

Write your own by subclassing ``Callback`` and overriding the hooks you need; pass instances
as ``fit(..., callbacks=[...])``. They run after the ones fit builds from its keyword arguments
(max-norm, the divergence warning, progress, validation, ``callback=``) and before Ctrl-C's.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ..optim import constraints

#: Seconds between progress lines when stderr is not a terminal (a log file, a pipe).
LOG_INTERVAL = 10.0
#: Iterations in a row with the cost above its start after which ``fit`` warns: diverging.
RISING_ITERATIONS = 50


@dataclass
class TrainingState:
    """What ``fit`` shares with its callbacks (see the module docstring)."""

    model: Any
    optimizer: Any
    history: Any
    iterations: int  # the number of iterations asked for: the run's total
    start_iteration: int = 0  # where this call started (> 0: a resumed run)
    batch_order: Any = None  # the DataLoader handing out the mini-batches
    iteration: int = 0
    cost: float = math.nan  # this iteration's cost (loss + penalty), before its update
    logged: bool = False  # this iteration records its cost in the history
    # a callback's request: every iteration i with (i + 1) % n == 0 is logged (and measured) too
    also_logged_every: int | None = None
    stop: bool = False
    error: BaseException | None = None


class Callback:
    """The protocol: every hook does nothing until a subclass overrides it."""

    def on_train_begin(self, state: TrainingState) -> None:
        pass

    def eager_step(self, state: TrainingState) -> bool:
        """Under ``compiled=True``: True to run this iteration eagerly, so that
        ``before_update`` sees the parameters before the update."""
        return False

    def before_update(self, state: TrainingState) -> None:
        pass

    def after_update(self, state: TrainingState) -> None:
        pass

    def on_train_end(self, state: TrainingState) -> None:
        pass


class MaxNorm(Callback):
    """After every step, each row of every weight matrix is scaled down to 2-norm ``c`` if
    longer (``optim/constraints.py``); biases are left alone."""

    def __init__(self, max_norm: float):
        self.max_norm = constraints.check_max_norm(max_norm, "fit")

    def after_update(self, state: TrainingState) -> None:
        constraints.apply_max_norm(state.model, self.max_norm)


class SpectralNorm(Callback):
    """After every step, every weight matrix whose largest singular value exceeds ``c`` is
    scaled down to σ_max = c (``optim/constraints.py``); biases are left alone."""

    def __init__(self, max_norm: float):
        self.max_norm = constraints.check_max_norm(max_norm, "fit: spectral_norm")

    def after_update(self, state: TrainingState) -> None:
        constraints.apply_spectral_norm(state.model, self.max_norm)


class DivergenceWarning(UserWarning):
    """The cost kept rising during ``fit``: the learning rate is probably too large."""


class WarnOnDivergence(Callback):
    """Warns once when the cost stays above its first value for ``RISING_ITERATIONS`` iterations
    in a row: training made the model worse than its random start, and kept it there."""

    def __init__(self) -> None:
        self.first, self.streak, self.warned = math.nan, 0, False

    def after_update(self, state: TrainingState) -> None:
        cost = state.cost
        if state.iteration == state.start_iteration:
            self.first = cost
        self.streak = self.streak + 1 if cost > self.first else 0
        if self.streak >= RISING_ITERATIONS and not self.warned:
            self.warned = True
            warnings.warn(
                f"fit: the cost rose from {self.first:.4g} at the start to {cost:.4g} at "
                f"iteration {state.iteration}, and stayed above its start for {self.streak} "
                "iterations in a row; the learning rate is probably too large (try one 3 to "
                "10 times smaller).",
                DivergenceWarning,
                stacklevel=4,
            )


class Progress(Callback):
    """Iteration, cost and iterations/s on ``stream``: on a terminal one line rewritten in place
    with a carriage return (at most 10 times a second: writing on every iteration would cost
    more than the iteration); in a log, a new line every ``interval`` seconds and one at the end.
    """

    def __init__(self, stream: TextIO, interval: float, in_place: bool):
        self.stream, self.interval, self.in_place = stream, interval, in_place
        self.total, self.begun, self.done, self.cost, self.width = 0, 0, 0, math.nan, 0
        self.start = self.last = time.perf_counter()

    @classmethod
    def for_fit(cls, progress: bool | float, stream: TextIO) -> Progress | None:
        """fit's ``progress=``: True (in place on a terminal, else every ``LOG_INTERVAL``
        seconds), a number of seconds between lines, or False (None: no callback)."""
        if progress is False:
            return None
        if progress is True:
            if _is_terminal(stream):
                return cls(stream, interval=0.1, in_place=True)
            return cls(stream, interval=LOG_INTERVAL, in_place=False)
        if not (isinstance(progress, (int, float)) and progress >= 0):
            raise ValueError(f"fit: progress = {progress!r}; expected True, False or seconds >= 0.")
        return cls(stream, interval=float(progress), in_place=False)

    def on_train_begin(self, state: TrainingState) -> None:
        self.total, self.begun = state.iterations, state.start_iteration
        self.done = state.start_iteration
        self.start = self.last = time.perf_counter()

    def after_update(self, state: TrainingState) -> None:
        self.done, self.cost = state.iteration + 1, state.cost
        now = time.perf_counter()
        if now - self.last >= self.interval:
            self.last = now
            self.render(now)

    def render(self, now: float) -> None:
        rate = (self.done - self.begun) / (now - self.start) if now > self.start else 0.0
        line = f"iteration {self.done}/{self.total}  cost {self.cost:.6g}  {rate:,.0f} it/s"
        if self.in_place:
            self.stream.write("\r" + line.ljust(self.width))  # pad over a longer previous line
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.width = len(line)

    def on_train_end(self, state: TrainingState) -> None:
        """The final numbers (then a newline, so that later output starts on its own line)."""
        self.render(time.perf_counter())
        if self.in_place:
            self.stream.write("\n")
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class LogFunction(Callback):
    """fit's ``callback=``: ``function(iteration, cost)`` at every logged iteration, after its
    update; a true result stops the training (``History.stopped_early``)."""

    def __init__(self, function: Callable[[int, float], Any]):
        self.function = function

    def after_update(self, state: TrainingState) -> None:
        if state.logged and self.function(state.iteration, state.cost):
            state.history.stopped_early = True
            state.stop = True


class DeferInterrupt:
    """Ctrl-C (SIGINT) held back, to be acted on at a safe point: inside
    ``with DeferInterrupt() as interrupt:`` the first Ctrl-C only sets ``interrupt.received``
    and puts the previous handler back, so that a second one interrupts at once, as usual.
    The handler does nothing else (printing from it could collide with a print in progress).
    Only in the main thread, where Python receives signals; elsewhere it does nothing."""

    def __init__(self) -> None:
        self.received = False
        self.previous: Any = None

    def __enter__(self) -> DeferInterrupt:
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = True
        self._restore()

    def __exit__(self, *exc_info: Any) -> None:
        self._restore()

    def _restore(self) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None


class StopOnInterrupt(Callback):
    """Ctrl-C (SIGINT) ends the training after the step in progress, so the model holds the last
    completed update (``History.interrupted``); a second Ctrl-C interrupts at once. It watches
    ``interrupt``, a ``DeferInterrupt`` the caller holds open beyond ``fit`` (to save the model
    before Ctrl-C can stop anything, as ``train`` does), or its own, open during ``fit``."""

    def __init__(self, interrupt: DeferInterrupt | None = None) -> None:
        self.own = interrupt is None
        self.interrupt = DeferInterrupt() if interrupt is None else interrupt

    def on_train_begin(self, state: TrainingState) -> None:
        if self.own:
            self.interrupt.__enter__()

    def after_update(self, state: TrainingState) -> None:
        if self.interrupt.received:
            print(
                f"\nCtrl-C: stopped after {state.iteration + 1} iterations",
                file=sys.stderr,
                flush=True,
            )
            state.history.interrupted = True
            state.stop = True

    def on_train_end(self, state: TrainingState) -> None:
        if self.own:
            self.interrupt.__exit__()


class LRSchedule(Callback):
    """Steps a learning-rate schedule (``optim/schedules.py``) as a PyTorch loop would: after
    the optimizer's step of the last iteration of each epoch (``every="epoch"``, the default:
    the schedule's counts are epochs), or after every iteration (``every="iteration"``, for a
    warm-up counted in steps). ``ReduceLROnPlateau`` is fed the validation cost measured at
    the iteration it steps after (before that iteration's update: fit logs those iterations
    too, whatever ``log_every``), so fit needs ``validation=`` or ``validation_split=``."""

    def __init__(self, scheduler: Any, every: str = "epoch"):
        if every not in ("epoch", "iteration"):
            raise ValueError(f"LRSchedule: every = {every!r}; expected 'epoch' or 'iteration'.")
        if not callable(getattr(scheduler, "step", None)):
            raise TypeError(
                f"LRSchedule: scheduler is a {type(scheduler).__name__}; expected a schedule "
                "from tinygrad_reg.optim (StepLR, CosineAnnealingLR, ...)."
            )
        self.scheduler, self.every = scheduler, every
        self.on_plateau = type(scheduler).__name__ == "ReduceLROnPlateau"

    def on_train_begin(self, state: TrainingState) -> None:
        if self.scheduler.optimizer is not state.optimizer:
            raise ValueError(
                f"LRSchedule: the {type(self.scheduler).__name__} steps another optimizer than "
                "fit's; expected a schedule built on the optimizer given to fit."
            )
        if self.on_plateau:
            # the validation cost is measured at each iteration the schedule steps after, so
            # the cost it is fed does not depend on log_every, nor on where a run was resumed
            state.also_logged_every = 1 if self.every == "iteration" else len(state.batch_order)

    def after_update(self, state: TrainingState) -> None:
        if self.every == "epoch" and (state.iteration + 1) % len(state.batch_order) != 0:
            return
        if not self.on_plateau:
            return self.scheduler.step()
        if not state.history.val_costs:
            raise ValueError(
                f"LRSchedule: ReduceLROnPlateau needs the validation cost at iteration "
                f"{state.iteration}, and fit has none; pass validation= or validation_split=."
            )
        self.scheduler.step(state.history.val_costs[-1])

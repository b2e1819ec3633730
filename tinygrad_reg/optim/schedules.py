"""Learning-rate schedules with PyTorch's names, arguments and update rules.

A schedule owns no learning rate of its own: it rewrites ``group["lr"]`` in the optimizer's
parameter groups, one value per group, and the next ``optimizer.step()`` reads it (also under
``compile``, which reads the groups before every replay). As in PyTorch, call
``scheduler.step()`` after ``optimizer.step()``, once per epoch (or per iteration, if that is
what the schedule's counts mean)::

    optimizer = Adam(model, lr=1e-3)
    scheduler = CosineAnnealingLR(optimizer, T_max=30)
    for epoch in range(30):
        for X, Y in loader:
            ...; optimizer.step()
        scheduler.step()

The rules are PyTorch's recursive ones: each step multiplies (or moves) the current
``group["lr"]``, so a value set by hand between steps is carried on, and the floats equal
``torch.optim.lr_scheduler``'s step for step. Constructing a schedule counts as its step 0
(``last_epoch`` becomes 0); ``base_lrs`` are the groups' learning rates at that moment (their
``"initial_lr"``, which the first schedule on an optimizer records). ``state_dict`` is a flat
dict of numpy arrays, as the optimizers' (a checkpoint stores it without pickle).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

from .optimizer import Optimizer, check_number, check_saved_type

StateDict = dict[str, np.ndarray]


def check_count(where: str, name: str, value: Any, low: int) -> int:
    """``value`` as an int >= ``low`` (a bool or a float is refused)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{where}: {name} = {value!r} is a {type(value).__name__}; "
            f"expected an integer >= {low}."
        )
    if value < low:
        raise ValueError(f"{where}: {name} = {value}; expected an integer >= {low}.")
    return int(value)


class LRScheduler:
    """The base of the epoch-counting schedules: ``last_epoch``, ``base_lrs``, ``step``,
    ``get_last_lr`` and ``state_dict``. A subclass implements ``get_lr()``: the groups' next
    learning rates, given that ``last_epoch`` was just advanced. ``settings`` names the
    constructor's arguments saved in ``state_dict``."""

    settings: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        where = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{where}: optimizer is a {type(optimizer).__name__}; expected a tinygrad_reg "
                "optimizer (SGD, Adam, ...)."
            )
        last_epoch = check_count(where, "last_epoch", last_epoch, -1)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(
                    f"{where}: last_epoch = {last_epoch} resumes a schedule, but "
                    f"param_groups[{i}] has no 'initial_lr'; expected last_epoch = -1 for a "
                    "new schedule, or load_state_dict to resume one."
                )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step_count = 0
        self.initial = True  # the constructor's step: most rules leave the lr as it is
        self.step()
        self.initial = False

    def get_lr(self) -> list[float]:
        raise NotImplementedError

    def current_lrs(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def step(self) -> None:
        """Advance ``last_epoch`` by one and write the new learning rates into the groups."""
        self.step_count += 1
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr(), strict=True):
            group["lr"] = lr
        self.last_lr = self.current_lrs()

    def get_last_lr(self) -> list[float]:
        """The learning rates the last step wrote, one per parameter group."""
        return list(self.last_lr)

    # --- saving and restoring ------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """What ``state_dict`` saves, as Python values (name → number or list of numbers)."""
        names = ("last_epoch", "step_count", "base_lrs", "last_lr", *self.settings)
        return {name: getattr(self, name) for name in names}

    def state_dict(self) -> StateDict:
        """The schedule's counters, base and last learning rates and settings, as numpy
        arrays (``"type"`` is the class name); ``load_state_dict`` continues bit for bit."""
        out = {"type": np.array(type(self).__name__)}
        for name, value in self.state().items():
            out[name] = np.array(value)
        return out

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore a ``state_dict``; it is checked first (the class, the keys, one learning
        rate per group), so on a problem a ValueError names it and nothing changed."""
        for name, value in self.check_state_dict(state_dict).items():
            setattr(self, name, value)

    def check_state_dict(self, state_dict: StateDict) -> dict[str, Any]:
        """Validate ``state_dict`` without changing anything; return the values it restores."""
        where = f"{type(self).__name__}.load_state_dict"
        check_saved_type(state_dict, type(self).__name__, where, "schedule")
        current = self.state()
        if set(state_dict) != {"type", *current}:
            raise ValueError(
                f"{where}: the state has entries {sorted(state_dict)}; expected "
                f"{sorted(['type', *current])}."
            )
        restored = {}
        for name, now in current.items():
            array = np.asarray(state_dict[name])
            if isinstance(now, str):
                if array.shape != () or array.dtype.kind != "U":
                    raise ValueError(f"{where}: {name!r} is {array!r}; expected a string.")
                restored[name] = str(array)
            elif isinstance(now, list):
                values = array.tolist()
                if array.ndim != 1 or array.dtype.kind not in "iuf":
                    raise ValueError(
                        f"{where}: {name!r} has shape {array.shape} and dtype {array.dtype}; "
                        "expected a list of numbers."
                    )
                if name != "milestones" and len(values) != len(self.optimizer.param_groups):
                    raise ValueError(
                        f"{where}: {name!r} holds {len(values)} values; this optimizer has "
                        f"{len(self.optimizer.param_groups)} parameter groups."
                    )
                restored[name] = values
            else:
                if array.shape != () or array.dtype.kind not in "biuf":
                    raise ValueError(
                        f"{where}: {name!r} has shape {array.shape} and dtype {array.dtype}; "
                        "expected a number."
                    )
                restored[name] = array.item()
        return restored

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.settings)
        return f"{type(self).__name__}({settings}, last_epoch={self.last_epoch})"


class StepLR(LRScheduler):
    r"""Decay by ``gamma`` every ``step_size`` epochs.

    $$\eta_t = \begin{cases} \gamma\,\eta_{t-1} & t > 0,\ t \bmod \text{step\_size} = 0 \\
    \eta_{t-1} & \text{otherwise} \end{cases}$$
    so that $\eta_t = \eta_0\,\gamma^{\lfloor t/\text{step\_size}\rfloor}$.
    """

    settings = ("step_size", "gamma")

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ):
        self.step_size = check_count("StepLR", "step_size", step_size, 1)
        self.gamma = check_number("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]


class MultiStepLR(LRScheduler):
    r"""Decay by ``gamma`` at each epoch listed in ``milestones`` (by $\gamma^k$ at an epoch
    listed k times).

    $$\eta_t = \gamma^{\#\{i:\ m_i = t\}}\,\eta_{t-1}$$
    """

    settings = ("milestones", "gamma")

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ):
        if not isinstance(milestones, Iterable) or isinstance(milestones, (str, bytes)):
            raise TypeError(
                f"MultiStepLR: milestones = {milestones!r}; expected a list of epochs (integers)."
            )
        epochs = [check_count("MultiStepLR", "milestones[]", m, 0) for m in milestones]
        self.milestones = Counter(epochs)
        self.gamma = check_number("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def state(self) -> dict[str, Any]:
        out = super().state()
        out["milestones"] = sorted(self.milestones.elements())
        return out

    def load_state_dict(self, state_dict: StateDict) -> None:
        super().load_state_dict(state_dict)
        self.milestones = Counter(int(m) for m in self.milestones)

    def get_lr(self) -> list[float]:
        if self.last_epoch not in self.milestones:
            return self.current_lrs()
        return [lr * self.gamma ** self.milestones[self.last_epoch] for lr in self.current_lrs()]


class ExponentialLR(LRScheduler):
    r"""Decay by ``gamma`` every epoch.

    $$\eta_t = \gamma\,\eta_{t-1},\qquad\text{so}\qquad \eta_t = \eta_0\,\gamma^t$$
    """

    settings = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = check_number("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        if self.initial:
            return self.current_lrs()
        return [lr * self.gamma for lr in self.current_lrs()]


class CosineAnnealingLR(LRScheduler):
    r"""Anneal from the base rate $\eta_0$ down to ``eta_min`` along half a cosine over
    ``T_max`` epochs, then back up (a period of $2\,T_{max}$), in PyTorch's recursive form:

    $$\eta_t = \eta_{min} + (\eta_{t-1} - \eta_{min})\,
      \frac{1 + \cos(\pi t / T_{max})}{1 + \cos(\pi (t-1) / T_{max})}$$
    and, at the bottom of each period, where that ratio would divide by zero
    ($(t - 1 - T_{max}) \bmod 2T_{max} = 0$),
    $\eta_t = \eta_{t-1} + (\eta_0 - \eta_{min})\,(1 - \cos(\pi/T_{max}))/2$.
    Unchanged by hand, it follows $\eta_t = \eta_{min} + \tfrac12(\eta_0 - \eta_{min})
    (1 + \cos(\pi t/T_{max}))$.
    """

    settings = ("T_max", "eta_min")

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ):
        self.T_max = check_count("CosineAnnealingLR", "T_max", T_max, 1)
        self.eta_min = check_number("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        t, T, low = self.last_epoch, self.T_max, self.eta_min
        if self.initial and self.step_count == 1 and t > 0:  # resumed at epoch t: closed form
            return [
                low + (base - low) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs
            ]
        if self.initial:
            return self.current_lrs()
        if (t - 1 - T) % (2 * T) == 0:
            rise = (1 - math.cos(math.pi / T)) / 2
            return [lr + (base - low) * rise for lr, base in zip(self.current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T))
        return [ratio * (lr - low) + low for lr in self.current_lrs()]


class LinearLR(LRScheduler):
    r"""Linear warm-up (or decay): the factor on the base rate moves linearly from
    ``start_factor`` to ``end_factor`` over ``total_iters`` steps, then stays.

    $$\eta_0 = s\,\eta_{base},\qquad
      \eta_t = \eta_{t-1}\left(1 + \frac{e - s}{n\,s + (t-1)(e - s)}\right)\ (0 < t \le n),
      \qquad \eta_t = \eta_{t-1}\ (t > n)$$
    with $s$ = ``start_factor``, $e$ = ``end_factor``, $n$ = ``total_iters``; unchanged by
    hand, $\eta_t = \eta_{base}\,(s + (e - s)\min(t, n)/n)$. A rate that this product
    rounds below 0 (a decay to ``end_factor=0`` can end at -3e-17) is 0, where PyTorch keeps it.
    """

    settings = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ):
        self.start_factor = check_number(
            "LinearLR", "start_factor", start_factor, positive=True, up_to=1.0
        )
        self.end_factor = check_number("LinearLR", "end_factor", end_factor, up_to=1.0)
        self.total_iters = check_count("LinearLR", "total_iters", total_iters, 1)
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        s, e, n, t = self.start_factor, self.end_factor, self.total_iters, self.last_epoch
        if t == 0:
            return [lr * s for lr in self.current_lrs()]
        if self.initial or t > n:
            return self.current_lrs()
        # a decay to e = 0 can round to -3e-17 at t = n (PyTorch keeps that): a rate is >= 0
        rule = (lr * (1.0 + (e - s) / (n * s + (t - 1) * (e - s))) for lr in self.current_lrs())
        return [max(lr, 0.0) for lr in rule]


class ReduceLROnPlateau(LRScheduler):
    r"""Multiply the learning rates by ``factor`` when a metric (``step(metric)``, typically
    the validation cost) has not improved for more than ``patience`` epochs.

    A value $v$ improves on the best so far $b$ when, in mode ``"min"``,
    $v < b\,(1 - \text{threshold})$ (``threshold_mode="rel"``) or $v < b - \text{threshold}$
    (``"abs"``); in mode ``"max"``, $v > b\,(1 + \text{threshold})$ or
    $v > b + \text{threshold}$. After ``patience + 1`` epochs in a row without improvement,
    $\eta \leftarrow \max(\text{factor}\cdot\eta,\ \text{min\_lr})$ in each group (skipped if it
    would change $\eta$ by no more than ``eps``), then ``cooldown`` epochs are not counted.
    """

    settings = ("mode", "factor", "patience", "threshold", "threshold_mode", "cooldown",
                "min_lrs", "eps", "best", "num_bad_epochs", "cooldown_counter")  # fmt: skip

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | list[float] = 0.0,
        eps: float = 1e-8,
    ):
        where = "ReduceLROnPlateau"
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{where}: optimizer is a {type(optimizer).__name__}; expected a tinygrad_reg "
                "optimizer (SGD, Adam, ...)."
            )
        choices = (
            ("mode", mode, ("min", "max")),
            ("threshold_mode", threshold_mode, ("rel", "abs")),
        )
        for name, value, allowed in choices:
            if value not in allowed:
                raise ValueError(f"{where}: {name} = {value!r}; expected one of {list(allowed)}.")
        groups = len(optimizer.param_groups)
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != groups:
                raise ValueError(
                    f"{where}: min_lr = {list(min_lr)} holds {len(min_lr)} values; expected one "
                    f"per parameter group ({groups})."
                )
            lows = [check_number(where, f"min_lr[{i}]", v) for i, v in enumerate(min_lr)]
        else:
            lows = [check_number(where, "min_lr", min_lr)] * groups
        self.optimizer, self.mode, self.threshold_mode, self.min_lrs = (
            optimizer,
            mode,
            threshold_mode,
            lows,
        )
        self.factor = check_number(where, "factor", factor, below=1.0)
        self.patience = check_count(where, "patience", patience, 0)
        self.threshold = check_number(where, "threshold", threshold)
        self.cooldown = check_count(where, "cooldown", cooldown, 0)
        self.eps = check_number(where, "eps", eps)
        self.base_lrs = self.current_lrs()
        self.last_lr = self.current_lrs()
        self.last_epoch, self.step_count = 0, 0
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs, self.cooldown_counter = 0, 0

    def is_better(self, value: float) -> bool:
        best, threshold = self.best, self.threshold
        if self.mode == "min":
            return value < (
                best * (1.0 - threshold) if self.threshold_mode == "rel" else best - threshold
            )
        return value > (
            best * (threshold + 1.0) if self.threshold_mode == "rel" else best + threshold
        )

    def step(self, metrics: Any) -> None:  # type: ignore[override]
        """One epoch's metric (a number or a one-element Tensor/array)."""
        array = np.asarray(getattr(metrics, "data", metrics))
        if array.size != 1 or array.dtype.kind not in "biuf" or math.isnan(array.item()):
            raise ValueError(
                f"ReduceLROnPlateau.step: metrics = {metrics!r} at epoch {self.last_epoch + 1}; "
                "expected one number, not NaN (the validation cost, say)."
            )
        value = float(array.item())
        self.step_count += 1
        self.last_epoch += 1
        if self.is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # epochs in the cooldown do not count
        if self.num_bad_epochs > self.patience:
            for group, low in zip(self.optimizer.param_groups, self.min_lrs, strict=True):
                old = float(group["lr"])
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self.last_lr = self.current_lrs()

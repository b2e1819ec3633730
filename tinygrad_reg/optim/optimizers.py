"""Optimizers: SGD (with momentum), Adam and AdamW, with PyTorch's update rules and defaults.

An optimizer holds a list of parameters (leaf Tensors). ``step()`` reads each parameter's
``.grad`` and moves the parameter; parameters whose ``.grad`` is None are skipped (their state,
including Adam's step count, does not advance).

A step never writes into ``p.data``: it assigns a new read-only array (``p.data = new``). A
graph recorded before the step saved the old array, so a backward through it still gives the
gradient at the old values (the core's safety rule, see ``tensor.py``).

Weight decay comes in two kinds, and the difference matters for Adam:

- coupled (``SGD``, ``Adam``): ``g ← g + wd·p`` before the update. This is exactly the gradient
  of the L2 penalty wd/2·Σp², so for SGD, weight_decay = λ/m is the course's L2 regularization
  λ/(2m)·ΣW² (applied to every parameter given to the optimizer).
- decoupled (``AdamW``): ``p ← p − lr·wd·p``, separate from the adaptive step. With Adam the
  decay of a coupled penalty is divided by √v̂ like the rest of the gradient, so weights with
  large gradients are barely decayed; AdamW decays all weights at the same rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..engine import hooks
from ..tensor import Tensor

StateDict = dict[str, np.ndarray]


def parameter_list(params: Any, where: str) -> list[Tensor]:
    """``params`` as a list of distinct leaf Tensors: a Module (its ``parameters()``), a dict
    name → Tensor (its values) or any iterable of Tensors."""
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    elif isinstance(params, dict):
        params = params.values()
    if isinstance(params, Tensor) or not isinstance(params, Iterable):
        raise TypeError(
            f"{where}: params must be a Module, a dict of Tensors or a list of Tensors; "
            f"got {type(params).__name__}."
        )
    params = list(params)
    if not params:
        raise ValueError(f"{where}: params is empty; expected at least one Tensor to optimize.")
    seen: set[int] = set()
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{where}: params[{i}] is a {type(p).__name__}; expected a Tensor.")
        if not p.is_leaf:
            raise ValueError(
                f"{where}: params[{i}] (shape {p.shape}) was computed by an op ({p.grad_fn!r}); "
                "only leaf tensors (made by the user) can be optimized."
            )
        if id(p) in seen:
            raise ValueError(f"{where}: params[{i}] (shape {p.shape}) appears more than once.")
        seen.add(id(p))
    return params


def _check_hyperparameter(
    where: str,
    name: str,
    value: Any,
    *,
    low: float = 0.0,
    positive: bool = False,
    below: float = np.inf,
) -> float:
    """``value`` as a float, checked to be a real number (not a bool or a string), finite, in
    [low, below) (or (0, below) with ``positive``): the ranges the command line accepts."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise TypeError(
            f"{where}: {name} = {value!r} is a {type(value).__name__}; expected a number."
        )
    value = float(value)
    in_range = (value > 0 if positive else value >= low) and value < below  # False for NaN
    if not in_range:
        lower = "> 0" if positive else f">= {low:g}"
        upper = "finite" if below == np.inf else f"< {below:g}"
        raise ValueError(f"{where}: {name} = {value}; expected a number {lower}, {upper}.")
    return value


class Optimizer:
    """What every optimizer shares: the parameters, per-parameter state, ``zero_grad``, the
    loop in ``step`` and saving/restoring the state.

    Subclasses list their ``hyperparameters`` (attribute names, e.g. ``lr``) and the names of
    their per-parameter ``state_names``, and implement ``update(p, g, state)`` for one
    parameter.
    """

    hyperparameters: tuple[str, ...] = ()
    state_names: tuple[str, ...] = ()

    def __init__(self, params: Any):
        self.params = parameter_list(params, type(self).__name__)
        # state[i] is a dict for params[i]; empty until its first step.
        self.state: list[dict[str, Any]] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to None (gradients accumulate across backwards)."""
        if hooks.recorder is not None:  # compile records it
            return hooks.recorder.zero_grad(self.params)
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (all gradients are checked first, so a
        bad one leaves every parameter unchanged)."""
        if hooks.recorder is not None:  # compile records it (see replays_update)
            return hooks.recorder.optimizer_step(self)
        for i, p in enumerate(self.params):
            if p.grad is not None and p.grad.shape != p.shape:
                raise ValueError(
                    f"{type(self).__name__}.step: params[{i}] has shape {p.shape} but its "
                    f"gradient has shape {p.grad.shape}; expected equal shapes."
                )
        for p, state in zip(self.params, self.state, strict=True):
            if p.grad is None:
                continue
            new = self.update(p.data, p.grad, state).astype(p.dtype, copy=False)
            new.setflags(write=False)  # a fresh read-only array: the data setter need not copy it
            p.data = new

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        """The new value of one parameter ``p`` given its gradient ``g``; may update ``state``."""
        raise NotImplementedError

    def hyperparameter_sources(self) -> list[tuple[Any, tuple[str, ...]]]:
        """Where ``update`` reads its hyperparameters: (holder, names) pairs, each name an
        attribute of the holder, or a key if the holder is a dict (a parameter group).
        ``compile`` reads them there before every replay, so a value changed between calls
        is used (``jit/recorder.py``)."""
        return [(self, self.hyperparameters)]

    def replays_update(self) -> bool:
        """Does ``update`` make the same numpy calls on every step, with no Python state? Then
        ``compile`` records those calls and updates the parameters in place; otherwise its
        replay calls ``step()`` as Python (Adam's step count must advance)."""
        return False

    # --- saving and restoring ------------------------------------------------------------

    def state_dict(self) -> StateDict:
        """Hyperparameters and per-parameter state as a flat dict of numpy arrays (copies).

        Keys: ``"type"`` (the class name), each hyperparameter (``"lr"``, ``"betas"``, ...),
        and ``"<i>.<state name>"`` for params[i] once it has state (e.g. ``"0.exp_avg"``).
        Only numbers and strings, so it can be stored with ``allow_pickle=False``.
        """
        out: StateDict = {"type": np.array(type(self).__name__)}
        for name in self.hyperparameters:
            out[name] = np.array(getattr(self, name))
        for i, state in enumerate(self.state):
            for name, value in state.items():
                out[f"{i}.{name}"] = np.array(value)
        return out

    def load_state_dict(self, state_dict: StateDict) -> None:
        """Restore hyperparameters and state saved by ``state_dict`` (as PyTorch, the saved
        hyperparameters replace the current ones). Everything is checked first: on any
        problem a ValueError names it and the optimizer is unchanged."""
        hyper, state = self.check_state_dict(state_dict)
        for name, value in hyper.items():
            setattr(self, name, value)
        self.state = state

    def check_state_dict(
        self, state_dict: StateDict
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Validate ``state_dict`` against this optimizer without changing anything; return the
        hyperparameters and per-parameter state it would restore."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{where}: expected a dict of arrays; got {type(state_dict).__name__}.")
        saved_type = str(np.asarray(state_dict.get("type", "")))
        if saved_type != type(self).__name__:
            raise ValueError(
                f"{where}: the state was saved by {saved_type or 'an unknown optimizer'!r}; "
                f"expected {type(self).__name__!r}."
            )
        missing = [name for name in self.hyperparameters if name not in state_dict]
        if missing:
            raise ValueError(f"{where}: missing hyperparameters {missing}.")
        hyper = {
            name: self._restored(name, state_dict[name], where) for name in self.hyperparameters
        }
        for name, value in hyper.items():  # as checked on construction: finite, >= 0
            if not all(np.isfinite(x) and x >= 0 for x in np.atleast_1d(value)):
                raise ValueError(
                    f"{where}: hyperparameter {name!r} = {value}; expected finite numbers >= 0."
                )

        state: list[dict[str, Any]] = [{} for _ in self.params]
        for key, value in state_dict.items():
            if key == "type" or key in self.hyperparameters:
                continue
            index, _, name = key.partition(".")
            if not index.isdigit() or name not in self.state_names:
                raise ValueError(
                    f"{where}: unexpected entry {key!r}; expected '<index>.<name>' with name in "
                    f"{list(self.state_names)}."
                )
            i = int(index)
            if i >= len(self.params):
                raise ValueError(
                    f"{where}: entry {key!r} is for parameter {i}, but this optimizer has "
                    f"{len(self.params)} parameters."
                )
            state[i][name] = self._restored_state(key, name, value, self.params[i], where)
        for i, s in enumerate(state):
            if s and set(s) != set(self.state_names):
                raise ValueError(
                    f"{where}: parameter {i} has state {sorted(s)}; expected all of "
                    f"{sorted(self.state_names)} or none."
                )
        return hyper, state

    def _restored(self, name: str, saved: Any, where: str) -> Any:
        """A saved hyperparameter converted to the type of the current one."""
        current = getattr(self, name)
        array = np.asarray(saved)
        expected_shape = np.shape(current)
        if array.shape != expected_shape or array.dtype.kind not in "biuf":
            raise ValueError(
                f"{where}: hyperparameter {name!r} has shape {array.shape} and dtype "
                f"{array.dtype}; expected a number of shape {expected_shape}."
            )
        if isinstance(current, bool):
            return bool(array)
        if isinstance(current, tuple):
            return tuple(float(x) for x in array)
        return float(array)

    @staticmethod
    def _restored_state(key: str, name: str, saved: Any, p: Tensor, where: str) -> Any:
        array = np.asarray(saved)
        if name == "step":
            if array.shape != () or array.dtype.kind not in "iu" or array < 0:
                raise ValueError(f"{where}: {key!r} must be a non-negative integer; got {array!r}.")
            return int(array)
        if array.shape != p.shape or array.dtype.kind != "f":
            raise ValueError(
                f"{where}: {key!r} has shape {array.shape} and dtype {array.dtype}; expected a "
                f"float array of the parameter's shape {p.shape}."
            )
        return array.astype(p.dtype, copy=True)

    def __repr__(self) -> str:
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.hyperparameters)
        return f"{type(self).__name__}({len(self.params)} parameters, {settings})"


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's rule, dampening 0).

    For each parameter p with gradient g, at step t::

        g ← g + wd·p                       (coupled weight decay = L2 penalty wd/2·Σp²)
        b ← g                 if t = 1      (momentum buffer, only when momentum μ > 0)
        b ← μ·b + g           if t > 1
        d ← g + μ·b  if nesterov  else  b   (d = g when μ = 0)
        p ← p − lr·d

    With μ = 0 and wd = 0 this is the course's gradient descent, ``W = W − lr·dW``.
    """

    hyperparameters = ("lr", "momentum", "nesterov", "weight_decay")
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Any,
        lr: float,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params)
        self.lr = _check_hyperparameter("SGD", "lr", lr, positive=True)
        self.momentum = _check_hyperparameter("SGD", "momentum", momentum)
        if not isinstance(nesterov, (bool, np.bool_)):
            raise TypeError(f"SGD: nesterov = {nesterov!r}; expected True or False.")
        self.nesterov = bool(nesterov)
        self.weight_decay = _check_hyperparameter("SGD", "weight_decay", weight_decay)
        if self.nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0.")

    def replays_update(self) -> bool:
        return not self.momentum  # a momentum buffer is state the step replaces

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * p
        if self.momentum:
            buffer = state.get("momentum_buffer")
            buffer = g.copy() if buffer is None else self.momentum * buffer + g
            state["momentum_buffer"] = buffer
            g = g + self.momentum * buffer if self.nesterov else buffer
        return p - self.lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), with coupled weight decay as PyTorch's ``Adam``.

    For each parameter p with gradient g, at its step t = 1, 2, ... (m = v = 0 at first)::

        g ← g + wd·p                       (coupled: the L2 gradient goes through the scaling)
        m ← β₁·m + (1 − β₁)·g              (running mean of g)
        v ← β₂·v + (1 − β₂)·g²             (running mean of g²)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   (bias correction: m, v start at 0)
        p ← p − lr·m̂ / (√v̂ + ε)
    """

    hyperparameters = ("lr", "betas", "eps", "weight_decay")
    state_names = ("step", "exp_avg", "exp_avg_sq")
    #: PyTorch's defaults: no weight decay for Adam, 0.01 for AdamW.
    default_weight_decay = 0.0

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float | None = None,
    ):
        super().__init__(params)
        name = type(self).__name__
        self.lr = _check_hyperparameter(name, "lr", lr, positive=True)
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"{name}: betas = {betas!r}; expected a pair (β₁, β₂) in [0, 1).")
        self.betas = (
            _check_hyperparameter(name, "betas[0]", betas[0], below=1.0),
            _check_hyperparameter(name, "betas[1]", betas[1], below=1.0),
        )
        self.eps = _check_hyperparameter(name, "eps", eps)
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        self.weight_decay = _check_hyperparameter(name, "weight_decay", weight_decay)

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        if self.weight_decay:
            g = g + self.weight_decay * p
        return p - self.adam_step(g, state)

    def adam_step(self, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        """lr·m̂/(√v̂ + ε), updating the running means in ``state``."""
        beta1, beta2 = self.betas
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(g), exp_avg_sq=np.zeros_like(g))
        t = state["step"] = state["step"] + 1
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's ``AdamW``.

    For each parameter p with gradient g::

        p ← p − lr·wd·p                    (decay the weights directly, not through g)
        p ← p − lr·m̂ / (√v̂ + ε)            (the Adam step of g alone, see ``Adam``)
    """

    default_weight_decay = 0.01

    def update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any]) -> np.ndarray:
        decayed = p - self.lr * self.weight_decay * p if self.weight_decay else p
        return decayed - self.adam_step(g, state)

"""Optimizers: SGD (with momentum), Adam and AdamW, with PyTorch's update rules and defaults.

Each holds parameter groups (``optimizer.py``: the base, groups, state saving). ``step()`` reads
each parameter's ``.grad`` and moves the parameter with its group's hyperparameters;
parameters whose ``.grad`` is None are skipped (their state, including Adam's step count,
does not advance).

Weight decay comes in two kinds, and the difference matters for Adam:

- coupled (``SGD``, ``Adam``): ``g ← g + wd·p`` before the update. This is exactly the gradient
  of the L2 penalty wd/2·Σp², so for SGD, weight_decay = λ/m is the course's L2 regularization
  λ/(2m)·ΣW² (applied to every parameter of the group: give the biases a group with
  ``"weight_decay": 0.0`` for the course's penalty on the weights only).
- decoupled (``AdamW``): ``p ← p − lr·wd·p``, separate from the adaptive step. With Adam the
  decay of a coupled penalty is divided by √v̂ like the rest of the gradient, so weights with
  large gradients are barely decayed; AdamW decays all weights at the same rate.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .optimizer import (
    BETAS,
    BOOLEAN,
    NON_NEGATIVE,
    UNIT,
    Optimizer,
    ParamGroup,
    StateDict,
    parameter_list,
)

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "StateDict", "parameter_list"]


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum (PyTorch's rule).

    For each parameter p with gradient g, at step t::

        g ← g + wd·p                       (coupled weight decay = L2 penalty wd/2·Σp²)
        b ← g                 if t = 1      (momentum buffer, only when momentum μ > 0)
        b ← μ·b + (1 − τ)·g   if t > 1      (τ: dampening, 0 by default)
        d ← g + μ·b  if nesterov  else  b   (d = g when μ = 0)
        p ← p − lr·d

    With μ = 0 and wd = 0 this is the course's gradient descent, ``W = W − lr·dW``.
    """

    hyperparameters: ClassVar[dict[str, str]] = {
        "lr": NON_NEGATIVE,  # 0 allowed, as PyTorch: a schedule may anneal to it
        "momentum": NON_NEGATIVE,
        "dampening": UNIT,
        "weight_decay": NON_NEGATIVE,
        "nesterov": BOOLEAN,
    }
    state_names = ("momentum_buffer",)

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ):
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening}
        super().__init__(params, {**defaults, "weight_decay": weight_decay, "nesterov": nesterov})

    def check_combination(self, values: dict[str, Any], where: str, label: Any) -> None:
        if values["nesterov"] and (values["momentum"] == 0 or values["dampening"] != 0):
            raise ValueError(
                f"{where}: {label('nesterov')}=True needs momentum > 0 and dampening 0; got "
                f"momentum {values['momentum']} and dampening {values['dampening']}."
            )

    def replays_update(self) -> bool:
        # a momentum buffer is state the step replaces
        return not any(group["momentum"] for group in self.param_groups)

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        momentum = group["momentum"]
        if momentum:
            buffer = state.get("momentum_buffer")
            if buffer is None:
                buffer = g.copy()
            else:
                buffer = momentum * buffer + (1 - group["dampening"]) * g
            state["momentum_buffer"] = buffer
            g = g + momentum * buffer if group["nesterov"] else buffer
        return p - group["lr"] * g


class Adam(Optimizer):
    """Adam (Kingma & Ba), with coupled weight decay as PyTorch's ``Adam``.

    For each parameter p with gradient g, at its step t = 1, 2, ... (m = v = 0 at first)::

        g ← g + wd·p                       (coupled: the L2 gradient goes through the scaling)
        m ← β₁·m + (1 − β₁)·g              (running mean of g)
        v ← β₂·v + (1 − β₂)·g²             (running mean of g²)
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)   (bias correction: m, v start at 0)
        p ← p − lr·m̂ / (√v̂ + ε)
    """

    hyperparameters: ClassVar[dict[str, str]] = {
        "lr": NON_NEGATIVE,  # 0 allowed, as PyTorch: a schedule may anneal to it
        "betas": BETAS,
        "eps": NON_NEGATIVE,
        "weight_decay": NON_NEGATIVE,
    }
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
        if weight_decay is None:
            weight_decay = self.default_weight_decay
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, defaults)

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        return p - self.adam_step(g, state, group)

    def adam_step(self, g: np.ndarray, state: dict[str, Any], group: ParamGroup) -> np.ndarray:
        """lr·m̂/(√v̂ + ε), updating the running means in ``state``."""
        beta1, beta2 = group["betas"]
        if not state:
            state.update(step=0, exp_avg=np.zeros_like(g), exp_avg_sq=np.zeros_like(g))
        t = state["step"] = state["step"] + 1
        m = state["exp_avg"] = beta1 * state["exp_avg"] + (1 - beta1) * g
        v = state["exp_avg_sq"] = beta2 * state["exp_avg_sq"] + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return group["lr"] * m_hat / (np.sqrt(v_hat) + group["eps"])


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter), as PyTorch's ``AdamW``.

    For each parameter p with gradient g::

        p ← p − lr·wd·p                    (decay the weights directly, not through g)
        p ← p − lr·m̂ / (√v̂ + ε)            (the Adam step of g alone, see ``Adam``)
    """

    default_weight_decay = 0.01

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        decay = group["weight_decay"]
        decayed = p - group["lr"] * decay * p if decay else p
        return decayed - self.adam_step(g, state, group)

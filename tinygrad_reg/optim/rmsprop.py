"""RMSprop (Hinton's lecture 6e), with PyTorch's update rule and defaults.

Each weight's step is divided by a running root mean square of its recent gradients, so
weights with large gradients take smaller steps and those with small gradients larger ones.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .optimizer import BOOLEAN, NON_NEGATIVE, UNIT, Optimizer, ParamGroup


class RMSprop(Optimizer):
    """RMSprop as PyTorch's ``RMSprop``. For each parameter p with gradient g (s = 0, ḡ = 0 and
    b = 0 at first)::

        g ← g + wd·p                         (coupled weight decay)
        s ← α·s + (1 − α)·g²                 (running mean of g²)
        ḡ ← ḡ + (1 − α)·(g − ḡ)              (centered only: running mean of g)
        a = √(s − ḡ²) + ε  if centered  else  √s + ε
        b ← μ·b + g/a,  p ← p − lr·b         (momentum μ > 0)
        p ← p − lr·g/a                       (μ = 0)

    Centered divides by an estimate of the gradient's standard deviation instead of its root
    mean square.
    """

    hyperparameters: ClassVar[dict[str, str]] = {
        "lr": NON_NEGATIVE,  # 0 allowed, as PyTorch: a schedule may anneal to it
        "alpha": UNIT,
        "eps": NON_NEGATIVE,
        "weight_decay": NON_NEGATIVE,
        "momentum": NON_NEGATIVE,
        "centered": BOOLEAN,
    }
    state_names = ("step", "square_avg", "grad_avg", "momentum_buffer")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        defaults = {"lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weight_decay}
        super().__init__(params, {**defaults, "momentum": momentum, "centered": centered})

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        if not state:  # grad_avg and momentum_buffer stay 0 while unused
            zeros = np.zeros_like(p)
            state.update(step=0, square_avg=zeros, grad_avg=zeros, momentum_buffer=zeros)
        state["step"] += 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        alpha = group["alpha"]
        square_avg = state["square_avg"] = alpha * state["square_avg"] + (1 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"] = state["grad_avg"] + (1 - alpha) * (g - state["grad_avg"])
            average = np.sqrt(square_avg - grad_avg * grad_avg) + group["eps"]
        else:
            average = np.sqrt(square_avg) + group["eps"]
        if group["momentum"]:
            buffer = state["momentum_buffer"] = (
                group["momentum"] * state["momentum_buffer"] + g / average
            )
            return p - group["lr"] * buffer
        return p - group["lr"] * (g / average)

"""Adagrad (Duchi, Hazan & Singer), with PyTorch's update rule and defaults.

Each weight's step is divided by the root of the sum of all its squared gradients so far: a
weight that has had large gradients slows down for good, one that has had few keeps moving.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .optimizer import NON_NEGATIVE, Optimizer, ParamGroup


class Adagrad(Optimizer):
    """Adagrad as PyTorch's ``Adagrad``. For each parameter p with gradient g, at its step
    t = 1, 2, ... (S = initial_accumulator_value at first)::

        g ← g + wd·p                            (coupled weight decay)
        η = lr / (1 + (t − 1)·lr_decay)
        S ← S + g²                              (sum of squared gradients)
        p ← p − η·g / (√S + ε)
    """

    hyperparameters: ClassVar[dict[str, str]] = {
        "lr": NON_NEGATIVE,  # 0 allowed, as PyTorch: a schedule may anneal to it
        "lr_decay": NON_NEGATIVE,
        "weight_decay": NON_NEGATIVE,
        "initial_accumulator_value": NON_NEGATIVE,
        "eps": NON_NEGATIVE,
    }
    state_names = ("step", "sum")

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
    ):
        defaults = {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay}
        super().__init__(
            params, {**defaults, "initial_accumulator_value": initial_accumulator_value, "eps": eps}
        )

    def update(
        self, p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: ParamGroup
    ) -> np.ndarray:
        if not state:
            state.update(step=0, sum=np.full_like(p, group["initial_accumulator_value"]))
        t = state["step"] = state["step"] + 1
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        lr = group["lr"] / (1 + (t - 1) * group["lr_decay"])
        total = state["sum"] = state["sum"] + g * g
        return p - lr * (g / (np.sqrt(total) + group["eps"]))

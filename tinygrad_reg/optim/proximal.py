"""Proximal gradient descent for L1 and group lasso: weights (and whole units) that land
exactly on 0.

Subgradient descent on J + c·Σ|w| (``l1_penalty``, c = λ/m) moves each weight a fixed lr·c
toward 0 and, once there, steps across 0 and back forever: the weights hover within lr·c of
0 but are never 0. The proximal step splits the cost: a gradient step on the smooth part J
only, then the L1 part solved exactly for that step size (its "proximal operator")::

    v ← w − lr·∇J(w)                          (SGD's step, momentum and weight decay included)
    w ← argmin_u  ½‖u − v‖² + lr·c·Σ|u|
      = sign(v)·max(|v| − lr·c, 0)            (soft thresholding, coordinate by coordinate)

Any weight within lr·c of 0 after the gradient step becomes exactly 0 and stays there as long
as the cost's gradient on it is weaker than c (the step would push it less than lr·c away,
and the threshold brings it back). This minimizes the same objective as the subgradient
method, ISTA being its full-batch form.

Group lasso (``nn/group_lasso.py``, c·Σ_g √p·‖W_g‖₂ over the rows or columns of W) has the
same split, with the groups' norms in place of |w|: its proximal operator is block soft
thresholding, which shortens each group's vector by lr·c·√p and sets it to exactly 0 if it is
shorter than that::

    W_g ← W_g·max(0, 1 − lr·c·√p/‖W_g‖₂)      (for each row, or column, g)

With both (the sparse group lasso, ``l1`` and ``group_lasso`` > 0) the prox of the sum is the
soft threshold followed by the block one (Friedman, Hastie and Tibshirani's note on the
group lasso: the groups do not overlap, and soft thresholding keeps the signs).

Which parameters are thresholded follows ``l1_penalty``: given a Module or a dict name →
Tensor, the weights only (``regularizers.named_weights``: Linear's W, Conv2d's and
Embedding's ``weight``): the biases and normalization parameters get the plain SGD step.
Given a list of Tensors, exactly those, all of them.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np

from ..engine import hooks
from ..nn.group_lasso import check_groups, group_axes, group_norms, group_size
from ..nn.modules import Module
from ..nn.regularizers import named_weights
from .optimizer import NON_NEGATIVE, Optimizer
from .optimizers import SGD


def soft_threshold(v: np.ndarray, threshold: float) -> np.ndarray:
    """sign(v)·max(|v| − threshold, 0): the proximal operator of threshold·Σ|v|."""
    return np.sign(v) * np.maximum(np.abs(v) - threshold, 0.0)


def block_soft_threshold(v: np.ndarray, threshold: float, groups: str = "rows") -> np.ndarray:
    """v_g·max(0, 1 − threshold·√p/‖v_g‖₂) for each row (or column) g of v: the proximal
    operator of threshold·Σ_g √p·‖v_g‖₂. A group shorter than threshold·√p becomes 0."""
    radius = threshold * math.sqrt(group_size(v.shape, groups))
    norms = group_norms(v, groups)
    # a zero group stays 0 whatever the factor: divide by inf there instead of 0
    factor = np.maximum(1.0 - radius / np.where(norms > 0, norms, np.inf), 0.0)
    return v * factor


def _thresholded(params: Any, count: int) -> list[bool]:
    """For each of the ``count`` parameters of ``params``: does the L1 prox apply to it?"""
    if isinstance(params, (Module, dict)):
        weights = {id(p) for _, p in named_weights(params)}
        values = params.parameters() if isinstance(params, Module) else params.values()
        return [id(p) in weights for p in values]
    return [True] * count


class ProximalSGD(SGD):
    """SGD (``optim.SGD``, same arguments) followed by the proximal steps on the weights::

        w ← SGD's update of w                      (the smooth part of the cost)
        w ← sign(w)·max(|w| − lr·l1, 0)             (weights only, see the module docstring)
        W_g ← W_g·max(0, 1 − lr·group_lasso·√p/‖W_g‖)   (each row or column g, ``groups``)

    ``l1`` is the coefficient c of the penalty c·Σ|W|: for the course's λ/m·Σ|W|, pass
    ``l1 = λ/m`` and leave the L1 penalty out of the cost (the prox replaces it).
    ``group_lasso`` is the c of ``group_lasso_penalty``'s c·Σ_g √p·‖W_g‖ (λ/m), over the
    ``groups`` "rows" (units) or "columns" (inputs) of each weight. With both at 0 this is
    SGD, step for step. ``l1`` and ``group_lasso`` are per parameter group, as ``lr``: a group
    given as a Module or a dict of Tensors has its weights thresholded, one given as a list
    every tensor of it. ``groups`` is a setting of the optimizer, not saved by ``state_dict``:
    build the optimizer with the same one to continue a run.
    """

    hyperparameters: ClassVar[dict[str, str]] = {
        **SGD.hyperparameters,
        "l1": NON_NEGATIVE,
        "group_lasso": NON_NEGATIVE,
    }

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        l1: float = 0.0,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        group_lasso: float = 0.0,
        groups: str = "rows",
    ):
        self.groups = check_groups(groups, "ProximalSGD")
        self.thresholded: list[bool] = []  # for each of params: does the prox apply?
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "l1": l1}
        Optimizer.__init__(
            self,
            params,
            {
                **defaults,
                "weight_decay": weight_decay,
                "nesterov": nesterov,
                "group_lasso": group_lasso,
            },
        )
        self._check_groups()

    def _add(self, group: Any, where: str, named: bool) -> None:
        raw = group.get("params") if isinstance(group, dict) else None
        if isinstance(raw, Iterator):  # a generator would be used up by the first reading
            group = {**group, "params": list(raw)}
        count = len(self.params)
        super()._add(group, where, named)
        self.thresholded += _thresholded(group["params"], len(self.params) - count)

    def _check_groups(self) -> None:
        """With group lasso on, every thresholded tensor must have rows and columns."""
        for p, shrink, group in zip(self.params, self.thresholded, self.group_of):
            if shrink and group["group_lasso"] > 0:
                group_axes(p.shape, self.groups, "ProximalSGD")

    def replays_update(self) -> bool:
        return False  # the prox after SGD's update is a step of its own

    def step(self) -> None:
        """SGD's step on every parameter with a gradient, then the proxes on those weights."""
        if hooks.recorder is not None:  # compile records it
            self.check_param_groups()
            return hooks.recorder.optimizer_step(self)
        self._check_groups()  # before any change: group_lasso may have been set since
        stepped = [p.grad is not None for p in self.params]
        super().step()
        for p, did_step, shrink, group in zip(
            self.params, stepped, self.thresholded, self.group_of, strict=True
        ):
            threshold, radius = group["lr"] * group["l1"], group["lr"] * group["group_lasso"]
            if did_step and shrink and (threshold != 0 or radius != 0):
                new = p.data
                if threshold > 0:
                    new = soft_threshold(new, threshold)
                if radius > 0:
                    new = block_soft_threshold(new, radius, self.groups)
                new = new.astype(p.dtype, copy=False)
                new.setflags(write=False)
                p.data = new

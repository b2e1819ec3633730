"""Group lasso: a penalty that drives whole units (or whole inputs) of a layer to zero.

    group_lasso_penalty   λ/m·Σ_W Σ_g √p_g·‖W_g‖₂
    ∂/∂W_g = λ/m·√p_g·W_g/‖W_g‖₂,  and 0 for a group with ‖W_g‖₂ = 0

L1 sums |w| over single weights; group lasso sums the 2-norms of groups of weights. Inside a
group the 2-norm is smooth (round), so it shrinks the group's weights together, like L2; across
groups the sum of norms has L1's corner at 0, so a whole group lands on 0 at once. The groups
of a weight matrix W (n_out, n_in), in the course layout:

- ``groups="rows"``: W[j], the weights *into* unit j (p = n_in). A zero row makes unit j
  compute relu(b_j) whatever the input: a constant, which the next layer's bias can absorb, so
  the unit can be deleted (its column in the next layer with it). This is unit pruning.
- ``groups="columns"``: W[:, i], the weights *out of* input i (p = n_out). A zero column makes
  the layer ignore input i: a feature (or the previous layer's unit) is deselected.

The √p_g (Yuan and Lin's weighting) puts groups of different sizes on an equal footing: p
weights of typical size s have ‖W_g‖ ≈ s·√p, so without it large groups would be penalized
less per weight than small ones. For a tensor with more than 2 dimensions (a convolution's
(C_out, C_in, kh, kw)) the rows are the slices along axis 0 and the columns along axis 1.

**The kink.** At W_g = 0 the norm is a cone: it has no gradient, and its subdifferential is
the ball of radius λ/m·√p_g. The rule returns 0 there, the subgradient of least norm (as
``l1_penalty`` takes sign(0) = 0). Gradient descent with this subgradient does what it does
for L1: the group's norm hops around 0 instead of resting on it. The proximal step
(``optim.ProximalSGD(group_lasso=...)``) makes such groups exactly 0; ``pruned_groups`` lists
them.

m is the number of training examples, as in ``regularizers``; what is penalized follows
``regularizers`` too (the weight matrices of a Module by default, a dict of λ, or exactly the
Tensors of a list).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..ops.helpers import constant, value, where
from ..tensor import Tensor
from .modules import Module
from .regularizers import Lambda, Params, WeightedSum, _check_m, _selected, named_weights

GROUPS = ("rows", "columns")


def check_groups(groups: Any, where: str) -> str:
    if not (isinstance(groups, str) and groups in GROUPS):
        raise ValueError(f"{where}: groups = {groups!r}; expected one of {list(GROUPS)}.")
    return groups


def group_axes(shape: tuple[int, ...], groups: str, where: str = "group lasso") -> tuple[int, ...]:
    """The axes a group's norm sums over: all but 0 (rows) or all but 1 (columns)."""
    check_groups(groups, where)
    if len(shape) < 2:
        raise ValueError(
            f"{where}: a tensor of shape {shape} has no {groups}; expected a weight matrix "
            "(2 or more dimensions)."
        )
    kept = 0 if groups == "rows" else 1
    return tuple(axis for axis in range(len(shape)) if axis != kept)


def group_size(shape: tuple[int, ...], groups: str) -> int:
    """p: the number of weights in one group."""
    return math.prod(shape[axis] for axis in group_axes(shape, groups))


def group_scales(W: Any, groups: str) -> np.ndarray:
    """max|W_g| for each group, 1 for a zero group: dividing a group by it leaves its
    direction unchanged and its largest entry at 1, so squaring cannot overflow (entries
    above ~1e154) or underflow to 0 (below ~1e-154, which would make a nonzero group look
    zero)."""
    largest = np.max(np.abs(value(W)), axis=group_axes(W.shape, groups), keepdims=True)
    return np.where(largest > 0, largest, 1.0)


def group_norms(W: np.ndarray, groups: str = "rows") -> np.ndarray:
    """‖W_g‖₂ for each group, kept as a (n_out, 1) column for rows, a (1, n_in) row for
    columns (so it broadcasts against W); computed as s·‖W_g/s‖ with s = max|W_g|."""
    scales = group_scales(W, groups)
    scaled = W / scales
    return scales * np.sqrt(
        np.sum(scaled * scaled, axis=group_axes(W.shape, groups), keepdims=True)
    )


class GroupLasso(WeightedSum):
    """Σ_i c_i·√p_i·Σ_g ‖(W_i)_g‖₂"""

    __slots__ = ("groups",)

    def __init__(self, coefficients: list[float], groups: str):
        super().__init__(coefficients)
        self.groups = groups

    def term(self, w: np.ndarray) -> np.ndarray:
        return math.sqrt(group_size(w.shape, self.groups)) * np.sum(group_norms(w, self.groups))

    def backward(self, g: Any, out: Any, *weights: Any) -> tuple[Any, ...]:
        """d/d(W_i)_g = g·c_i·√p_i·(W_i)_g/‖(W_i)_g‖, 0 where ‖(W_i)_g‖ = 0"""
        gradients = []
        for c, w in zip(self.coefficients, weights):
            # W_g/‖W_g‖ = u_g/‖u_g‖ for u = W/s, any constant s > 0: s = max|W_g| keeps the
            # squares finite and nonzero (see group_scales), and being a constant it leaves
            # the second derivatives exact.
            u = w / constant(group_scales(w, self.groups), like=w)
            norms = ((u * u).sum(axis=group_axes(w.shape, self.groups), keepdims=True)) ** 0.5
            # A zero group's weights are all 0: dividing them by 1 gives the 0 subgradient.
            safe = where(value(norms) > 0, norms, 1.0)
            scale = c * math.sqrt(group_size(w.shape, self.groups))
            gradients.append(g * scale * (u / safe))
        return tuple(gradients)


def group_lasso_penalty(params: Params, lambd: Lambda, m: int, groups: str = "rows") -> Tensor:
    """λ/m·Σ_W Σ_g √p_g·‖W_g‖₂ over the rows (units) or columns (inputs) of each weight
    matrix (weights only by default, as ``l2_penalty``); its gradient is λ/m·√p_g·W_g/‖W_g‖,
    0 at a zero group. One graph node."""
    _check_m(m, "group_lasso_penalty")
    tensors, lambdas = _selected(params, lambd, "group_lasso_penalty")
    for t in tensors:
        group_axes(t.shape, groups, "group_lasso_penalty")
    return GroupLasso([lam / m for lam in lambdas], groups)(*tensors)


def pruned_groups(model: Module | dict[str, Any], groups: str = "rows") -> dict[str, list[int]]:
    """For each weight of ``model`` (``regularizers.named_weights``), the indices of its groups
    that are exactly 0: the pruned units (rows) or ignored inputs (columns), layer by layer."""
    pruned = {}
    for name, W in named_weights(model):
        data = W.data if isinstance(W, Tensor) else np.asarray(W)
        pruned[name] = [int(j) for j in np.flatnonzero(group_norms(data, groups) == 0)]
    return pruned

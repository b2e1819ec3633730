"""Reductions over axes: sum, mean, max, min.

``axis`` is None (all axes), an int or a tuple of ints, negative counting from the end, as in
numpy. Each rule first gives the upstream gradient back the reduced axes (as size 1) so it
lines up with the input.

Tie policy for max and min: when k elements tie for the extreme, each gets g/k, so the
gradients still add up to g (as PyTorch's ``amax``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function
from .helpers import broadcast_to, is_axis, value

Axis = int | Sequence[int] | None


def kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as size 1 (the result shape of keepdims=True)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Reduction(Function):
    """Shared by the reductions: remembers the axes and the input shape with them kept."""

    __slots__ = ("axis", "keepdims", "kept", "shape")
    expects = "each axis in [-ndim, ndim), no axis twice"

    def __init__(self, axis: Axis = None, keepdims: bool = False):
        if not (axis is None or is_axis(axis)):
            if not isinstance(axis, (tuple, list)) or not all(is_axis(a) for a in axis):
                raise TypeError(
                    f"{self.name}: axis={axis!r}; expected None, an int or a tuple of ints."
                )
            axis = tuple(axis)
        self.axis = axis if axis is None or isinstance(axis, tuple) else int(axis)
        self.keepdims = keepdims

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.reduce(x)  # numpy validates the axes first
        self.kept = kept_shape(x.shape, self.axis)
        self.shape = x.shape  # for the rules, which need not save x for it
        return out

    def reduce(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class Sum(Reduction):
    """Σ x over axis"""

    save_inputs, save_out = False, False

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.sum(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(Σx)/dx = g, copied along the summed axes"""
        return (broadcast_to(g.reshape(self.kept), self.shape),)


class Mean(Reduction):
    """mean of x over axis"""

    save_inputs, save_out = False, False

    __slots__ = ("count",)

    def reduce(self, x: np.ndarray) -> np.ndarray:
        out = x.mean(axis=self.axis, keepdims=self.keepdims)
        self.count = x.size // max(np.size(out), 1)  # elements averaged into each result
        return out

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(mean x)/dx = g/n, copied along the n averaged elements"""
        return (broadcast_to(g.reshape(self.kept) / self.count, self.shape),)


class Max(Reduction):
    """max of x over axis"""

    save_inputs, save_out = True, True

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.max(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(max x)/dx = g at the maximum; k tied maxima get g/k each"""
        winners = value(x) == value(out).reshape(self.kept)
        # Counted as integers (a float16 count stops at 65 504), the shares then made x's dtype
        # so the gradient stays float32 for float32 x.
        ties = winners.sum(axis=self.axis, keepdims=True)
        share = (winners / ties).astype(value(x).dtype)
        return (g.reshape(self.kept) * share,)


class Min(Max):
    """min of x over axis (same rule as max, at the minimum)"""

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.min(axis=self.axis, keepdims=self.keepdims)

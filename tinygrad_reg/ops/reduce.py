"""Reductions over axes: sum, mean, max, min, prod, var, std, logsumexp, norm; and cumsum.

``axis`` is None (all axes), an int or a tuple of ints, negative counting from the end, as in
numpy. Each rule first gives the upstream gradient back the reduced axes (as size 1) so it
lines up with the input.

Tie policy for max and min: when k elements tie for the extreme, each gets g/k, so the
gradients still add up to g (as PyTorch's ``amax``).

Where std or the 2-norm has a corner (no spread, the zero vector), the gradient is 0, not NaN.
prod is exact with zeros in the input: each element's gradient is the product of the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import broadcast_to, exp, is_axis, sign, value, where

Axis = int | Sequence[int] | None


def kept_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """``shape`` with the reduced axes kept as size 1 (the result shape of keepdims=True)."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_axes(ndim: int, axis: Axis) -> tuple[int, ...]:
    """The reduced axes as non-negative ints, in increasing order."""
    if axis is None:
        return tuple(range(ndim))
    return tuple(sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis)))


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

    def reduced_count(self) -> int:
        """How many elements each output element reduces over (after forward)."""
        return math.prod(self.shape[a] for a in reduced_axes(len(self.shape), self.axis))

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


class Prod(Reduction):
    """Π x over axis"""

    save_inputs = True
    save_out = True

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.prod(axis=self.axis, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(Πx)/dx_i = g·Π_{j≠i} x_j  (= g·out/x_i when out is finite and not 0)"""
        g = g.reshape(self.kept)
        # out/x_i is 0/0 where x_i = 0 (or out underflowed), and inf/x_i where out overflowed
        # though the product of the others is finite. And recorded for higher order its
        # derivative x/x_i − out/x_i² is two huge terms that cancel when x_i is tiny. All
        # three times the product of the others is computed as a product.
        if isinstance(x, Tensor) or not (np.isfinite(value(out)) & (value(out) != 0)).all():
            return (g * self.product_of_others(x),)
        return (g * out.reshape(self.kept) / x,)

    def product_of_others(self, x: Any) -> Any:
        """Π_{j≠i} x_j for every i, without dividing: each slice of n reduced elements becomes
        an n×n matrix whose row i is the slice with x_i replaced by 1, and rows are multiplied
        out with Prod itself, so higher derivatives follow. Costs n² per slice (n³ for a third
        derivative), so an ordinary backward pass uses it only when out/x fails."""
        reduced = reduced_axes(x.ndim, self.axis)
        order = [a for a in range(x.ndim) if a not in reduced] + list(reduced)
        moved = x.transpose(order)  # the reduced axes last
        n = self.reduced_count()
        rows = moved.reshape((*moved.shape[: x.ndim - len(reduced)], 1, n))
        # where, not rows·(1 − I) + I: an infinite x_j would give inf·0 = NaN there.
        others = where(np.eye(n, dtype=bool), 1, rows).prod(axis=-1)
        return others.reshape(moved.shape).transpose(np.argsort(order).tolist())


class Var(Reduction):
    """variance of x over axis: Σ(x − mean)²/(n − ddof), n the number of reduced elements"""

    save_inputs = True
    save_out = False

    def __init__(self, axis: Axis = None, ddof: int = 0, keepdims: bool = False):
        super().__init__(axis, keepdims)
        self.ddof = ddof

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.var(axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d var/dx = g·2(x − mean)/(n − ddof)"""
        centered = x - x.mean(axis=self.axis, keepdims=True)
        dof = self.reduced_count() - self.ddof
        scale = 2 / dof if dof > 0 else math.inf  # var itself is inf or NaN then, as numpy's
        return (g.reshape(self.kept) * centered * scale,)


class Std(Var):
    """standard deviation of x over axis: √var"""

    save_inputs = True
    save_out = True

    def reduce(self, x: np.ndarray) -> np.ndarray:
        return x.std(axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d std/dx = g·(x − mean)/((n − ddof)·std); 0 where all reduced x are equal"""
        # Equal elements, not std == 0: the mean of n equal numbers can round away from them,
        # leaving a tiny std whose "gradient" would be rounding noise of size 1/n.
        flat = value(x).max(axis=self.axis, keepdims=True, initial=-np.inf) == value(x).min(
            axis=self.axis, keepdims=True, initial=np.inf
        )
        centered = x - x.mean(axis=self.axis, keepdims=True)
        std = out.reshape(self.kept) + flat  # + 1 where flat: no 0/0, and masked below
        return (
            g.reshape(self.kept) * centered / (std * (self.reduced_count() - self.ddof)) * ~flat,
        )


class LogSumExp(Reduction):
    """log Σ e^x over axis, computed as max + log Σ e^(x − max): no overflow"""

    save_inputs = True
    save_out = True

    def reduce(self, x: np.ndarray) -> np.ndarray:
        top = x.max(axis=self.axis, keepdims=True, initial=-np.inf)
        # A slice of only -inf (or an empty one) has sum 0 and log sum = -inf: shift by 0 there
        # rather than by -inf, which would make -inf - -inf = NaN.
        top = np.where(np.isfinite(top), top, 0).astype(x.dtype, copy=False)
        with np.errstate(divide="ignore"):
            total = np.log(np.exp(x - top).sum(axis=self.axis, keepdims=True)) + top
        return total if self.keepdims else np.squeeze(total, axis=self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d lse/dx = g·e^(x − lse) = g·softmax(x)"""
        return (g.reshape(self.kept) * exp(x - out.reshape(self.kept)),)


class Norm(Reduction):
    """the vector norm of x over axis: ord=2 (or "fro") √Σx², ord=1 Σ|x|"""

    save_inputs = True
    save_out = True

    def __init__(self, ord: int | str = 2, axis: Axis = None, keepdims: bool = False):
        if isinstance(ord, bool) or ord not in (1, 2, "fro"):
            raise ValueError(f'Norm: ord={ord!r}; expected 1, 2 or "fro".')
        super().__init__(axis, keepdims)
        self.ord = ord

    def reduce(self, x: np.ndarray) -> np.ndarray:
        if self.ord == 1:
            return np.abs(x).sum(axis=self.axis, keepdims=self.keepdims)
        return np.sqrt((x * x).sum(axis=self.axis, keepdims=self.keepdims))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """ord 2: d‖x‖/dx = g·x/‖x‖, 0 at the zero vector;  ord 1: g·sign(x), sign(0) = 0"""
        g = g.reshape(self.kept)
        if self.ord == 1:
            return (g * sign(x),)
        norm = out.reshape(self.kept)
        zero = value(norm) == 0
        return (g * x / (norm + zero) * ~zero,)  # + 1 where zero: no 0/0, masked


class CumSum(Function):
    """running sum of x along axis (of the flattened x for axis=None), as np.cumsum"""

    save_inputs = False
    save_out = False
    expects = "an axis in [-ndim, ndim)"

    def __init__(self, axis: int | None = None):
        if not (axis is None or is_axis(axis)):
            raise TypeError(f"CumSum: axis={axis!r}; expected None or an int.")
        self.axis = axis if axis is None else int(axis)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return np.cumsum(x, axis=self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d cumsum/dx_i = Σ_{j≥i} g_j, a running sum from the end: reverse, cumsum, reverse"""
        axis = 0 if self.axis is None else self.axis % g.ndim
        backwards = (slice(None),) * axis + (slice(None, None, -1),)
        return (g[backwards].cumsum(axis=axis)[backwards].reshape(self.shape),)


def arg_extreme(
    arg: Callable[..., Any], x: np.ndarray, axis: int | None, keepdims: bool
) -> np.ndarray:
    """``np.argmax`` or ``np.argmin`` of x as a numpy integer array (0-d for axis=None), with
    errors that name the function."""
    if not (axis is None or is_axis(axis)):
        raise TypeError(f"{arg.__name__}: axis={axis!r}; expected None or an int.")
    try:
        result = arg(x, axis=axis, keepdims=keepdims)
        return result if isinstance(result, np.ndarray) else np.asarray(result)
    except ValueError as error:  # an empty tensor, an axis out of range
        raise ValueError(f"{arg.__name__}: shape {x.shape}, axis={axis}: {error}.") from None

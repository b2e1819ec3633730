"""Running reductions along an axis, beside ``cumsum`` (in reduce.py): cumprod, logcumsumexp,
cummax and cummin.

The rules of cumprod and logcumsumexp are written with operators and the helpers
(``where``, ``exp``, ``moveaxis`` below, and ``cumprod`` itself), so the same rule runs on
arrays and records on Tensors: it gives the second derivative. cummax and cummin find their
indices with numpy and gather the values, so each running extreme's gradient goes to the
element it is (PyTorch's tie policy: on a tie the later element, the one the running
comparison ``>=`` picks).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import exp, is_axis, where
from .index import gather
from .shape import as_tensor
from .sort import ValuesIndices, one_axis


class CumulativeBase(Function):
    """Shared by cumprod and logcumsumexp: the axis (None: the flattened x, as numpy)."""

    __slots__ = ("axis", "shape")
    expects = "an axis in [-ndim, ndim)"

    def __init__(self, axis: int | None):
        if not (axis is None or is_axis(axis)):
            raise TypeError(f"{self.name}: axis={axis!r}; expected None or an int.")
        self.axis = axis if axis is None else int(axis)

    def along_last(self, *arrays: Any) -> list[Any]:
        """Each array (flattened for axis=None) with the axis moved last."""
        if self.axis is None:
            return [a.reshape(-1) for a in arrays]
        return [moveaxis(a, self.axis, -1) for a in arrays]

    def put_back(self, gradient: Any) -> Any:
        if self.axis is None:
            return gradient.reshape(self.shape)
        return moveaxis(gradient, -1, self.axis)


def moveaxis(x: Any, source: int, destination: int) -> Any:
    if isinstance(x, Tensor):
        return x.moveaxis(source, destination)
    return np.moveaxis(x, source, destination)


def upper_triangle(n: int) -> np.ndarray:
    """[i, j] is True where j >= i: the later positions j that position i contributes to."""
    return ~np.tri(n, n, -1, dtype=bool)


class CumProd(CumulativeBase):
    """running product of x along axis, as ``np.cumprod``"""

    save_inputs, save_out = True, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return np.cumprod(x, axis=self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d out_j/dx_i = Π_{k<=j, k≠i} x_k for j >= i, so dx_i = Σ_{j>=i} g_j·Π_{k<=j, k≠i} x_k
        (= Σ_{j>=i} g_j·out_j / x_i where no x is 0)"""
        g, out, x = self.along_last(g, out, x)
        if isinstance(x, np.ndarray) and np.all(x != 0) and np.all(np.isfinite(out)):
            reverse = (..., slice(None, None, -1))
            return (self.put_back((g * out)[reverse].cumsum(axis=-1)[reverse] / x),)
        # Exact with zeros, and recorded for higher order: row i of an n x n matrix is the
        # slice with x_i replaced by 1, so its running product at j is Π_{k<=j, k≠i} x_k.
        # Costs n² per slice (n = the axis' length).
        n = x.shape[-1]
        rows = where(np.eye(n, dtype=bool), 1.0, x[..., None, :])
        running = cumprod(rows, -1) if isinstance(rows, Tensor) else np.cumprod(rows, axis=-1)
        products = running * upper_triangle(n)
        return (self.put_back((products * g[..., None, :]).sum(axis=-1)),)


class LogCumSumExp(CumulativeBase):
    """log Σ_{k<=j} e^x_k along axis, running (numpy's logaddexp.accumulate: no overflow)"""

    save_inputs, save_out = True, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        flat = x.reshape(-1) if self.axis is None else x
        with np.errstate(under="ignore"):
            return np.logaddexp.accumulate(flat, axis=0 if self.axis is None else self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d out_j/dx_i = e^(x_i − out_j) for j >= i (each <= 1: x_i <= out_j), so
        dx_i = Σ_{j>=i} g_j·e^(x_i − out_j). An n x n matrix per slice: costs n²."""
        g, out, x = self.along_last(g, out, x)
        later = upper_triangle(x.shape[-1])
        exponents = where(later, x[..., :, None] - out[..., None, :], -np.inf)
        return (self.put_back((exp(exponents) * g[..., None, :]).sum(axis=-1)),)


def cumprod(x: Any, axis: int | None = None) -> Tensor:
    """Running product along ``axis``, as ``np.cumprod`` (None: of the flattened x); exact
    gradients with zeros in x."""
    return CumProd(axis)(as_tensor(x))


def logcumsumexp(x: Any, axis: int) -> Tensor:
    """log of the running sum of e^x along ``axis``, as ``torch.logcumsumexp``, without
    overflow."""
    return LogCumSumExp(axis)(as_tensor(x))


def running_extreme(x: Any, axis: int, largest: bool) -> ValuesIndices:
    x = as_tensor(x)
    where = "cummax" if largest else "cummin"
    axis = one_axis(x, axis, where)
    data = x.data
    best = (np.maximum if largest else np.minimum).accumulate(data, axis=axis)
    positions = np.arange(x.shape[axis]).reshape([-1 if a == axis else 1 for a in range(x.ndim)])
    # The running extreme changes (or ties) exactly where x equals it: take the latest such place.
    indices = np.maximum.accumulate(np.where(data == best, positions, 0), axis=axis)
    return ValuesIndices(gather(x, axis, indices), indices)


def cummax(x: Any, axis: int) -> ValuesIndices:
    """The running maximum along ``axis`` and where it is, as ``torch.cummax`` (a tie goes to
    the later element); the gradient of each value goes to that element."""
    return running_extreme(x, axis, largest=True)


def cummin(x: Any, axis: int) -> ValuesIndices:
    """The running minimum along ``axis`` and where it is, as ``torch.cummin``."""
    return running_extreme(x, axis, largest=False)

"""Ordering: sort, argsort, topk, median (PyTorch's, the lower middle) and quantile.

Each finds its indices with numpy (``np.argsort``: stable, so equal elements keep their order,
as PyTorch's ``stable=True``) and then gathers the values (``ops/index.py``): the gradient of
each value goes to the one element it was picked from, and higher derivatives come from
``gather``'s. Indices come back as numpy integer arrays (no gradient), as ``argmax``'s.

Tie policy: a tie goes to the element found first in the stable order (for median and topk,
as PyTorch's CPU kernels); ``quantile`` interpolates between the two neighbours of its rank.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..tensor import Tensor
from .arithmetic import lerp
from .index import gather, index_select
from .shape import as_tensor, normalize_axes


class ValuesIndices(NamedTuple):
    """What sort, topk, median (with an axis), cummax and cummin return, as PyTorch: the
    values (a Tensor) and where each came from along the axis (a numpy integer array)."""

    values: Tensor
    indices: np.ndarray


def stable_order(x: Tensor, axis: int, descending: bool) -> np.ndarray:
    """The indices that sort x along axis (largest first if descending), ties in order."""
    data = x.data
    return np.argsort(-data if descending else data, axis=axis, kind="stable")


def one_axis(x: Tensor, axis: int, where: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{where}: a 0-d tensor has no axis to order; expected at least 1-D.")
    return normalize_axes(axis, x.ndim, where, x.shape)[0]


def sort(x: Any, axis: int = -1, descending: bool = False) -> ValuesIndices:
    """x sorted along ``axis`` and the indices it came from, as ``torch.sort(stable=True)``
    (``np.sort(t)`` gives the values alone). d values/dx = g put back where each came from."""
    x = as_tensor(x)
    axis = one_axis(x, axis, "sort")
    indices = stable_order(x, axis, descending)
    return ValuesIndices(gather(x, axis, indices), indices)


def argsort(x: Any, axis: int = -1, descending: bool = False) -> np.ndarray:
    """The indices that sort x along ``axis`` (stable), as ``np.argsort``; no gradient."""
    x = as_tensor(x)
    return stable_order(x, one_axis(x, axis, "argsort"), descending)


def topk(
    x: Any, k: int, axis: int = -1, largest: bool = True, sorted: bool = True
) -> ValuesIndices:
    """The k largest (or smallest) elements along ``axis`` and their indices, as
    ``torch.topk``, in order (``sorted`` is accepted for PyTorch's signature; the result is
    always sorted). The gradient goes to the k picked elements."""
    x = as_tensor(x)
    axis = one_axis(x, axis, "topk")
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or not 0 <= k <= x.shape[axis]:
        raise ValueError(
            f"topk: k={k!r} for axis {axis} of shape {x.shape}; expected an int in "
            f"[0, {x.shape[axis]}]."
        )
    picked = np.take(stable_order(x, axis, descending=largest), np.arange(k), axis=axis)
    return ValuesIndices(gather(x, axis, picked), picked)


def median(x: Any, axis: int | None = None, keepdims: bool = False) -> Any:
    """The lower median, as ``torch.median``: of n elements, the ⌊(n−1)/2⌋-th smallest (an
    element of x, never an average: ``np.median(t)`` averages, as numpy). Without ``axis``, of
    all elements, a Tensor; with one, ``(values, indices)`` along it. The gradient goes to the
    median element."""
    x = as_tensor(x)
    if axis is None:
        if x.size == 0:
            raise ValueError("median: the tensor is empty; expected at least one element.")
        flat = x.reshape(-1)
        order = stable_order(flat, 0, descending=False)
        middle = order[[(flat.size - 1) // 2]]
        value = gather(flat, 0, middle).reshape(())
        return value.reshape((1,) * x.ndim) if keepdims else value
    axis = one_axis(x, axis, "median")
    if x.shape[axis] == 0:
        raise ValueError(f"median: axis {axis} of shape {x.shape} is empty.")
    n = x.shape[axis]
    middle = np.take(stable_order(x, axis, False), [(n - 1) // 2], axis=axis)
    values = gather(x, axis, middle)
    if not keepdims:
        values, middle = values.squeeze(axis), np.squeeze(middle, axis)
    return ValuesIndices(values, middle)


INTERPOLATIONS = ("linear", "lower", "higher", "nearest", "midpoint")


def quantile(
    x: Any,
    q: Any,
    axis: int | None = None,
    keepdims: bool = False,
    interpolation: str = "linear",
) -> Tensor:
    """The q-quantile along ``axis`` (of all elements for None), as ``torch.quantile`` and
    ``np.quantile``: rank r = q·(n−1) in the sorted values, between the elements at ⌊r⌋ and
    ⌈r⌉, by ``interpolation`` ("linear" lerps, "lower", "higher", "nearest", "midpoint").
    ``q`` is a number in [0, 1] or a 1-D array of them (its axis then comes first). The
    gradient goes to the one or two elements used, by their interpolation weights."""
    x = as_tensor(x)
    qs = np.asarray(q.data if isinstance(q, Tensor) else q, dtype=np.float64)
    if qs.ndim > 1 or not np.all((qs >= 0) & (qs <= 1)):
        raise ValueError(f"quantile: q={q!r}; expected a number or 1-D values in [0, 1].")
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"quantile: interpolation={interpolation!r}; expected {INTERPOLATIONS}.")
    source = x.reshape(-1) if axis is None else x
    axis = 0 if axis is None else one_axis(x, axis, "quantile")
    n = source.shape[axis]
    if n == 0:
        raise ValueError(f"quantile: no elements along the axis (shape {x.shape}).")
    ranks = qs.reshape(-1) * (n - 1)
    if interpolation == "nearest":
        ranks = np.round(ranks)  # halves to even, as numpy and PyTorch
    below, above = np.floor(ranks).astype(np.intp), np.ceil(ranks).astype(np.intp)
    if interpolation == "lower":
        above = below
    elif interpolation == "higher":
        below = above
    weight = 0.5 if interpolation == "midpoint" else ranks - below
    ordered = sort(source, axis).values
    shape = [1] * source.ndim
    shape[axis] = len(ranks)
    weight = np.reshape(np.broadcast_to(weight, ranks.shape), shape).astype(x.dtype)
    values = lerp(index_select(ordered, axis, below), index_select(ordered, axis, above), weight)
    values = values.moveaxis(axis, 0)  # q's axis first, as numpy and PyTorch
    if keepdims:
        kept = (1,) * x.ndim if source is not x else (*x.shape[:axis], 1, *x.shape[axis + 1 :])
        values = values.reshape((len(ranks), *kept))
    else:
        values = values.reshape((len(ranks), *np.delete(source.shape, axis)))
    return values.reshape(values.shape[1:]) if qs.ndim == 0 else values

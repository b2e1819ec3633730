"""Picking and placing elements by index, as PyTorch: gather, scatter, scatter_add,
index_select, index_add, masked_fill.

No new rule is needed: each is built from indexing (``GetItem``, whose gradient scatter-adds
g back where each element came from), its mirror ``ScatterAdd`` (whose gradient picks g back
out) and ``Where``. ``gather(x, axis, index)`` is ``x[i₀, ..., index, ..., iₙ]`` with the
other axes' positions spelled out, so an element gathered twice gets both gradients, and
the second derivative comes from the same two ops.

Indices are integer arrays (or integer-valued Tensors), non-negative and inside the axis, as
PyTorch requires; anything else is an error naming the function, not numpy's wrap-around.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from .select import where
from .shape import GetItem, ScatterAdd, as_tensor, normalize_axes


def integer_index(index: Any, name: str) -> np.ndarray:
    """``index`` as a numpy integer array (a copy: the graph keeps it)."""
    array = np.array(index.data if isinstance(index, Tensor) else index)
    if array.dtype.kind == "f" and np.array_equal(array, np.round(array)):
        array = array.astype(np.intp)  # an integer-valued Tensor (tensors hold floats)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name}: the index has dtype {array.dtype}; expected integers.")
    return array


def check_inside(index: np.ndarray, size: int, name: str, shape: tuple[int, ...]) -> None:
    if index.size and (index.min() < 0 or index.max() >= size):
        raise IndexError(
            f"{name}: indices range over [{index.min()}, {index.max()}] for an axis of size "
            f"{size} (shape {shape}); expected indices in [0, {size})."
        )


def along_axis(
    x: Tensor, axis: int, index: Any, name: str, *, src: Tensor | None = None
) -> tuple[int, tuple[Any, ...]]:
    """The axis, and ``index`` spelled out as a full numpy index: position i of ``index`` picks
    x[i₀, ..., index[i], ..., iₙ] (PyTorch's gather/scatter rule). ``index`` has x's number of
    axes and is no longer than x (and ``src``) along every other axis."""
    (axis,) = normalize_axes(axis, x.ndim, name, x.shape)
    index = integer_index(index, name)
    others = [x] if src is None else [x, src]
    if (
        any(t.ndim != x.ndim for t in others)
        or index.ndim != x.ndim
        or any(
            index.shape[d] > t.shape[d]
            for t in others
            for d in range(x.ndim)
            if d != axis or t is src
        )
    ):
        sizes = f" and src {src.shape}" if src is not None else ""
        raise ValueError(
            f"{name}: index of shape {index.shape} for x of shape {x.shape}{sizes} along "
            f"axis {axis}; expected as many axes as x, each no longer than x's (and src's)."
        )
    check_inside(index, x.shape[axis], name, x.shape)
    positions = list(np.indices(index.shape, sparse=True))
    positions[axis] = index
    return axis, tuple(positions)


def cut_to(src: Tensor, shape: tuple[int, ...]) -> Tensor:
    """The corner of ``src`` of ``shape`` (PyTorch reads only that much of a larger src)."""
    return src if src.shape == shape else src[tuple(slice(0, n) for n in shape)]


def gather(x: Any, axis: int, index: Any) -> Tensor:
    """``out[i][j][k] = x[i][index[i][j][k]][k]`` for axis=1 (any axis alike), as ``torch.gather``:
    the result has index's shape. d out/dx = g scatter-added back to the gathered places."""
    x = as_tensor(x)
    _, positions = along_axis(x, axis, index, "gather")
    return GetItem(positions)(x)


def scatter_add(x: Any, axis: int, index: Any, src: Any) -> Tensor:
    """x with ``src[i][j][k]`` added at ``x[i][index[i][j][k]][k]`` for axis=1, as
    ``torch.scatter_add``; repeated indices add up. dx = g,  dsrc = g gathered at index."""
    x = as_tensor(x)
    src = x._operand(src)
    axis, positions = along_axis(x, axis, index, "scatter_add", src=src)
    return x + ScatterAdd(positions, x.shape)(cut_to(src, positions[axis].shape))


def scatter(x: Any, axis: int, index: Any, src: Any) -> Tensor:
    """x with ``x[i][index[i][j][k]][k] = src[i][j][k]`` for axis=1, as ``torch.scatter``; src may
    be a number. Each place may be written once (PyTorch leaves the winner of a repeated index
    undefined: here it is an error). dx = g where not written,  dsrc = g gathered at index."""
    x = as_tensor(x)
    src = x._operand(src)
    if src.ndim == 0:
        src = src.broadcast_to(x.shape)
    axis, positions = along_axis(x, axis, index, "scatter", src=src)
    written = np.zeros(x.shape, dtype=np.intp)
    np.add.at(written, positions, 1)
    if written.max(initial=0) > 1:
        raise ValueError(
            "scatter: the index writes some place of x more than once; expected each place "
            "once (use scatter_add to add up repeated indices)."
        )
    placed = ScatterAdd(positions, x.shape)(cut_to(src, positions[axis].shape))
    return where(written > 0, placed, x)


def index_select(x: Any, axis: int, index: Any) -> Tensor:
    """The slices x[..., index[i], ...] along ``axis``, as ``torch.index_select``: index is
    1-D. d/dx = g added back into the selected slices (a slice picked twice gets both)."""
    x = as_tensor(x)
    (axis,) = normalize_axes(axis, x.ndim, "index_select", x.shape)
    index = integer_index(index, "index_select")
    if index.ndim != 1:
        raise ValueError(f"index_select: index of shape {index.shape}; expected 1-D.")
    check_inside(index, x.shape[axis], "index_select", x.shape)
    return GetItem((slice(None),) * axis + (index,))(x)


def index_add(x: Any, axis: int, index: Any, source: Any, alpha: float = 1.0) -> Tensor:
    """x with alpha·source[..., i, ...] added to the slice x[..., index[i], ...] along ``axis``,
    as ``torch.index_add``: index is 1-D, source is x's shape with len(index) along the axis.
    dx = g,  dsource = alpha·g[..., index, ...]."""
    x = as_tensor(x)
    source = x._operand(source)
    (axis,) = normalize_axes(axis, x.ndim, "index_add", x.shape)
    index = integer_index(index, "index_add")
    expected = (*x.shape[:axis], len(index), *x.shape[axis + 1 :]) if index.ndim == 1 else None
    if source.shape != expected:
        raise ValueError(
            f"index_add: x {x.shape}, index {index.shape}, source {source.shape} along axis "
            f"{axis}; expected a 1-D index and source of shape {expected or 'x.shape'} with "
            "len(index) along the axis."
        )
    check_inside(index, x.shape[axis], "index_add", x.shape)
    return x + ScatterAdd((slice(None),) * axis + (index,), x.shape)(source) * alpha


def masked_fill(x: Any, mask: Any, value: Any) -> Tensor:
    """x with ``value`` where ``mask`` is true, as ``torch.masked_fill``: the mask broadcasts
    to x's shape; value is a number or a 0-d tensor (which gets the sum of g over the mask).
    dx = g where the mask is false."""
    x = as_tensor(x)
    mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
    if mask.dtype != bool:
        raise TypeError(f"masked_fill: the mask has dtype {mask.dtype}; expected booleans.")
    try:
        mask = np.broadcast_to(mask, x.shape)
    except ValueError:
        raise ValueError(
            f"masked_fill: the mask has shape {mask.shape}, x {x.shape}; expected a mask that "
            "broadcasts to x's shape."
        ) from None
    value = x._operand(value)
    if value.ndim != 0:
        raise ValueError(f"masked_fill: value of shape {value.shape}; expected a number or 0-d.")
    return where(mask, value, x)

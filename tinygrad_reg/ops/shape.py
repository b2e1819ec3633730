"""Ops that move elements around without changing their values.

Their gradients move the upstream gradient back to where each element came from.
"""

from __future__ import annotations

import itertools
import reprlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import is_axis


class Reshape(Function):
    """x with a new shape (same elements, row-major order)"""

    save_inputs, save_out = False, False

    __slots__ = ("input_shape", "shape")
    expects = "a shape with the same number of elements"

    def __init__(self, shape: Any):
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_shape = x.shape
        return x.reshape(self.shape)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d reshape(x)/dx = g reshaped back to x's shape"""
        return (g.reshape(self.input_shape),)


class Transpose(Function):
    """x with its axes permuted (reversed when axes is None)"""

    save_inputs, save_out = False, False

    __slots__ = ("axes", "inverse")
    expects = "axes that are a permutation of range(ndim)"

    def __init__(self, axes: Sequence[int] | None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = x.transpose(self.axes)
        if self.axes is None:
            self.inverse = None
        else:
            self.inverse = tuple(int(i) for i in np.argsort([a % x.ndim for a in self.axes]))
        return out

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d transpose(x)/dx = g transposed by the inverse permutation"""
        return (g.transpose(self.inverse),)


class BroadcastTo(Function):
    """x repeated along new or size-1 axes to fill shape"""

    save_inputs, save_out = False, False

    __slots__ = ("shape",)
    expects = "a shape that x broadcasts to"

    def __init__(self, shape: tuple[int, ...]):
        self.shape = shape

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x, self.shape)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d broadcast(x)/dx = g summed over the copies (done by the engine's unbroadcast)"""
        return (g,)


def _index_without_aliases(index: Any) -> tuple[Any, ...]:
    """``index`` as a tuple, with lists and arrays copied: the graph keeps it for backward."""
    items = index if isinstance(index, tuple) else (index,)
    frozen = []
    for item in items:
        if isinstance(item, Tensor):
            item = item.data
        if isinstance(item, (list, np.ndarray)):
            try:
                item = item.copy() if isinstance(item, np.ndarray) else np.array(item)
            except ValueError:  # a ragged list such as [[0, 1], [0]]
                raise IndexError(
                    f"GetItem: the index {reprlib.repr(index)} holds lists of different lengths; "
                    "expected integer or boolean arrays of one shape."
                ) from None
            if item.size == 0 and item.dtype.kind == "f":  # x[[]]: numpy reads [] as float
                item = item.astype(np.intp)
            if item.dtype.kind not in "biu":
                raise IndexError(
                    f"GetItem: index arrays must hold integers or booleans, not {item.dtype}."
                )
        frozen.append(item)
    return tuple(frozen)


class GetItem(Function):
    """x[index]: ints, slices, None, Ellipsis, integer and boolean arrays, as numpy"""

    save_inputs, save_out = False, False

    __slots__ = ("index", "shape")
    expects = "an index valid for this shape"

    def __init__(self, index: Any):
        self.index = _index_without_aliases(index)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.shape = x.shape
        return x[self.index]

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d x[i]/dx = g placed at i in zeros; an element picked twice gets both gradients"""
        return (scatter_add(g, self.index, self.shape),)


class ScatterAdd(Function):
    """zeros(shape) with g added at index (the gradient of x[index], as an op)"""

    save_inputs, save_out = False, False

    __slots__ = ("index", "shape")

    def __init__(self, index: tuple[Any, ...], shape: tuple[int, ...]):
        self.index, self.shape = index, shape

    def forward(self, g: np.ndarray) -> np.ndarray:
        out = np.zeros_like(g, shape=self.shape, order="C")  # not np.zeros: compile records it
        if any(isinstance(i, np.ndarray) and i.dtype.kind != "b" for i in self.index):
            np.add.at(out, self.index, g)  # integer arrays may repeat an element
        else:
            out[self.index] = g
        return out

    def backward(self, gg: Any, out: Any, g: Any) -> tuple[Any, ...]:
        """d scatter(g)/dg = gg[index]"""
        return (gg[self.index],)


def scatter_add(g: Any, index: tuple[Any, ...], shape: tuple[int, ...]) -> Any:
    """zeros(shape) with g added at index, for numpy arrays and Tensors alike."""
    if isinstance(g, Tensor):
        return ScatterAdd(index, shape)(g)
    return ScatterAdd(index, shape).forward(g)


class Concatenate(Function):
    """tensors joined along an existing axis"""

    save_inputs, save_out = False, False

    __slots__ = ("axis", "bounds")
    expects = "equal shapes except along axis"

    def __init__(self, axis: int):
        if not is_axis(axis):
            raise TypeError(f"Concatenate: axis={axis!r}; expected an int (flatten first).")
        self.axis = int(axis)

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        out = np.concatenate(xs, axis=self.axis)
        self.axis %= out.ndim
        self.bounds = np.cumsum([0] + [x.shape[self.axis] for x in xs])
        return out

    def backward(self, g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        """d concat(x₁..xₙ)/dxᵢ = the slice of g where xᵢ was placed"""
        before = (slice(None),) * self.axis
        return tuple(
            g[(*before, slice(start, stop))]
            for start, stop in zip(self.bounds[:-1], self.bounds[1:])
        )


class Stack(Function):
    """tensors of equal shape joined along a new axis"""

    save_inputs, save_out = False, False

    __slots__ = ("axis",)
    expects = "tensors of equal shape"

    def __init__(self, axis: int):
        if not is_axis(axis):
            raise TypeError(f"Stack: axis={axis!r}; expected an int.")
        self.axis = int(axis)

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        out = np.stack(xs, axis=self.axis)
        self.axis %= out.ndim
        return out

    def backward(self, g: Any, out: Any, *xs: Any) -> tuple[Any, ...]:
        """d stack(x₁..xₙ)/dxᵢ = g[..., i, ...] along the new axis"""
        before = (slice(None),) * self.axis
        return tuple(g[(*before, i)] for i in range(len(xs)))


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis, as ``np.concatenate``."""
    tensors = _as_tensors(tensors, "concatenate")
    return Concatenate(axis)(*tensors)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors of equal shape along a new axis, as ``np.stack``."""
    tensors = _as_tensors(tensors, "stack")
    return Stack(axis)(*tensors)


def _as_tensors(items: Sequence[Any], where: str) -> list[Tensor]:
    items = list(items)
    if not items:
        raise ValueError(f"{where}: needs at least one tensor.")
    return [x if isinstance(x, Tensor) else Tensor(x) for x in items]


# --- shape functions built from the ops above -----------------------------------------------
# squeeze, unsqueeze, flatten and expand only change the shape, so each is a Reshape or a
# BroadcastTo (whose rules already put the gradient back); moveaxis is a Transpose; split and
# chunk are slices (GetItem), one per piece.


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor made from it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def normalize_axes(axis: Any, ndim: int, where: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``axis`` (an int or a sequence of ints, negative counting from the end) as distinct
    non-negative ints below ``ndim``; a clear error naming ``where`` and ``shape`` otherwise."""
    axes = (axis,) if is_axis(axis) else axis
    if not isinstance(axes, (tuple, list)) or not all(is_axis(a) for a in axes):
        raise TypeError(f"{where}: axis={axis!r}; expected an int or a tuple of ints.")
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{where}: axis {a} for shape {shape}; expected axes in [-{ndim}, {ndim})."
            )
    normalized = tuple(int(a) % ndim for a in axes)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{where}: axis={axis!r} for shape {shape} names an axis twice.")
    return normalized


def squeeze(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` without its size-1 axes (all of them, or those in ``axis``), as ``np.squeeze``."""
    x = as_tensor(x)
    if axis is None:
        axes = tuple(i for i, n in enumerate(x.shape) if n == 1)
    else:
        axes = normalize_axes(axis, x.ndim, "squeeze", x.shape)
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(
                f"squeeze: axis {a} of shape {x.shape} has size {x.shape[a]}; expected size 1."
            )
    return Reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))(x)


def unsqueeze(x: Any, axis: int | Sequence[int]) -> Tensor:
    """``x`` with new size-1 axes at ``axis`` (positions in the result), as ``np.expand_dims``."""
    x = as_tensor(x)
    count = 1 if is_axis(axis) else len(axis) if isinstance(axis, (tuple, list)) else 0
    new_axes = normalize_axes(axis, x.ndim + count, "unsqueeze", x.shape)
    sides = iter(x.shape)
    return Reshape(tuple(1 if i in new_axes else next(sides) for i in range(x.ndim + count)))(x)


expand_dims = unsqueeze


def flatten(x: Any, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Axes ``start_dim`` to ``end_dim`` (both included) merged into one, as ``torch.flatten``;
    a 0-d tensor becomes shape (1,)."""
    x = as_tensor(x)
    if x.ndim == 0:
        for a in (start_dim, end_dim):  # as PyTorch: a 0-d tensor counts as one axis here
            normalize_axes(a, 1, "flatten", x.shape)
        return Reshape((1,))(x)
    start, end = (normalize_axes(a, x.ndim, "flatten", x.shape)[0] for a in (start_dim, end_dim))
    if start > end:
        raise ValueError(
            f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {x.shape}."
        )
    merged = int(np.prod(x.shape[start : end + 1]))
    return Reshape((*x.shape[:start], merged, *x.shape[end + 1 :]))(x)


def broadcast_to(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` repeated along new or size-1 axes to fill ``shape``, as ``np.broadcast_to``."""
    if is_axis(shape):
        shape = (shape,)
    return BroadcastTo(tuple(shape))(as_tensor(x))


def expand(x: Any, *sizes: Any) -> Tensor:
    """``broadcast_to`` as ``torch.expand``: ``t.expand(2, 3)`` or ``t.expand((2, 3))``, and a
    size of -1 keeps that axis as it is."""
    x = as_tensor(x)
    shape = tuple(sizes[0]) if len(sizes) == 1 and not is_axis(sizes[0]) else sizes
    new = len(shape) - x.ndim
    if new < 0 or any(n == -1 for n in shape[:new]):
        raise ValueError(
            f"expand: sizes {shape} for shape {x.shape}; expected at least {x.ndim} sizes, and "
            "-1 only for existing axes."
        )
    return BroadcastTo(tuple(x.shape[i - new] if n == -1 else n for i, n in enumerate(shape)))(x)


def swapaxes(x: Any, axis1: int, axis2: int) -> Tensor:
    """``x`` with two axes exchanged, as ``np.swapaxes``."""
    return as_tensor(x).swapaxes(axis1, axis2)


def moveaxis(x: Any, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
    """``x`` with the ``source`` axes moved to the positions ``destination``, the other axes
    keeping their order, as ``np.moveaxis``."""
    x = as_tensor(x)
    sources = normalize_axes(source, x.ndim, "moveaxis", x.shape)
    destinations = normalize_axes(destination, x.ndim, "moveaxis", x.shape)
    if len(sources) != len(destinations):
        raise ValueError(
            f"moveaxis: source {source!r} and destination {destination!r} have different "
            "lengths; expected one destination per source axis."
        )
    order = [i for i in range(x.ndim) if i not in sources]
    for dest, src in sorted(zip(destinations, sources)):
        order.insert(dest, src)
    return Transpose(order)(x)


def _slice_along(x: Tensor, axis: int, start: int, stop: int) -> Tensor:
    return GetItem((slice(None),) * axis + (slice(start, stop),))(x)


def split(x: Any, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
    """Pieces of ``x`` along ``axis``, as ``np.split``: an int n gives n equal pieces (it must
    divide the axis); a list of indices cuts before each index (pieces may be empty)."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor has no axis to split; expected at least 1-D.")
    (axis,) = normalize_axes(axis, x.ndim, "split", x.shape)
    size = x.shape[axis]
    if is_axis(indices_or_sections):
        sections = int(indices_or_sections)
        if sections < 1 or size % sections:
            raise ValueError(
                f"split: axis {axis} of shape {x.shape} has {size} elements, which do not "
                f"divide into {sections} equal sections; expected a positive divisor "
                "(chunk allows a smaller last piece)."
            )
        cuts = [k * (size // sections) for k in range(1, sections)]
    elif isinstance(indices_or_sections, (list, tuple, np.ndarray)) and all(
        is_axis(i) for i in indices_or_sections
    ):
        cuts = [int(i) for i in indices_or_sections]
    else:
        raise TypeError(
            f"split: indices_or_sections={indices_or_sections!r}; expected an int or a list "
            "of ints."
        )
    bounds = [0, *cuts, size]  # python slicing, so cuts past the end or backwards give empties
    return [_slice_along(x, axis, a, b) for a, b in itertools.pairwise(bounds)]


def chunk(x: Any, chunks: int, axis: int = 0) -> list[Tensor]:
    """``x`` cut along ``axis`` into pieces of ceil(size / chunks) elements (the last may be
    smaller, and there may be fewer than ``chunks`` pieces), as ``torch.chunk``."""
    x = as_tensor(x)
    if not is_axis(chunks) or chunks < 1:
        raise ValueError(f"chunk: chunks={chunks!r}; expected a positive int.")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor has no axis to cut; expected at least 1-D.")
    (axis,) = normalize_axes(axis, x.ndim, "chunk", x.shape)
    size = x.shape[axis]
    step = max(-(-size // int(chunks)), 1)
    return [_slice_along(x, axis, a, a + step) for a in range(0, max(size, 1), step)]


def unbind(x: Any, axis: int = 0) -> list[Tensor]:
    """The slices of ``x`` along ``axis``, each without that axis, as ``torch.unbind``."""
    x = as_tensor(x)
    if x.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no axis to unbind; expected at least 1-D.")
    (axis,) = normalize_axes(axis, x.ndim, "unbind", x.shape)
    return [GetItem((slice(None),) * axis + (i,))(x) for i in range(x.shape[axis])]


def hstack(tensors: Sequence[Any]) -> Tensor:
    """Joined along axis 1 (axis 0 for 1-D tensors), as ``np.hstack``; 0-d become 1-D."""
    tensors = [t.reshape(1) if t.ndim == 0 else t for t in _as_tensors(tensors, "hstack")]
    return concatenate(tensors, axis=0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Any]) -> Tensor:
    """Joined along axis 0, 1-D (and 0-d) tensors first made rows, as ``np.vstack``."""
    tensors = [t.reshape(1, -1) if t.ndim < 2 else t for t in _as_tensors(tensors, "vstack")]
    return concatenate(tensors, axis=0)

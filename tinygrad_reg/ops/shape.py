"""Ops that move elements around without changing their values.

Their gradients move the upstream gradient back to where each element came from.
"""

from __future__ import annotations

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
            item = np.array(item) if len(item) else np.array(item, dtype=np.intp)  # x[[]]
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
        out = np.zeros(self.shape, dtype=g.dtype)
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

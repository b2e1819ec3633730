"""Ops that rearrange, copy or mask elements: pad, flip, roll, tile, repeat, tril, triu, and the
diagonal family (diagonal, trace, diag).

Each gradient sends the upstream gradient back to the element it came from: a moved element
gets its gradient moved back, a copied element the sum over its copies, a padded or masked-out
position nothing. None of these rules reads a value, so none saves its input or output: the
shapes they need are recorded in ``forward``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import is_axis, masked
from .shape import GetItem, as_tensor, moveaxis, normalize_axes, scatter_add


class Pad(Function):
    """x surrounded by ``value``: pad_width[i] = (before, after) elements on axis i"""

    __slots__ = ("inside", "value", "widths")
    save_inputs, save_out = False, False

    def __init__(self, widths: tuple[tuple[int, int], ...], value: float):
        self.widths, self.value = widths, value

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.inside = tuple(slice(a, a + n) for (a, _), n in zip(self.widths, x.shape))
        if x.ndim == 0:  # nothing to pad around (numpy returns the value too)
            return x.copy()
        return np.pad(x, self.widths, mode="constant", constant_values=self.value)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d pad(x)/dx = the part of g inside the padding"""
        return (g[self.inside],)


def pad(x: Any, pad_width: Any, value: float = 0.0) -> Tensor:
    """``x`` with ``value`` added around it, as ``np.pad(x, pad_width, constant_values=value)``:
    ``pad_width`` is n (n on every side), (before, after) for every axis, or one such pair per
    axis; widths must be non-negative ints."""
    x = as_tensor(x)
    widths = np.asarray(pad_width)
    try:
        if widths.dtype.kind not in "iu" or (widths < 0).any():
            raise ValueError
        widths = np.broadcast_to(widths, (x.ndim, 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width={pad_width!r} for shape {x.shape}; expected non-negative ints: n, "
            f"(before, after) or {x.ndim} such pairs."
        ) from None
    return Pad(tuple((int(a), int(b)) for a, b in widths), value)(x)


class Flip(Function):
    """x with the order of elements reversed along some axes (all if axis is None)"""

    __slots__ = ("axis", "reverse")
    expects = "axes in [-ndim, ndim), none twice"
    save_inputs, save_out = False, False

    def __init__(self, axis: int | Sequence[int] | None):
        self.axis = axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes = (
            range(x.ndim)
            if self.axis is None
            else normalize_axes(self.axis, x.ndim, "flip", x.shape)
        )
        self.reverse = tuple(
            slice(None, None, -1) if i in axes else slice(None) for i in range(x.ndim)
        )
        return x[self.reverse]

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d flip(x)/dx = flip(g): reversing twice is the identity"""
        return (g[self.reverse],)


def flip(x: Any, axis: int | Sequence[int] | None = None) -> Tensor:
    """``x`` reversed along ``axis`` (an int, a tuple, or None for all axes), as ``np.flip``."""
    return Flip(axis)(as_tensor(x))


class Roll(Function):
    """x shifted cyclically by ``shift`` places along ``axis`` (flattened if axis is None)"""

    __slots__ = ("axis", "shift")
    expects = "axes in [-ndim, ndim)"
    save_inputs, save_out = False, False

    def __init__(self, shift: int | Sequence[int], axis: int | Sequence[int] | None):
        self.shift, self.axis = shift, axis

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.axis is not None:  # each axis in range; an axis named twice rolls twice, as numpy
            for axis in (self.axis,) if is_axis(self.axis) else self.axis:
                normalize_axes(axis, x.ndim, "roll", x.shape)
        return np.roll(x, self.shift, self.axis)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d roll(x, s)/dx = roll(g, -s)"""
        back = np.negative(self.shift)
        if isinstance(g, Tensor):
            return (Roll(back, self.axis)(g),)
        return (np.roll(g, back, self.axis),)


def roll(x: Any, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
    """Elements shifted cyclically, as ``np.roll``: ``shift`` and ``axis`` are ints or tuples
    of equal length; without ``axis`` the flattened tensor is rolled and reshaped back."""
    shifts = (shift,) if is_axis(shift) else shift
    if not isinstance(shifts, (tuple, list)) or not all(is_axis(s) for s in shifts):
        raise TypeError(f"roll: shift={shift!r}; expected an int or a tuple of ints.")
    if axis is not None:
        count = 1 if is_axis(axis) else len(axis) if isinstance(axis, (tuple, list)) else -1
        if len(shifts) not in (1, count):
            raise ValueError(f"roll: shift={shift!r} and axis={axis!r} differ in length.")
        return Roll(shift, axis)(as_tensor(x))
    if len(shifts) != 1:
        raise ValueError(f"roll: shift={shift!r} needs an axis for each shift.")
    return Roll(shift, None)(as_tensor(x))


class Tile(Function):
    """x repeated as a whole block ``reps[i]`` times along axis i, as ``np.tile``"""

    __slots__ = ("blocks", "reps", "shape")
    save_inputs, save_out = False, False

    def __init__(self, reps: tuple[int, ...]):
        self.reps = reps

    def forward(self, x: np.ndarray) -> np.ndarray:
        ndim = max(x.ndim, len(self.reps))
        sides = (1,) * (ndim - x.ndim) + x.shape
        reps = (1,) * (ndim - len(self.reps)) + self.reps
        # Output axis i holds reps[i] copies of sides[i] elements: as (reps[i], sides[i]).
        self.blocks = tuple(n for pair in zip(reps, sides) for n in pair)
        self.shape = x.shape
        return np.tile(x, self.reps)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d tile(x)/dx = g summed over the copies"""
        copies = tuple(range(0, len(self.blocks), 2))
        return (g.reshape(self.blocks).sum(axis=copies).reshape(self.shape),)


def tile(x: Any, reps: int | Sequence[int]) -> Tensor:
    """``x`` repeated as a block ``reps`` times (an int or one count per axis), as ``np.tile``."""
    reps = (reps,) if is_axis(reps) else reps
    if not isinstance(reps, (tuple, list)) or not all(is_axis(r) and r >= 0 for r in reps):
        raise ValueError(f"tile: reps={reps!r}; expected a non-negative int or a tuple of them.")
    return Tile(tuple(int(r) for r in reps))(as_tensor(x))


def repeat(x: Any, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
    """Each element repeated ``repeats`` times (an int, or one count per element) along
    ``axis`` (of the flattened tensor if None), as ``np.repeat``.

    It picks elements by integer index (GetItem), whose gradient adds up the gradients of
    all the copies of an element."""
    x = as_tensor(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    (axis,) = normalize_axes(axis, x.ndim, "repeat", x.shape)
    try:
        picks = np.repeat(np.arange(x.shape[axis]), repeats)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"repeat: repeats={repeats!r} for axis {axis} of shape {x.shape}; expected a "
            f"non-negative int or {x.shape[axis]} of them ({error})."
        ) from None
    return GetItem((slice(None),) * axis + (picks,))(x)


class Triangle(Function):
    """x with the elements outside a triangle of the last two axes set to 0: tril keeps
    j <= i + k, triu keeps j >= i + k"""

    __slots__ = ("k", "keep", "lower")
    expects = "a tensor of at least 2-D"
    save_inputs, save_out = False, False

    def __init__(self, k: int, lower: bool):
        if not is_axis(k):
            raise TypeError(f"{'tril' if lower else 'triu'}: k={k!r}; expected an int.")
        self.k, self.lower = int(k), lower

    def forward(self, x: np.ndarray) -> np.ndarray:
        if x.ndim < 2:
            raise ValueError("needs at least 2-D (a matrix, or a batch of them)")
        rows, cols = x.shape[-2:]
        if self.lower:
            self.keep = np.tri(rows, cols, self.k, dtype=bool)
        else:
            self.keep = ~np.tri(rows, cols, self.k - 1, dtype=bool)
        return np.where(self.keep, x, np.zeros((), x.dtype))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d tril(x)/dx = g inside the triangle, 0 outside (triu likewise)"""
        return (masked(g, self.keep),)

    @property
    def name(self) -> str:
        return "tril" if self.lower else "triu"


def tril(x: Any, k: int = 0) -> Tensor:
    """The lower triangle of (each matrix in) ``x``: elements with column <= row + k, as
    ``np.tril``; the rest are 0."""
    return Triangle(k, lower=True)(as_tensor(x))


def triu(x: Any, k: int = 0) -> Tensor:
    """The upper triangle of (each matrix in) ``x``: elements with column >= row + k, as
    ``np.triu``; the rest are 0."""
    return Triangle(k, lower=False)(as_tensor(x))


def _diagonal_positions(rows: int, cols: int, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of each element of the ``offset`` diagonal of a rows x cols matrix."""
    first_row, first_col = max(-offset, 0), max(offset, 0)
    length = max(0, min(rows - first_row, cols - first_col))
    return np.arange(length) + first_row, np.arange(length) + first_col


def diagonal(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The ``offset`` diagonal of the matrices on axes (axis1, axis2), as ``np.diagonal``: the
    other axes come first, the diagonal last.

    Moving the two axes to the end and picking (row, column) pairs by integer index (GetItem)
    gives the result; their gradients put g back on the diagonal."""
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"diagonal: shape {x.shape}; expected at least 2-D.")
    if not is_axis(offset):
        raise TypeError(f"diagonal: offset={offset!r}; expected an int.")
    first, second = normalize_axes((axis1, axis2), x.ndim, "diagonal", x.shape)
    rows, cols = _diagonal_positions(x.shape[first], x.shape[second], int(offset))
    return moveaxis(x, (first, second), (-2, -1))[..., rows, cols]


def trace(x: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    """The sum of the ``offset`` diagonal, as ``np.trace``."""
    return diagonal(x, offset, axis1, axis2).sum(axis=-1)


def diag(x: Any, k: int = 0) -> Tensor:
    """As ``np.diag``: a 1-D ``x`` becomes a square matrix with ``x`` on the ``k`` diagonal
    (zeros elsewhere); a 2-D ``x`` gives its ``k`` diagonal."""
    x = as_tensor(x)
    if not is_axis(k):
        raise TypeError(f"diag: k={k!r}; expected an int.")
    if x.ndim == 2:
        return diagonal(x, k)
    if x.ndim != 1:
        raise ValueError(f"diag: shape {x.shape}; expected 1-D (to build) or 2-D (to extract).")
    side = x.shape[0] + abs(int(k))
    # Placing x on the diagonal is scatter_add (each element lands once); its gradient picks
    # the diagonal of g back out.
    return scatter_add(x, _diagonal_positions(side, side, int(k)), (side, side))

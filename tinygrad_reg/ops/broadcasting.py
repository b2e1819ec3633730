"""Undoing broadcasting: the only place a gradient is reduced to its input's shape.

An input broadcast in the forward pass was used once per element of the axes broadcasting
added or stretched, so its gradient is the sum of the upstream gradient over those axes.
``backpropagate`` (engine.py) calls these for every gradient whose shape differs from its
input's, such as a bias's (n, m) gradient for its (n, 1) values.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.lru_cache(maxsize=1024)
def summed_axes(g_shape: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The axes of a gradient of shape ``g_shape`` that broadcasting ``shape`` added or
    stretched, or None if broadcasting ``shape`` cannot give ``g_shape``. A pure function of
    two shapes, so it is worked out once per pair of shapes (a step repeats the same ones)."""
    added = len(g_shape) - len(shape)
    if added < 0 or any(n != 1 and n != m for n, m in zip(shape, g_shape[added:])):
        return None
    stretched = [added + i for i, n in enumerate(shape) if n == 1 and g_shape[added + i] != 1]
    return (*range(added), *stretched)


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched, so it has ``shape``.

    If ``x`` of shape (3, 1) was broadcast against (2, 3, 4), each element of ``x`` was used
    2·4 times, so its gradient is the sum of those 8 upstream gradients. (One sum over all
    those axes at once: each numpy call costs microseconds on small arrays.)
    """
    if g.shape == shape:
        return g
    axes = summed_axes(g.shape, tuple(shape))
    if axes is None:
        raise ValueError(f"unbroadcast: shape {g.shape} is not a broadcast of shape {shape}.")
    return sum_to(g, axes, shape)


def sum_to(g: Any, axes: tuple[int, ...], shape: tuple[int, ...]) -> Any:
    """``g`` summed over ``axes`` (from ``summed_axes``) and given ``shape``."""
    # np.add.reduce is what ndarray.sum calls (the same sum, bit for bit), without the
    # Python wrapper in between; a Tensor (a recorded backward pass) sums as an op.
    g = (
        np.add.reduce(g, axis=axes, keepdims=True)
        if type(g) is np.ndarray
        else g.sum(axis=axes, keepdims=True)
    )
    return g.reshape(shape) if g.ndim != len(shape) else g

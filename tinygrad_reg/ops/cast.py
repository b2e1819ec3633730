"""Changing a tensor's float dtype (``astype``): the gradient is cast back, so each tensor's
gradient keeps its own dtype."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function


def float_dtype(dtype: Any, where: str) -> np.dtype:
    """``dtype`` as a numpy float dtype; a clear error for anything else."""
    try:
        result = np.dtype(dtype)
    except TypeError:
        result = None
    if result is None or result.kind != "f":
        raise TypeError(
            f"{where}: dtype={dtype!r}; expected a float dtype such as np.float32 or np.float64 "
            "(tensors hold real floating-point numbers)."
        )
    return result


class AsType(Function):
    """x converted to another float dtype"""

    __slots__ = ("dtype", "input_dtype")
    save_inputs, save_out = False, False

    def __init__(self, dtype: Any):
        self.dtype = float_dtype(dtype, "astype")

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.input_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d astype(x)/dx = g cast back to x's dtype"""
        return (g.astype(self.input_dtype),)

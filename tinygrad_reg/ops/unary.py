"""Elementwise functions of one tensor.

Kink policy (derivatives where the function has a corner): relu'(0) = 0, abs'(0) = 0, and
clip passes the gradient where lo <= x <= hi, boundaries included (as PyTorch's clamp).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from .helpers import sign, stable_sigmoid, value


class Exp(Function):
    """e^x"""

    save_inputs, save_out = False, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.exp(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(e^x)/dx = g*e^x = g*out"""
        return (g * out,)


class Log(Function):
    """natural log, ln x"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(ln x)/dx = g/x"""
        return (g / x,)


class Sqrt(Function):
    """√x"""

    save_inputs, save_out = False, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sqrt(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(√x)/dx = g/(2√x) = g/(2*out)"""
        return (g / (2 * out),)


class Abs(Function):
    """|x|"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.abs(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d|x|/dx = g*sign(x), with sign(0) = 0"""
        return (g * sign(x),)


class Relu(Function):
    """max(x, 0)"""

    save_inputs, save_out = False, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x, 0)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d relu(x)/dx = g where x > 0, else 0 (so relu'(0) = 0)"""
        return (g * (value(out) > 0),)  # out > 0 exactly where x > 0


class Sigmoid(Function):
    """σ(x) = 1/(1+e^-x), finite and warning-free for any finite x (see stable_sigmoid)"""

    save_inputs, save_out = False, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return stable_sigmoid(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """dσ(x)/dx = g*σ(x)*(1-σ(x)) = g*out*(1-out)"""
        return (g * out * (1 - out),)


class Tanh(Function):
    """tanh x"""

    save_inputs, save_out = False, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tanh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d tanh(x)/dx = g*(1-tanh²x) = g*(1-out²)"""
        return (g * (1 - out * out),)


class Clip(Function):
    """x limited to [lo, hi] (either bound may be None)"""

    save_inputs, save_out = True, False

    __slots__ = ("hi", "lo")
    expects = "lo <= hi"

    def __init__(self, lo: float | None, hi: float | None):
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"Clip: lo={lo} is greater than hi={hi}; expected lo <= hi.")
        self.lo, self.hi = lo, hi

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lo, self.hi)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d clip(x)/dx = g where clip left x unchanged (lo <= x <= hi), else 0"""
        return (g * (value(x) == np.clip(value(x), self.lo, self.hi)),)

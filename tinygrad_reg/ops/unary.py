"""Elementwise functions of one tensor.

Kink policy (derivatives where the function has a corner): relu'(0) = 0, abs'(0) = 0, and
clip passes the gradient where lo <= x <= hi, boundaries included (as PyTorch's clamp).
sign, floor, ceil and round are piecewise constant: their gradient is 0 everywhere, jumps
included (as PyTorch).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function
from .helpers import (
    cos,
    cosh,
    erf_of_array,
    exp,
    masked,
    sign,
    sin,
    sinh,
    stable_sigmoid,
    value,
    zeros_like,
)


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
        return (masked(g, value(out) > 0),)  # out > 0 exactly where x > 0


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
        return (masked(g, value(x) == np.clip(value(x), self.lo, self.hi)),)


class Log1p(Function):
    """ln(1 + x), accurate for tiny x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log1p(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d ln(1+x)/dx = g/(1+x)"""
        return (g / (1 + x),)


class Expm1(Function):
    """e^x − 1, accurate for tiny x"""

    save_inputs = False
    save_out = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.expm1(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(e^x − 1)/dx = g*e^x = g*(out + 1)"""
        return (g * (out + 1),)


class Log2(Function):
    """log₂ x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log2(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d log₂(x)/dx = g/(x ln 2)"""
        return (g / (x * math.log(2)),)


class Log10(Function):
    """log₁₀ x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.log10(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d log₁₀(x)/dx = g/(x ln 10)"""
        return (g / (x * math.log(10)),)


class Sin(Function):
    """sin x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sin(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d sin(x)/dx = g*cos x"""
        return (g * cos(x),)


class Cos(Function):
    """cos x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cos(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d cos(x)/dx = -g*sin x"""
        return (-g * sin(x),)


class Tan(Function):
    """tan x"""

    save_inputs = False
    save_out = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.tan(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d tan(x)/dx = g*(1 + tan²x) = g*(1 + out²)"""
        return (g * (1 + out * out),)


class Sinh(Function):
    """sinh x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sinh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d sinh(x)/dx = g*cosh x"""
        return (g * cosh(x),)


class Cosh(Function):
    """cosh x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.cosh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d cosh(x)/dx = g*sinh x"""
        return (g * sinh(x),)


class Square(Function):
    """x²"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.square(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(x²)/dx = 2*g*x"""
        return (2 * g * x,)


class Erf(Function):
    """erf x = 2/√π ∫₀ˣ e^(−t²) dt (within 2 ulp of math.erf; see helpers.erf_of_array)"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return erf_of_array(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d erf(x)/dx = g*2/√π*e^(−x²)"""
        return (g * (2 / math.sqrt(math.pi)) * exp(-(x * x)),)


class PiecewiseConstant(Function):
    """Shared by sign, floor and ceil: flat between jumps, so the gradient is 0 (as PyTorch)."""

    save_inputs = False
    save_out = False

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d sign(x)/dx = d floor(x)/dx = d ceil(x)/dx = 0, jumps included"""
        return (zeros_like(g),)


class Sign(PiecewiseConstant):
    """-1, 0 or 1 by the sign of x"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)


class Floor(PiecewiseConstant):
    """the largest integer <= x"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(PiecewiseConstant):
    """the smallest integer >= x"""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Round(PiecewiseConstant):
    """x rounded to ``decimals`` places, halves to even (as numpy and PyTorch)"""

    __slots__ = ("decimals",)

    def __init__(self, decimals: int = 0):
        self.decimals = decimals

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.round(x, self.decimals)


# --- inverse trigonometric and hyperbolic functions, rsqrt ------------------------------------
# Kink policy: none of these has a corner inside its domain; at the ends of it (asin and acos
# at ±1, acosh at 1, atanh at ±1) the derivative is infinite, and so is the gradient.


class Asin(Function):
    """arcsin x, for -1 <= x <= 1"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arcsin(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d asin(x)/dx = g/√(1 − x²)"""
        return (g * (1 - x * x) ** -0.5,)


class Acos(Function):
    """arccos x, for -1 <= x <= 1"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arccos(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d acos(x)/dx = -g/√(1 − x²)"""
        return (-g * (1 - x * x) ** -0.5,)


class Atan(Function):
    """arctan x"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arctan(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d atan(x)/dx = g/(1 + x²)"""
        return (g / (1 + x * x),)


class Asinh(Function):
    """arsinh x = ln(x + √(x² + 1))"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arcsinh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d asinh(x)/dx = g/√(x² + 1)"""
        return (g * (x * x + 1) ** -0.5,)


class Acosh(Function):
    """arcosh x = ln(x + √(x² − 1)), for x >= 1"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arccosh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d acosh(x)/dx = g/√(x² − 1)"""
        return (g * (x * x - 1) ** -0.5,)


class Atanh(Function):
    """artanh x = ½ ln((1 + x)/(1 − x)), for -1 < x < 1"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.arctanh(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d atanh(x)/dx = g/(1 − x²)"""
        return (g / (1 - x * x),)


class Rsqrt(Function):
    """1/√x"""

    save_inputs, save_out = True, True

    def forward(self, x: np.ndarray) -> np.ndarray:
        return 1 / np.sqrt(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d x^(-1/2)/dx = -g/(2x√x) = -g·out/(2x)"""
        return (-g * out / (2 * x),)

"""Activation functions beyond relu, sigmoid and tanh: leaky_relu, softplus, elu, gelu, silu,
log_sigmoid.

Kink policy, as PyTorch: leaky_relu'(0) = negative_slope and elu'(0) = alpha (the x <= 0 side);
for elu with alpha = 1 both sides agree, so it has no kink at all.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..engine import Function
from .helpers import erf, erf_of_array, exp, sigmoid, stable_sigmoid, tanh, value, where

SQRT_2 = math.sqrt(2.0)
SQRT_2_PI = math.sqrt(2.0 * math.pi)
#: The constants of the tanh approximation 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
CUBIC = 0.044715


class LeakyRelu(Function):
    """x for x > 0, negative_slope·x otherwise"""

    save_inputs = True
    save_out = False

    def __init__(self, negative_slope: float = 0.01):
        self.negative_slope = float(negative_slope)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.where(x > 0, x, x * self.negative_slope)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d leaky_relu/dx = g where x > 0, else g·negative_slope (so at 0 too)"""
        slope = np.where(value(x) > 0, 1.0, self.negative_slope).astype(value(x).dtype)
        return (g * slope,)


class Softplus(Function):
    """ln(1 + e^x), computed as numpy's logaddexp(0, x): no overflow for any x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):  # e^x below the smallest float is 0, its limit
            return np.logaddexp(0, x).astype(x.dtype, copy=False)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d softplus/dx = g·σ(x)"""
        return (g * sigmoid(x),)


class Elu(Function):
    """x for x > 0, alpha·(e^x − 1) otherwise"""

    save_inputs = True
    save_out = True

    def __init__(self, alpha: float = 1.0):
        self.alpha = float(alpha)

    def forward(self, x: np.ndarray) -> np.ndarray:
        # expm1 of the negative part only: e^x of a large positive x would overflow, unused.
        return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d elu/dx = g where x > 0, else g·alpha·e^x"""
        # e^x of the negative part only (0 elsewhere, a constant): e^x of x = +inf would be inf,
        # and inf·0 NaN in the slope of the branch not taken; and alpha·e^x, not out + alpha,
        # which rounds to 0 for x < -37. At x = 0 the slope is alpha, its own slope 0 (PyTorch).
        negative = where(value(x) < 0, x, 0.0)
        return (g * where(value(x) > 0, 1.0, self.alpha * exp(negative)),)


class Gelu(Function):
    """x·Φ(x), Φ the standard normal CDF ½(1 + erf(x/√2)); or, with approximate="tanh",
    ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (both as PyTorch)"""

    save_inputs = True
    save_out = False

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f'Gelu: approximate={approximate!r}; expected "none" or "tanh".')
        self.approximate = approximate

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x)))
        return 0.5 * x * (1 + erf_of_array(x / SQRT_2))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d gelu/dx = g·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π);
        tanh form: g·(½(1 + t) + ½·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)), t = tanh(...)"""
        if self.approximate == "tanh":
            t = tanh(SQRT_2_OVER_PI * (x + CUBIC * x * x * x))
            slope = SQRT_2_OVER_PI * (1 + 3 * CUBIC * x * x)
            return (g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * slope),)
        cdf = 0.5 * (1 + erf(x / SQRT_2))
        return (g * (cdf + x * exp(-0.5 * x * x) / SQRT_2_PI),)


class Silu(Function):
    """x·σ(x) (also called swish)"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * stable_sigmoid(x)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d silu/dx = g·σ(x)·(1 + x·(1 − σ(x)))"""
        s = sigmoid(x)
        return (g * s * (1 + x * (1 - s)),)


class LogSigmoid(Function):
    """ln σ(x) = −softplus(−x), finite for any finite x"""

    save_inputs = True
    save_out = False

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):  # e^-x below the smallest float is 0, its limit
            return -np.logaddexp(0, -x).astype(x.dtype, copy=False)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d ln σ(x)/dx = g·(1 − σ(x)) = g·σ(−x)"""
        return (g * sigmoid(-x),)

"""Elementwise arithmetic: + - * / ** and negation; atan2 and logaddexp; // and % built from them.

Inputs may have different shapes that broadcast together; each rule returns gradients of the
broadcast shape and the engine's ``unbroadcast`` sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import exp, log, value, where


class Add(Function):
    """a + b"""

    save_inputs, save_out = False, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a + b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a+b)/da = g,  d(a+b)/db = g"""
        return g, g


class Sub(Function):
    """a - b"""

    save_inputs, save_out = False, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a - b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a-b)/da = g,  d(a-b)/db = -g"""
        return g, (-g if self.needs_input_grad[1] else None)


class Neg(Function):
    """-a"""

    save_inputs, save_out = False, False

    def forward(self, a: np.ndarray) -> np.ndarray:
        return -a

    def backward(self, g: Any, out: Any, a: Any) -> tuple[Any, ...]:
        """d(-a)/da = -g"""
        return (-g,)


class Mul(Function):
    """a * b"""

    save_inputs, save_out = True, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a * b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a*b)/da = g*b,  d(a*b)/db = g*a"""
        need_a, need_b = self.needs_input_grad
        return (g * b if need_a else None), (g * a if need_b else None)


class Div(Function):
    """a / b"""

    save_inputs, save_out = True, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a / b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a/b)/da = g/b,  d(a/b)/db = -g*a/b² = -(g/b)*a/b"""
        g_over_b = g / b
        return g_over_b, (-g_over_b * a / b if self.needs_input_grad[1] else None)


class Pow(Function):
    """a ** b"""

    save_inputs, save_out = True, True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a**b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a**b)/da = g*b*a**(b-1),  d(a**b)/db = g*out*log(a)  (a > 0; 0 where constant)"""
        need_a, need_b = self.needs_input_grad
        a_value, b_value = value(a), value(b)
        grad_a = grad_b = None
        if need_a:
            # x**0 = 1 for every x, so its slope is 0, also at x = 0, where b*a**(b-1) would be
            # 0*inf = NaN. The base is replaced by 1 there (only where a = 0, so that the
            # derivative of this rule in b, 1/a, stays right elsewhere).
            base = where((b_value == 0) & (a_value == 0), 1.0, a)
            grad_a = g * b * base ** (b - 1)
        if need_b:
            # 0**y = 0 for every y > 0, so its slope in y is 0, where out*log(a) would be
            # 0*(-inf) = NaN. As PyTorch: 0 wherever a = 0 and b >= 0.
            base = where((a_value == 0) & (b_value >= 0), 1.0, a)
            grad_b = g * out * log(base)
        return grad_a, grad_b


class Atan2(Function):
    """the angle of the point (b, a): atan2(a, b) = atan(a/b), in the right quadrant"""

    save_inputs, save_out = True, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.arctan2(a, b)

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d atan2(a,b)/da = g·b/(a² + b²),  d atan2(a,b)/db = -g·a/(a² + b²)"""
        g_over_r2 = g / (a * a + b * b)
        return g_over_r2 * b, -g_over_r2 * a


class LogAddExp(Function):
    """ln(e^a + e^b), computed by numpy without overflow"""

    save_inputs, save_out = True, True

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        with np.errstate(under="ignore"):  # e^(small - large) below the smallest float is 0
            return np.logaddexp(a, b)

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d/da = g·e^(a − out),  d/db = g·e^(b − out)  (each <= g: a, b <= out)"""
        return g * exp(a - out), g * exp(b - out)


def floor_divide(a: Tensor, b: Tensor) -> Tensor:
    """⌊a / b⌋, as ``a // b`` in numpy and PyTorch; its gradient is 0 (piecewise constant)."""
    return (a / b).floor()


def remainder(a: Tensor, b: Tensor) -> Tensor:
    """a − ⌊a/b⌋·b, with the sign of b, as ``a % b`` in numpy and PyTorch. Built from the ops,
    so d/da = 1 and d/db = −⌊a/b⌋ (as PyTorch), jumps aside."""
    return a - floor_divide(a, b) * b


def lerp(start: Any, end: Any, weight: Any) -> Tensor:
    """start + weight·(end − start), as ``torch.lerp``; ``weight`` a number or a tensor. Built
    from the ops: d/dstart = g·(1 − weight), d/dend = g·weight, d/dweight = g·(end − start)."""
    start = start if isinstance(start, Tensor) else Tensor(start)
    return start + start._operand(weight) * (start._operand(end) - start)

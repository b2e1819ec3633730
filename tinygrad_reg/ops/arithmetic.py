"""Elementwise arithmetic: + - * / ** and negation.

Inputs may have different shapes that broadcast together; each rule returns gradients of the
broadcast shape and the engine's ``unbroadcast`` sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from .helpers import log, value, where


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

"""Elementwise arithmetic: + - * / ** and negation.

Inputs may have different shapes that broadcast together; each rule returns gradients of the
broadcast shape and the engine's ``unbroadcast`` sums them back to each input's shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from .helpers import log


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
        """d(a**b)/da = g*b*a**(b-1),  d(a**b)/db = g*out*log(a)  (only for a > 0)"""
        need_a, need_b = self.needs_input_grad
        return (g * b * a ** (b - 1) if need_a else None), (g * out * log(a) if need_b else None)

"""softmax and log_softmax along one axis, each one graph node.

Both subtract the maximum along the axis first: e^(x - max) never overflows, and the result is
the same because the factor e^-max cancels. Entries of -inf are masked out: softmax gives them
exactly 0 and log_softmax -inf, with no NaN, as long as one entry along the axis is finite
(a slice that is all -inf has no softmax: NaN, as in PyTorch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from .helpers import exp, is_axis


class SoftmaxBase(Function):
    """Shared by softmax and log_softmax: the axis, and x shifted by its maximum."""

    expects = "an axis in [-ndim, ndim)"

    def __init__(self, axis: int = -1):
        if not is_axis(axis):
            raise TypeError(f"{self.name}: axis={axis!r}; expected an int.")
        self.axis = int(axis)

    def shifted(self, x: np.ndarray) -> np.ndarray:
        """x - max(x) along the axis; ``initial`` lets an empty axis through (nothing to do)."""
        return x - x.max(axis=self.axis, keepdims=True, initial=-np.inf)


class Softmax(SoftmaxBase):
    """e^x / Σ e^x along axis"""

    save_inputs = False
    save_out = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        e = np.exp(self.shifted(x))
        return e / e.sum(axis=self.axis, keepdims=True)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d softmax/dx = out·(g − Σ g·out), the sum along axis (masked entries: out = 0, so 0)"""
        return (out * (g - (g * out).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(SoftmaxBase):
    """x − log Σ e^x along axis"""

    save_inputs = False
    save_out = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        shifted = self.shifted(x)
        # The sum is >= 1 (its largest term is e^0) unless the axis is empty: log(0) of a sum
        # that no output element uses then.
        with np.errstate(divide="ignore"):
            return shifted - np.log(np.exp(shifted).sum(axis=self.axis, keepdims=True))

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d log_softmax/dx = g − softmax·Σg = g − e^out·Σg, the sum along axis"""
        return (g - exp(out) * g.sum(axis=self.axis, keepdims=True),)

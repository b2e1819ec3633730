"""Functions that take a numpy array or a Tensor and do the same thing to either.

Gradient rules are written with operators (which numpy arrays and Tensors share) and these
helpers, so one rule computes plain numpy gradients in an ordinary backward pass and records
a differentiable graph when Tensors are passed in (``grad(..., create_graph=True)``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..tensor import Tensor


def value(x: Any) -> np.ndarray:
    """The numpy value of ``x``. Masks (where x > 0, where x is the max) are built from values:
    they are piecewise constant, so they carry no gradient of their own."""
    return x.data if isinstance(x, Tensor) else x


def constant(array: np.ndarray, like: Any) -> Any:
    """``array`` as a Tensor that needs no gradient if ``like`` is a Tensor, else unchanged."""
    return Tensor(array) if isinstance(like, Tensor) else array  # Tensor: a read-only copy


def stable_sigmoid(z: np.ndarray) -> np.ndarray:
    """1/(1+e^-z), finite and warning-free for every z.

    The plain formula is accurate everywhere; its only flaw is that e^-z overflows for
    z < -709 (float64; -88.7 in float32), and then 1/(1+inf) = 0 is the limit: the exact
    value is below the smallest normal number (2.3e-308; 1.2e-38 in float32). So the
    overflow is allowed silently rather than avoided, and the result is the course's sigmoid,
    bit for bit, which lets the autodiff run and the hand-written one do identical arithmetic.
    """
    with np.errstate(over="ignore", under="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


def sigmoid(x: Any) -> Any:
    return x.sigmoid() if isinstance(x, Tensor) else stable_sigmoid(x)


def log(x: Any) -> Any:
    return x.log() if isinstance(x, Tensor) else np.log(x)


def sign(x: Any) -> Any:
    """-1, 0 or 1; its derivative is 0 wherever it exists, so it is a constant."""
    return constant(np.sign(value(x)), like=x)


def is_axis(a: Any) -> bool:
    """An int or numpy integer (not a bool, which numpy refuses as an axis)."""
    return isinstance(a, (int, np.integer)) and not isinstance(a, bool)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    return x.broadcast_to(shape) if isinstance(x, Tensor) else np.broadcast_to(x, shape)


def exp(x: Any) -> Any:
    return x.exp() if isinstance(x, Tensor) else np.exp(x)


def sin(x: Any) -> Any:
    return x.sin() if isinstance(x, Tensor) else np.sin(x)


def cos(x: Any) -> Any:
    return x.cos() if isinstance(x, Tensor) else np.cos(x)


def sinh(x: Any) -> Any:
    return x.sinh() if isinstance(x, Tensor) else np.sinh(x)


def cosh(x: Any) -> Any:
    return x.cosh() if isinstance(x, Tensor) else np.cosh(x)


def tanh(x: Any) -> Any:
    return x.tanh() if isinstance(x, Tensor) else np.tanh(x)


def erf(x: Any) -> Any:
    return x.erf() if isinstance(x, Tensor) else erf_of_array(x)


def erf_of_array(x: np.ndarray) -> np.ndarray:
    """The error function, element by element, in x's dtype.

    numpy has no erf, so each element goes through Python's ``math.erf`` (libm's, within an
    ulp or so of the exact value). That is hundreds of times slower than ``np.exp``
    (``python benchmarks/erf_speed.py``); a vectorized Chebyshev interpolation of erf, tried
    while writing this, was both slower and less accurate.
    """
    values = map(math.erf, x.ravel().tolist())
    return np.fromiter(values, np.float64, count=x.size).reshape(x.shape).astype(x.dtype)


def zeros_like(x: Any) -> Any:
    """Zeros of x's shape and dtype: a constant, so a graph records nothing for it."""
    return constant(np.zeros_like(value(x)), like=x)


def where(condition: np.ndarray, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b``; ``condition`` is a mask built from values."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return select.where(condition, a, b)
    return np.where(condition, a, b)


# select.py's ops use ``value`` from here: imported at the end, once this module's names exist.
from . import select  # noqa: E402

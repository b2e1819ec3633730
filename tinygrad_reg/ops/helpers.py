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
    """The error function, element by element, in x's dtype (computed in float64).

    numpy has no erf. Near each point a of a table (a = 0, 1/64, ..., 6) erf is its Taylor
    series, because the derivatives of erf are known: erf'(x) = 2/√π·e^(−x²), and the n-th
    derivative of e^(−x²) is (−1)^n·H_n(x)·e^(−x²), H_n the Hermite polynomials. So

        erf(a + t) = erf(a) + Σ_n 2/√π·e^(−a²)·(−1)^n·H_n(a)·t^(n+1)/(n+1)!,  |t| <= 1/128,

    whose 9th term is below 10⁻³ of an ulp anywhere, so 8 terms are kept. erf(a) comes from
    Python's ``math.erf`` (libm's, within half an ulp), once per table point. The result is
    within 2 ulp of ``math.erf`` (tests/ops/test_unary.py) and faster than calling it on
    every element (``python benchmarks/erf_speed.py``). Past 6, erf is ±1 to the last bit
    (1 − erf(6) ≈ 2e-17, below half an ulp of 1); erf is odd, so |x| is used and the sign
    put back.
    """
    x64 = x.astype(np.float64, copy=False) if isinstance(x, np.ndarray) else np.float64(x)
    y = np.fmin(np.abs(x64), ERF_TABLE_END)  # fmin: NaN becomes 6 here, and is put back below
    nearest = (y * (1 / ERF_TABLE_STEP) + 0.5).astype(np.intp)
    t = y - lookup(ERF_CENTERS, nearest)
    total = lookup(ERF_TAYLOR[-1], nearest)  # Horner's rule, highest power of t first
    for coefficients in ERF_TAYLOR[-2::-1]:
        total *= t
        total += lookup(coefficients, nearest)
    total *= t
    total += lookup(ERF_AT_CENTERS, nearest)
    out = np.where(np.isnan(x64), x64, np.copysign(total, x64))
    return out.astype(x.dtype, copy=False)


def lookup(table: np.ndarray, index: Any) -> np.ndarray:
    """``table[index]`` for a 1-D table, written with ``np.take_along_axis``: numpy hands that
    function to the index array's ``__array_function__`` (``table[index]`` and ``np.take`` do
    not), so ``compile`` records the lookup and a replay looks up its new indices (jit/tape.py)."""
    values = np.take_along_axis(table, np.reshape(index, -1), axis=0)
    return np.reshape(values, np.shape(index))


def _erf_taylor_coefficients(a: np.ndarray, terms: int) -> np.ndarray:
    """Row n: the coefficient of t^(n+1) in erf(a + t) − erf(a), for every a (see above)."""
    scale = 2 / math.sqrt(math.pi) * np.exp(-a * a)
    hermite_before, hermite = np.zeros_like(a), np.ones_like(a)  # H_(n−1), H_n at n = 0
    rows = []
    for n in range(terms):
        rows.append(scale * (-1) ** n * hermite / math.factorial(n + 1))
        hermite_before, hermite = hermite, 2 * a * hermite - 2 * n * hermite_before
    return np.array(rows)


ERF_TABLE_STEP = 1 / 64
ERF_TABLE_END = 6.0
ERF_CENTERS = np.arange(0, ERF_TABLE_END + ERF_TABLE_STEP / 2, ERF_TABLE_STEP)
ERF_AT_CENTERS = np.array([math.erf(a) for a in ERF_CENTERS])
ERF_TAYLOR = _erf_taylor_coefficients(ERF_CENTERS, terms=8)


def zeros_like(x: Any) -> Any:
    """Zeros of x's shape and dtype: a constant, so a graph records nothing for it."""
    return constant(np.zeros_like(value(x)), like=x)


def masked(g: Any, keep: np.ndarray) -> Any:
    """``g`` where ``keep`` holds, else exactly 0 (as PyTorch's rules give): ``g * keep`` would
    make an infinite or NaN ``g`` times 0 a NaN in the branch not taken. (No branch on the
    values: a compiled step replays the same calls for any gradient.)"""
    if isinstance(g, Tensor):
        return select.where(keep, g, 0.0)
    return np.where(keep, g, np.zeros((), np.result_type(g)))  # a 0-d zero: numpy's fast path


def where(condition: np.ndarray, a: Any, b: Any) -> Any:
    """``a`` where ``condition`` holds, else ``b``; ``condition`` is a mask built from values."""
    if isinstance(a, Tensor) or isinstance(b, Tensor):
        return select.where(condition, a, b)
    return np.where(condition, a, b)


# select.py's ops use ``value`` from here: imported at the end, once this module's names exist.
from . import select  # noqa: E402

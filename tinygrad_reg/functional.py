"""The ops of ``tinygrad_reg/ops`` as functions, as ``torch.softmax`` or ``np.log1p``.

Each takes a Tensor, or anything ``Tensor()`` accepts (numbers, lists, numpy arrays), which
becomes a constant, and returns a Tensor (argmax and argmin: a numpy integer array). The same
ops are Tensor methods where numpy or PyTorch has one (``x.softmax(axis=0)``, ``x.log1p()``);
the activations are functions only, as in PyTorch. The forward and gradient rules live in
``ops/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .ops import activations
from .ops import softmax as softmax_ops
from .ops.shape import as_tensor
from .tensor import Tensor

Axis = int | Sequence[int] | None


# --- elementwise (ops/unary.py) ---------------------------------------------------------------


def log1p(x: Any) -> Tensor:
    """ln(1 + x), accurate for tiny x."""
    return as_tensor(x).log1p()


def expm1(x: Any) -> Tensor:
    """e^x − 1, accurate for tiny x."""
    return as_tensor(x).expm1()


def log2(x: Any) -> Tensor:
    """log₂ x, elementwise."""
    return as_tensor(x).log2()


def log10(x: Any) -> Tensor:
    """log₁₀ x, elementwise."""
    return as_tensor(x).log10()


def sin(x: Any) -> Tensor:
    """sin x, elementwise."""
    return as_tensor(x).sin()


def cos(x: Any) -> Tensor:
    """cos x, elementwise."""
    return as_tensor(x).cos()


def tan(x: Any) -> Tensor:
    """tan x, elementwise."""
    return as_tensor(x).tan()


def sinh(x: Any) -> Tensor:
    """sinh x, elementwise."""
    return as_tensor(x).sinh()


def cosh(x: Any) -> Tensor:
    """cosh x, elementwise."""
    return as_tensor(x).cosh()


def square(x: Any) -> Tensor:
    """x², elementwise."""
    return as_tensor(x).square()


def erf(x: Any) -> Tensor:
    """The error function, elementwise (within 2 ulp of Python's ``math.erf``)."""
    return as_tensor(x).erf()


def sign(x: Any) -> Tensor:
    """-1, 0 or 1; gradient 0."""
    return as_tensor(x).sign()


def floor(x: Any) -> Tensor:
    """Gradient 0."""
    return as_tensor(x).floor()


def ceil(x: Any) -> Tensor:
    """Gradient 0."""
    return as_tensor(x).ceil()


def asin(x: Any) -> Tensor:
    """arcsin x, for -1 <= x <= 1."""
    return as_tensor(x).asin()


def acos(x: Any) -> Tensor:
    """arccos x, for -1 <= x <= 1."""
    return as_tensor(x).acos()


def atan(x: Any) -> Tensor:
    """arctan x."""
    return as_tensor(x).atan()


def rsqrt(x: Any) -> Tensor:
    """1/√x, as ``torch.rsqrt``."""
    return as_tensor(x).rsqrt()


def round(x: Any, decimals: int = 0) -> Tensor:
    """x rounded to ``decimals`` places, halves to even; its gradient is 0."""
    return as_tensor(x).round(decimals)


def atan2(a: Any, b: Any) -> Tensor:
    """The angle of the point (b, a), as ``torch.atan2`` and ``np.arctan2``."""
    return as_tensor(a).atan2(b)


def logaddexp(a: Any, b: Any) -> Tensor:
    """ln(e^a + e^b) without overflow, as ``torch.logaddexp``."""
    return as_tensor(a).logaddexp(b)


# --- activations (ops/activations.py) ---------------------------------------------------------


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, negative_slope·x otherwise; the derivative at 0 is negative_slope."""
    return activations.LeakyRelu(negative_slope)(as_tensor(x))


def softplus(x: Any) -> Tensor:
    """ln(1 + e^x), without overflow for any x."""
    return activations.Softplus()(as_tensor(x))


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha·(e^x − 1) otherwise; the derivative at 0 is alpha."""
    return activations.Elu(alpha)(as_tensor(x))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x) with the exact normal CDF (erf), or PyTorch's tanh form for approximate="tanh"."""
    return activations.Gelu(approximate)(as_tensor(x))


def silu(x: Any) -> Tensor:
    """x·σ(x)."""
    return activations.Silu()(as_tensor(x))


def log_sigmoid(x: Any) -> Tensor:
    """ln σ(x) = −softplus(−x), finite for any finite x."""
    return activations.LogSigmoid()(as_tensor(x))


# --- reductions (ops/reduce.py) ---------------------------------------------------------------


def prod(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """Π x over axis; exact gradients with zeros in x."""
    return as_tensor(x).prod(axis, keepdims)


def var(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Σ(x − mean)²/(n − ddof) over axis, as ``np.var``."""
    return as_tensor(x).var(axis, ddof, keepdims)


def std(x: Any, axis: Axis = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """√var, as ``np.std``; the gradient is 0 where all reduced elements are equal."""
    return as_tensor(x).std(axis, ddof, keepdims)


def logsumexp(x: Any, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """log Σ e^x over axis, without overflow."""
    return as_tensor(x).logsumexp(axis, keepdims)


def norm(x: Any, ord: int | str = 2, axis: Axis = None, keepdims: bool = False) -> Tensor:
    """The vector norm over axis (all elements for None): ord 2 or "fro" √Σx², ord 1 Σ|x|.
    The gradient of the 2-norm at the zero vector is 0."""
    return as_tensor(x).norm(ord, axis, keepdims)


def cumsum(x: Any, axis: int | None = None) -> Tensor:
    """Running sum along axis, as ``np.cumsum`` (axis=None: of the flattened x)."""
    return as_tensor(x).cumsum(axis)


def argmax(x: Any, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """As ``np.argmax`` (the first index on ties); a numpy integer array, no gradient."""
    return as_tensor(x).argmax(axis, keepdims)


def argmin(x: Any, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
    """As ``np.argmin`` (the first index on ties); a numpy integer array, no gradient."""
    return as_tensor(x).argmin(axis, keepdims)


# --- softmax family (ops/softmax.py) ----------------------------------------------------------


def softmax(x: Any, axis: int = -1) -> Tensor:
    """e^x / Σ e^x along ``axis``; -inf entries get exactly 0 (see ``ops/softmax.py``)."""
    return softmax_ops.Softmax(axis)(as_tensor(x))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x − log Σ e^x along ``axis``, stable for any finite x; -inf entries stay -inf."""
    return softmax_ops.LogSoftmax(axis)(as_tensor(x))

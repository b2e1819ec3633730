"""The activation functions as modules, with PyTorch's names and arguments: ``ReLU``, ``Tanh``,
``Sigmoid``, ``LeakyReLU``, ``ELU``, ``SELU``, ``GELU``, ``SiLU``, ``Softplus``,
``LogSigmoid``, ``Softmax`` and ``LogSoftmax``.

Each one calls an op of ``ops/`` (through the Tensor method or ``functional.py``), where the
forward and the gradient rule live, with the kink policy of that op (PyTorch's); a module only
keeps the settings. ``inplace=True`` is accepted, so PyTorch code runs unchanged, and changes
nothing: a tensor's values are never modified, so the result is always a new tensor (equal to
PyTorch's). ``Softmax`` and ``LogSoftmax`` ask for ``dim``: the classes are on axis 0 in the
course layout (logits (C, m)), on axis 1 in PyTorch's (m, C).
"""

from __future__ import annotations

from typing import Any

from .. import functional as F
from ..ops.select import where
from ..tensor import Tensor
from .module import Module, _as_tensor, _is_integer


class ReLU(Module):
    """max(x, 0), with relu'(0) = 0."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).relu()


class Tanh(Module):
    """tanh(x)."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).tanh()


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^-x)."""

    def forward(self, x: Any) -> Tensor:
        return _as_tensor(x).sigmoid()


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise (the derivative at 0 is negative_slope)."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        self.negative_slope, self.inplace = float(negative_slope), inplace

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope:g}"

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)


class ELU(Module):
    """x for x > 0, alpha·(e^x − 1) otherwise."""

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        self.alpha, self.inplace = float(alpha), inplace

    def extra_repr(self) -> str:
        return f"alpha={self.alpha:g}"

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)


#: SELU's constants (Klambauer et al. 2017), to the digits PyTorch uses.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class SELU(Module):
    """scale·elu(x, alpha) with PyTorch's constants: scale·x for x > 0, scale·alpha·(e^x − 1)
    otherwise."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, SELU_ALPHA) * SELU_SCALE


class GELU(Module):
    """x·Φ(x) with the exact normal CDF; ``approximate="tanh"``: PyTorch's tanh form."""

    def __init__(self, approximate: str = "none"):
        if approximate not in ("none", "tanh"):
            raise ValueError(f'GELU: approximate={approximate!r}; expected "none" or "tanh".')
        self.approximate = approximate

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)


class SiLU(Module):
    """x·σ(x) (also called swish)."""

    def __init__(self, inplace: bool = False):
        self.inplace = inplace

    def forward(self, x: Any) -> Tensor:
        return F.silu(x)


class Softplus(Module):
    """ln(1 + e^(beta·x)) / beta, and x itself where beta·x > threshold, as PyTorch's (beyond
    the threshold the two differ by less than e^-threshold / beta)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        if not beta > 0:
            raise ValueError(f"Softplus: beta={beta!r}; expected a number > 0.")
        self.beta, self.threshold = float(beta), float(threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta:g}, threshold={self.threshold:g}"

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        scaled = x if self.beta == 1 else x * self.beta
        smooth = F.softplus(scaled) if self.beta == 1 else F.softplus(scaled) / self.beta
        return where(scaled.data > self.threshold, x, smooth)


class LogSigmoid(Module):
    """ln σ(x), finite for any finite x."""

    def forward(self, x: Any) -> Tensor:
        return F.log_sigmoid(x)


def _softmax_dim(dim: Any, where: str) -> int:
    if dim is None:
        raise TypeError(
            f"{where}: no dim given; expected the axis of the classes: dim=0 for logits in the "
            "course layout (C, m), one column per example (dim=1 for PyTorch's (m, C))."
        )
    if not _is_integer(dim):
        raise TypeError(f"{where}: dim={dim!r}; expected an int.")
    return int(dim)


class Softmax(Module):
    """e^x / Σ e^x along ``dim``: each slice along it sums to 1."""

    def __init__(self, dim: int | None = None):
        self.dim = _softmax_dim(dim, "Softmax")

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, self.dim)


class LogSoftmax(Module):
    """x − log Σ e^x along ``dim``, stable for any finite x."""

    def __init__(self, dim: int | None = None):
        self.dim = _softmax_dim(dim, "LogSoftmax")

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, self.dim)

"""More of Tensor's methods: the ops a PyTorch user reaches for, each a one-liner that calls an op.

Tensor inherits them from ``MoreTensorMethods`` so that tensor.py stays one readable class.
This module is imported by tensor.py before Tensor exists, so it cannot import the ops yet; it
holds the ``ops`` package, tensor.py imports the op modules at its end (``ops.index``,
``ops.sort``, ...), and each method looks its module up when it runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import ops

if TYPE_CHECKING:
    import numpy as np

    from ..tensor import Tensor
    from .sort import ValuesIndices


class MoreTensorMethods:
    __slots__ = ()

    # --- elementwise (ops/unary.py, ops/arithmetic.py, ops/select.py) ---------------------

    def asin(self: Tensor) -> Tensor:
        return ops.unary.Asin()(self)

    def acos(self: Tensor) -> Tensor:
        return ops.unary.Acos()(self)

    def atan(self: Tensor) -> Tensor:
        return ops.unary.Atan()(self)

    def asinh(self: Tensor) -> Tensor:
        return ops.unary.Asinh()(self)

    def acosh(self: Tensor) -> Tensor:
        return ops.unary.Acosh()(self)

    def atanh(self: Tensor) -> Tensor:
        return ops.unary.Atanh()(self)

    def rsqrt(self: Tensor) -> Tensor:
        return ops.unary.Rsqrt()(self)

    def round(self: Tensor, decimals: int = 0) -> Tensor:
        return ops.unary.Round(decimals)(self)

    def __round__(self: Tensor, ndigits: int | None = None) -> Tensor:
        return self.round(0 if ndigits is None else ndigits)

    def atan2(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.Atan2()(self, self._operand(other))

    def logaddexp(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.LogAddExp()(self, self._operand(other))

    def lerp(self: Tensor, end: Any, weight: Any) -> Tensor:
        return ops.arithmetic.lerp(self, end, weight)

    def clamp(self: Tensor, min: Any = None, max: Any = None) -> Tensor:
        return ops.select.clamp(self, min, max)

    def maximum(self: Tensor, other: Any) -> Tensor:
        return ops.select.maximum(self, other)

    def minimum(self: Tensor, other: Any) -> Tensor:
        return ops.select.minimum(self, other)

    # a // b has gradient 0; a % b = a − ⌊a/b⌋·b has d/da = 1, d/db = −⌊a/b⌋ (as PyTorch)
    def __floordiv__(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.floor_divide(self, self._operand(other))

    def __rfloordiv__(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.floor_divide(self._operand(other), self)

    def __mod__(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.remainder(self, self._operand(other))

    def __rmod__(self: Tensor, other: Any) -> Tensor:
        return ops.arithmetic.remainder(self._operand(other), self)

    def __divmod__(self: Tensor, other: Any) -> tuple[Tensor, Tensor]:
        return self // other, self % other

    def __rdivmod__(self: Tensor, other: Any) -> tuple[Tensor, Tensor]:
        return self.__rfloordiv__(other), self.__rmod__(other)

    # --- by index (ops/index.py) -----------------------------------------------------------

    def gather(self: Tensor, axis: int, index: Any) -> Tensor:
        return ops.index.gather(self, axis, index)

    def scatter(self: Tensor, axis: int, index: Any, src: Any) -> Tensor:
        return ops.index.scatter(self, axis, index, src)

    def scatter_add(self: Tensor, axis: int, index: Any, src: Any) -> Tensor:
        return ops.index.scatter_add(self, axis, index, src)

    def index_select(self: Tensor, axis: int, index: Any) -> Tensor:
        return ops.index.index_select(self, axis, index)

    def index_add(self: Tensor, axis: int, index: Any, source: Any, alpha: float = 1.0) -> Tensor:
        return ops.index.index_add(self, axis, index, source, alpha)

    def masked_fill(self: Tensor, mask: Any, value: Any) -> Tensor:
        return ops.index.masked_fill(self, mask, value)

    # --- ordering and running reductions (ops/sort.py, ops/cumulative.py) -----------------

    def sort(self: Tensor, axis: int = -1, descending: bool = False) -> ValuesIndices:
        return ops.sort.sort(self, axis, descending)

    def argsort(self: Tensor, axis: int = -1, descending: bool = False) -> np.ndarray:
        return ops.sort.argsort(self, axis, descending)

    def topk(self: Tensor, k: int, axis: int = -1, largest: bool = True) -> ValuesIndices:
        return ops.sort.topk(self, k, axis, largest)

    def median(self: Tensor, axis: int | None = None, keepdims: bool = False) -> Any:
        return ops.sort.median(self, axis, keepdims)

    def quantile(
        self: Tensor,
        q: Any,
        axis: int | None = None,
        keepdims: bool = False,
        interpolation: str = "linear",
    ) -> Tensor:
        return ops.sort.quantile(self, q, axis, keepdims, interpolation)

    def cumprod(self: Tensor, axis: int | None = None) -> Tensor:
        return ops.cumulative.cumprod(self, axis)

    def cummax(self: Tensor, axis: int) -> ValuesIndices:
        return ops.cumulative.cummax(self, axis)

    def cummin(self: Tensor, axis: int) -> ValuesIndices:
        return ops.cumulative.cummin(self, axis)

    def logcumsumexp(self: Tensor, axis: int) -> Tensor:
        return ops.cumulative.logcumsumexp(self, axis)

    # --- shape (ops/shape.py) ----------------------------------------------------------------

    def unbind(self: Tensor, axis: int = 0) -> Sequence[Tensor]:
        return ops.shape.unbind(self, axis)

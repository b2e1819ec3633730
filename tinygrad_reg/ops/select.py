"""Ops that pick, element by element, from one tensor or another: maximum, minimum, where, and
clamp with tensor bounds.

Tie policy: where a == b, maximum and minimum give each side half of the gradient. clamp, as
PyTorch's: x gets the gradient where lo <= x <= hi (boundaries included), lo where x < lo, hi
where x > hi; where lo > hi the result is hi, and hi gets the gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import masked, value


class Maximum(Function):
    """the larger of a and b, element by element"""

    save_inputs, save_out = True, False

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.maximum(a, b)

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d max(a,b)/da = g where a wins, g/2 on a tie; b gets the rest of g"""
        share_of_a = self.wins(value(a), value(b)) + 0.5 * (value(a) == value(b))
        share_of_a = share_of_a.astype(value(g).dtype)  # 0.5 made it float64; keep float32
        return masked(g * share_of_a, share_of_a != 0), masked(
            g * (1 - share_of_a), share_of_a != 1
        )

    @staticmethod
    def wins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a > b


class Minimum(Maximum):
    """the smaller of a and b, element by element (same rule, the other winner)"""

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.minimum(a, b)

    @staticmethod
    def wins(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return a < b


class Where(Function):
    """a where condition holds, else b"""

    save_inputs, save_out = False, False

    __slots__ = ("condition",)

    def __init__(self, condition: np.ndarray):
        self.condition = condition

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.where(self.condition, a, b)

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d where(c,a,b)/da = g where c,  d/db = g where not c"""
        return masked(g, self.condition), masked(g, ~self.condition)


def pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Both as Tensors; a number or int array next to a Tensor takes its dtype, as in ``t * 2``.
    (The binary functions here and in linalg.py take their operands through it.)"""
    if isinstance(a, Tensor):
        return a, a._operand(b)
    if isinstance(b, Tensor):
        return b._operand(a), b
    return Tensor(a), Tensor(b)


def maximum(a: Any, b: Any) -> Tensor:
    """Element-wise maximum, as ``np.maximum``; ties split the gradient equally."""
    return Maximum()(*pair(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Element-wise minimum, as ``np.minimum``; ties split the gradient equally."""
    return Minimum()(*pair(a, b))


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` is true, else ``b``, as ``np.where``."""
    condition = value(condition)  # copied below: the graph keeps it
    condition = condition.copy() if isinstance(condition, np.ndarray) else np.array(condition)
    if condition.dtype != bool:
        raise TypeError(
            f"where: the condition has dtype {condition.dtype}; expected booleans, "
            "e.g. where(x > 0, x, 0)."
        )
    return Where(condition)(*pair(a, b))


class Clamp(Function):
    """min(max(x, lo), hi), element by element: x limited to [lo, hi] by tensors of bounds"""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        return np.minimum(np.maximum(x, lo), hi)

    def backward(self, g: Any, out: Any, x: Any, lo: Any, hi: Any) -> tuple[Any, ...]:
        """dx = g where lo <= x <= hi;  dlo = g where x < lo < hi;  dhi = g where x > hi or
        lo > hi"""
        x, lo, hi = value(x), value(lo), value(hi)
        return (
            g * ((x >= lo) & (x <= hi)),
            g * ((x < lo) & (lo < hi)),
            g * ((x > hi) | (lo > hi)),
        )


def clamp(x: Any, min: Any = None, max: Any = None) -> Tensor:
    """x limited to [min, max], as ``torch.clamp``: each bound a number, a tensor (which gets a
    gradient where it is the result) or None (no bound). Number bounds are ``Clip``."""
    x = x if isinstance(x, Tensor) else Tensor(x)
    if not isinstance(min, (Tensor, np.ndarray, list)) and not isinstance(
        max, (Tensor, np.ndarray, list)
    ):
        return x.clip(min, max)
    lo = x._operand(-np.inf if min is None else min)
    hi = x._operand(np.inf if max is None else max)
    return Clamp()(x, lo, hi)

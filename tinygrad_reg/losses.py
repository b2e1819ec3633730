"""Binary cross-entropy: the course's formula, and the stable fused version training uses.

Both take targets Y of exactly the shape of the prediction and average over m, the number of
examples = the size of the last axis (course layout: both are (1, m)).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Function
from .ops.helpers import sigmoid
from .tensor import Tensor


def _prediction_and_targets(where: str, prediction: Any, Y: Any) -> tuple[Tensor, Tensor]:
    """Both as Tensors, after checking what would otherwise give a silently wrong cost."""
    prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
    Y = prediction._operand(Y)  # int and bool labels take the prediction's dtype
    if Y.shape != prediction.shape:
        raise ValueError(
            f"{where}: Y has shape {Y.shape} but the prediction has shape {prediction.shape}; "
            "expected the same shape (course layout: both (1, m)). A (1, m) against (m,) would "
            "broadcast to (m, m) and give a wrong cost without any error."
        )
    if prediction.ndim == 0 or prediction.shape[-1] == 0:
        raise ValueError(
            f"{where}: the prediction has shape {prediction.shape}; expected at least one "
            "example along the last axis."
        )
    y = Y.data
    if not (y.min() >= 0 and y.max() <= 1):  # also catches NaN
        raise ValueError(
            f"{where}: Y has values in [{y.min()}, {y.max()}]; expected labels (or "
            "probabilities) in [0, 1]. Labels in {-1, 1} need mapping to {0, 1}."
        )
    return prediction, Y


def binary_cross_entropy(probs: Any, Y: Any) -> Tensor:
    """The course's cost from probabilities A = σ(Z): -1/m·Σ[y·log(a) + (1-y)·log(1-a)].

    Composed of ordinary ops, so its gradient flows through log and σ. Where σ saturates
    (a rounds to exactly 0 or 1) it gives inf or NaN (0·log 0); prefer
    ``binary_cross_entropy_with_logits``, which never does.
    """
    A, Y = _prediction_and_targets("binary_cross_entropy", probs, Y)
    m = A.shape[-1]
    logprobs = -A.log() * Y - (1 - A).log() * (1 - Y)
    return logprobs.sum() / m


def sum_over_m_without_overflow(terms: np.ndarray, m: int) -> np.ndarray:
    """Σ terms / m for finite terms >= 0 whose sum overflows (each may be the largest float).

    Scaled by the largest term first: every ratio is <= 1, so their rounded sum is <= their
    count (rounding is monotonic and integers are exact), and for one row of m terms (the
    course's (1, m)) the result is <= the largest term: finite. Several rows can make the true
    value itself too large for the dtype, and then it is inf.
    """
    largest = terms.max()
    return largest * ((terms / largest).sum() / m)


class BinaryCrossEntropyWithLogits(Function):
    """Cross-entropy of σ(z) against y, from the logits z, in one node:

        loss = 1/m·Σ[max(z, 0) - z·y + log(1 + e^-|z|)]

    the course's -[y·log σ(z) + (1-y)·log(1-σ(z))] rewritten so that e^-|z| <= 1: no overflow,
    no log(0), finite and accurate for every finite z.
    """

    expects = "Z and Y of the same shape, at least one example along the last axis"

    def forward(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = z.shape[-1]
        terms = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        with np.errstate(over="ignore"):  # an overflowing sum is redone below
            total = terms.sum()
        if np.isfinite(total) or not np.isfinite(terms).all():
            return total / m
        return sum_over_m_without_overflow(terms, m)

    def backward(self, g: Any, out: Any, z: Any, y: Any) -> tuple[Any, ...]:
        """dz = g·(σ(z) - y)/m,  dy = -g·z/m"""
        need_z, need_y = self.needs_input_grad
        g_over_m = g / z.shape[-1]
        return (
            (sigmoid(z) - y) * g_over_m if need_z else None,
            -z * g_over_m if need_y else None,
        )


def binary_cross_entropy_with_logits(Z: Any, Y: Any) -> Tensor:
    """Mean binary cross-entropy of σ(Z) against Y, computed stably from the logits Z.

    loss = 1/m·Σ[max(z, 0) - z·y + log(1 + e^-|z|)],  ∂loss/∂z = (σ(z) - y)/m.

    One graph node (cheap: it runs every training step). Equal to the course's formula wherever
    that is accurate, and finite with an exact gradient where the course's gives NaN or inf
    (|z| beyond ~37, where σ(z) rounds to 0 or 1).
    """
    Z, Y = _prediction_and_targets("binary_cross_entropy_with_logits", Z, Y)
    return BinaryCrossEntropyWithLogits()(Z, Y)

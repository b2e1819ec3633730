"""Losses: binary cross-entropy (the course's formula and the stable fused version training
uses), cross-entropy over K classes, and mean squared error.

Course layout: one column per example, so m, the number of examples, is the size of the last
axis. The binary losses take targets Y of the prediction's shape (both (1, m)), or labels
(m,) against a (1, m) prediction; ``cross_entropy`` takes logits (C, m), classes on axis 0,
and labels as class indices or as one probability column per example. Every loss averages over
the m examples.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..ops.helpers import sigmoid
from ..ops.softmax import LogSoftmax
from ..tensor import Tensor


def _prediction_and_targets(where: str, prediction: Any, Y: Any) -> tuple[Tensor, Tensor]:
    """Both as Tensors, after checking what would otherwise give a silently wrong cost."""
    prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
    Y = prediction._operand(Y)  # int and bool labels take the prediction's dtype
    if Y.ndim == 1 and prediction.shape == (1, Y.shape[0]):  # labels (m,), PyTorch's layout
        Y = Y.reshape(prediction.shape)
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

    save_inputs, save_out = True, False

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


# ---------------------------------------------------------------------------------------------
# K classes
# ---------------------------------------------------------------------------------------------


def _log_softmax_of_classes(z: Any) -> Any:
    """log softmax over axis 0 (the classes) of a numpy array, or of a Tensor as one graph node."""
    return z.log_softmax(axis=0) if isinstance(z, Tensor) else LogSoftmax(axis=0).forward(z)


class CrossEntropy(Function):
    """Cross-entropy of softmax(z) against y over the classes (axis 0), in one node:

        loss = -1/m·Σ_examples Σ_classes y·log softmax(z)

    with log softmax(z) = z - max(z) - log Σ e^(z - max(z)) per column: every exponential is at
    most 1, so the loss is accurate for every finite z, and finite unless it is too large for
    the dtype (a label whose logit is ~1e308 below another's); the gradient is always finite.
    """

    expects = "logits Z (C, m) and targets Y (C, m)"
    save_inputs = True  # backward reads y (and z when the backward pass is being recorded)
    save_out = False

    def forward(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.m = z.shape[1]
        with np.errstate(over="ignore"):  # logits further apart than the largest float: -inf
            shifted = z - z.max(axis=0, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=0, keepdims=True)
        self.probs = exp / total  # softmax(z), which backward needs
        self.y_total = y.sum(axis=0, keepdims=True)  # 1 for labels and probability columns
        log_probs = shifted - np.log(total)
        # A class with target 0 adds nothing, even at log probability -inf (0·(-inf) is NaN).
        with np.errstate(invalid="ignore"):
            return -np.where(y == 0, 0, y * log_probs).sum() / self.m

    def backward(self, g: Any, out: Any, z: Any, y: Any) -> tuple[Any, ...]:
        """dz = g·(softmax(z)·Σ_c y - y)/m, i.e. g·(softmax(z) - y)/m,  dy = -g·log softmax(z)/m"""
        need_z, need_y = self.needs_input_grad
        if isinstance(z, Tensor):  # recording the backward pass: softmax(z) must be a graph
            probs = z.softmax(axis=0)
            y_total = y.sum(axis=0, keepdims=True)
        else:
            probs, y_total = self.probs, self.y_total
        return (
            (probs * y_total - y) * g / self.m if need_z else None,
            -_log_softmax_of_classes(z) * g / self.m if need_y else None,
        )


def _class_targets(where: str, logits: Tensor, labels: Any) -> Tensor:
    """The targets as a (C, m) Tensor of probability columns: class indices become one-hot
    columns; probability columns are checked and kept (with their graph, if any)."""
    C, m = logits.shape
    given = labels.data if isinstance(labels, Tensor) else np.asarray(labels)
    if given.dtype.kind not in "biuf":
        raise TypeError(
            f"{where}: labels have dtype {given.dtype}; expected class indices (integers) or "
            "probabilities (floats)."
        )
    if given.shape == (C, m):
        if not np.all((given >= 0) & (given <= 1)):  # also catches NaN
            raise ValueError(
                f"{where}: the targets (C, m) = {given.shape} have values in "
                f"[{given.min()}, {given.max()}]; expected probabilities in [0, 1] "
                "(one-hot or soft labels, one column per example)."
            )
        column_sums = given.sum(axis=0)
        tolerance = 100 * C * np.finfo(np.result_type(given.dtype, np.float32)).eps
        # which column is worst is only asked when one is off: compile guards every value read
        # into Python, and the position of the largest rounding error changes from batch to batch
        if np.any(np.abs(column_sums - 1) > tolerance):
            worst = int(np.argmax(np.abs(column_sums - 1)))
            raise ValueError(
                f"{where}: the target column of example {worst} sums to "
                f"{column_sums[worst]}; expected each column (one example, C = {C} classes on "
                "axis 0) to sum to 1. If your rows are examples, pass the transposes."
            )
        return logits._operand(labels)  # int and bool one-hot columns take the logits' dtype
    if given.shape not in ((m,), (1, m)):
        raise ValueError(
            f"{where}: logits have shape {logits.shape} (C = {C} classes, m = {m} examples) "
            f"but labels have shape {given.shape}; expected class indices of shape ({m},) or "
            f"(1, {m}), or probability columns of shape {logits.shape}. If your rows are "
            "examples, pass the transposes."
        )
    indices = given.reshape(-1)
    if not np.all(np.isfinite(indices)):
        raise ValueError(f"{where}: the labels hold NaN or infinity; expected class indices.")
    if np.any(indices != np.round(indices)):
        bad = indices[indices != np.round(indices)][0]
        raise ValueError(
            f"{where}: the label {bad} is not a whole number; expected class indices 0..{C - 1} "
            f"(or probability columns of shape {logits.shape})."
        )
    if indices.min() < 0 or indices.max() >= C:
        raise ValueError(
            f"{where}: labels range over [{indices.min():g}, {indices.max():g}]; expected class "
            f"indices 0..{C - 1}, as the logits have C = {C} rows."
        )
    return OneHot(C, logits.dtype)(labels if isinstance(labels, Tensor) else Tensor(given))


class OneHot(Function):
    """Class indices (m,) or (1, m) as one-hot columns (C, m); no gradient.

    An op rather than numpy on the labels' values, so that ``compile`` replays it: a compiled
    step follows labels that change from one call to the next. ``_class_targets`` checks the
    labels in full; the forward repeats the range check, which a replay runs on every call."""

    save_inputs, save_out = False, False

    __slots__ = ("classes", "dtype")

    def __init__(self, classes: int, dtype: Any):
        self.classes, self.dtype = classes, dtype

    def forward(self, labels: np.ndarray) -> np.ndarray:
        indices = labels.reshape(-1)
        if not (indices.min() >= 0 and indices.max() < self.classes):  # also catches NaN
            raise ValueError(
                f"cross_entropy: labels range over [{indices.min():g}, {indices.max():g}]; "
                f"expected class indices 0..{self.classes - 1}."
            )
        return (np.arange(self.classes)[:, None] == indices[None, :]).astype(self.dtype)

    def backward(self, g: Any, out: Any, labels: Any) -> tuple[Any, ...]:
        """Class indices are not differentiable: no gradient"""
        return (None,)


def cross_entropy(logits: Any, labels: Any) -> Tensor:
    """Mean cross-entropy of softmax(logits) over K classes, computed stably in one node.

    ``logits`` is (C, m): C >= 2 classes on axis 0, one column per example (course layout).
    ``labels`` is either class indices 0..C-1 of shape (m,) or (1, m) (integers, or floats with
    whole values), or targets Y of shape (C, m) whose columns are probabilities summing to 1
    (one-hot or soft labels; these may require grad).

    loss = -1/m·Σ y·log softmax(z),  ∂loss/∂z = (softmax(z) - y)/m,  ∂loss/∂y = -log softmax(z)/m.

    Finite for every finite logit (log softmax is computed as z - max - log Σ e^(z - max)).
    Differentiable twice and more: the rule is written so that it records a graph too.
    """
    where = "cross_entropy"
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    if logits.ndim != 2 or logits.shape[0] < 2 or logits.shape[1] == 0:
        raise ValueError(
            f"{where}: logits have shape {logits.shape}; expected (C, m) with C >= 2 classes on "
            "axis 0 and at least one example (m >= 1). For one output per example (two "
            "classes) use binary_cross_entropy_with_logits."
        )
    return CrossEntropy()(logits, _class_targets(where, logits, labels))


# ---------------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------------


def mse_loss(prediction: Any, target: Any) -> Tensor:
    """Mean squared error over all elements, as PyTorch's default: 1/N·Σ(prediction - target)².

    Both arguments are differentiable: ∂/∂prediction = 2(prediction - target)/N and
    ∂/∂target = -2(prediction - target)/N. They must have the same shape: (1, m) against (m,)
    would broadcast to (m, m) and give a wrong loss without any error.
    """
    where = "mse_loss"
    prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
    target = prediction._operand(target)
    if target.shape != prediction.shape:
        raise ValueError(
            f"{where}: the prediction has shape {prediction.shape} but the target has shape "
            f"{target.shape}; expected the same shape."
        )
    if prediction.size == 0:
        raise ValueError(f"{where}: the prediction is empty; expected at least one element.")
    difference = prediction - target
    return (difference * difference).sum() / prediction.size

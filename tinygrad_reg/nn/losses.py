"""Losses: binary cross-entropy (the course's formula and the stable fused version training
uses), cross-entropy over K classes, nll_loss and kl_div; mean squared error, l1_loss,
huber_loss and smooth_l1_loss. The losses named as PyTorch's take its options (``reduction=``
"mean", "sum" or "none"; ``weight=`` and ``ignore_index=`` for the class losses) with its
semantics, in the course layout: classes on axis 0 and examples on the last axis, where torch
takes the transpose (m, C).

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
from ..ops.select import where
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
    y = Y.data  # NaN fails the test; np.minimum.reduce is y.min() without its Python wrapper
    if not (np.minimum.reduce(y, axis=None) >= 0 and np.maximum.reduce(y, axis=None) <= 1):
        raise ValueError(
            f"{where}: Y has values in [{y.min()}, {y.max()}]; expected labels (or "
            "probabilities) in [0, 1]. Labels in {-1, 1} need mapping to {0, 1}."
        )
    return prediction, Y


def check_label_smoothing(value: Any, where: str) -> float:
    """ε as a float, after checking 0 <= ε <= 1 (PyTorch's range)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"{where}: label_smoothing={value!r} is a {type(value).__name__}; expected a number "
            "in [0, 1]."
        )
    if not 0 <= value <= 1:  # also catches NaN
        raise ValueError(f"{where}: label_smoothing={value}; expected a number in [0, 1].")
    return float(value)


def smoothed_binary_targets(Y: Tensor, label_smoothing: Any, where: str) -> Tensor:
    """Y·(1 − ε) + ε/2: each 0/1 label moved ε/2 toward the other class (ε = 0: Y itself)."""
    epsilon = check_label_smoothing(label_smoothing, where)
    return Y if epsilon == 0 else Y * (1 - epsilon) + epsilon / 2


def binary_cross_entropy(probs: Any, Y: Any, label_smoothing: float = 0.0) -> Tensor:
    """The course's cost from probabilities A = σ(Z): -1/m·Σ[y·log(a) + (1-y)·log(1-a)].

    Composed of ordinary ops, so its gradient flows through log and σ. Where σ saturates
    (a rounds to exactly 0 or 1) it gives inf or NaN (0·log 0); prefer
    ``binary_cross_entropy_with_logits``, which never does.

    ``label_smoothing=ε`` trains against y·(1 − ε) + ε/2 instead of y (as
    ``binary_cross_entropy_with_logits``; PyTorch's binary losses have no such option).
    """
    A, Y = _prediction_and_targets("binary_cross_entropy", probs, Y)
    Y = smoothed_binary_targets(Y, label_smoothing, "binary_cross_entropy")
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


#: The largest finite value of each float dtype, looked up once.
_LARGEST = {np.dtype(t): np.finfo(t).max for t in (np.float16, np.float32, np.float64)}


class BinaryCrossEntropyWithLogits(Function):
    """Cross-entropy of σ(z) against y, from the logits z, in one node:

        loss = 1/m·Σ[max(z, 0) - z·y + log(1 + e^-|z|)]

    the course's -[y·log σ(z) + (1-y)·log(1-σ(z))] rewritten so that e^-|z| <= 1: no overflow,
    no log(0), finite and accurate for every finite z.
    """

    save_inputs, save_out = True, False
    # forward's branch (overflowing sum or not) only chooses how the loss is computed, so a
    # compiled step that never reads the loss drops it with the loss (jit/tape_optimizer.py)
    guards_choose_only_out = True

    expects = "Z and Y of the same shape, at least one example along the last axis"

    def forward(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        m = z.shape[-1]
        terms = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        # Terms each at most max/(2m) cannot overflow their sum (rounding grows it by a factor
        # below (1 + ε)^m < 2), so the common case needs no np.errstate; NaN fails the test.
        # np.maximum.reduce and np.add.reduce: what .max() and .sum() call, minus a wrapper.
        largest = _LARGEST.get(terms.dtype) or np.finfo(terms.dtype).max
        if np.maximum.reduce(terms, axis=None) <= largest / (2 * m):
            return np.add.reduce(terms, axis=None) / m
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


def binary_cross_entropy_with_logits(Z: Any, Y: Any, label_smoothing: float = 0.0) -> Tensor:
    """Mean binary cross-entropy of σ(Z) against Y, computed stably from the logits Z.

    loss = 1/m·Σ[max(z, 0) - z·y + log(1 + e^-|z|)],  ∂loss/∂z = (σ(z) - y)/m.

    One graph node (cheap: it runs every training step). Equal to the course's formula wherever
    that is accurate, and finite with an exact gradient where the course's gives NaN or inf
    (|z| beyond ~37, where σ(z) rounds to 0 or 1).

    ``label_smoothing=ε`` (0 <= ε <= 1) replaces each target y by y' = y·(1 − ε) + ε/2, so a
    label 1 asks for σ(z) = 1 − ε/2 and a label 0 for ε/2: the loss is lowest at the finite
    logit z = ±log((2 − ε)/ε) instead of at ±∞, and ∂loss/∂z = (σ(z) − y')/m. PyTorch's binary
    losses have no such option; this is its ``cross_entropy(label_smoothing=ε)`` rule (mix the
    target with the uniform distribution over the 2 classes) for one output unit.
    """
    where = "binary_cross_entropy_with_logits"
    Z, Y = _prediction_and_targets(where, Z, Y)
    return BinaryCrossEntropyWithLogits()(Z, smoothed_binary_targets(Y, label_smoothing, where))


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


def cross_entropy(
    logits: Any,
    labels: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Mean cross-entropy of softmax(logits) over K classes, computed stably in one node.

    ``logits`` is (C, m): C >= 2 classes on axis 0, one column per example (course layout).
    ``labels`` is either class indices 0..C-1 of shape (m,) or (1, m) (integers, or floats with
    whole values), or targets Y of shape (C, m) whose columns are probabilities summing to 1
    (one-hot or soft labels; these may require grad).

    loss = -1/m·Σ y·log softmax(z),  ∂loss/∂z = (softmax(z) - y)/m,  ∂loss/∂y = -log softmax(z)/m.

    Finite for every finite logit (log softmax is computed as z - max - log Σ e^(z - max)).
    Differentiable twice and more: the rule is written so that it records a graph too.

    ``weight`` (C,), ``ignore_index`` and ``reduction`` as PyTorch's: with index labels it is
    ``nll_loss(log_softmax(logits, axis=0), ...)``; with probability columns, term i is
    −Σ_c weight_c·y_ci·log softmax(z)_ci, "mean" divides by m, and ignore_index does not apply.

    ``label_smoothing=ε`` (0 <= ε <= 1), as PyTorch's: the target is mixed with the uniform
    distribution over the C classes. Probability columns become y·(1 − ε) + ε/C. With index
    labels, term i is (1 − ε)·nll_i + ε/C·Σ_c weight_c·(−log softmax(z)_ci), 0 for an ignored
    example, and "mean" divides both parts by the same Σ weight[y_i] as nll_loss (for ε = 1 the
    loss no longer looks at the labels, except to skip and weigh examples).
    """
    where = "cross_entropy"
    logits = logits if isinstance(logits, Tensor) else Tensor(logits)
    if logits.ndim != 2 or logits.shape[0] < 2 or logits.shape[1] == 0:
        raise ValueError(
            f"{where}: logits have shape {logits.shape}; expected (C, m) with C >= 2 classes on "
            "axis 0 and at least one example (m >= 1). For one output per example (two "
            "classes) use binary_cross_entropy_with_logits."
        )
    epsilon = check_label_smoothing(label_smoothing, where)
    C = logits.shape[0]
    index_labels = np.shape(getattr(labels, "data", labels)) != logits.shape
    if weight is None and ignore_index == -100 and reduction == "mean":
        targets = _class_targets(where, logits, labels)
        if epsilon:  # for index labels with no ignored example, the same as the rule below
            targets = targets * (1 - epsilon) + epsilon / C
        return CrossEntropy()(logits, targets)
    log_probs = logits.log_softmax(axis=0)
    if index_labels:
        terms, weights, kept = _nll_terms(log_probs, labels, weight, ignore_index, where)
        if epsilon:
            per_class = _class_weights(weight, log_probs, where)[:, None]
            uniform_terms = -(log_probs * per_class).sum(axis=0) * kept
            terms = terms * (1 - epsilon) + uniform_terms * (epsilon / C)
        return reduce_loss(terms, reduction, where, total_weight=weights.sum())
    targets = _class_targets(where, logits, labels)
    if epsilon:
        targets = targets * (1 - epsilon) + epsilon / C
    if weight is not None:
        targets = targets * _class_weights(weight, log_probs, where)[:, None]
    return reduce_loss(-(targets * log_probs).sum(axis=0), reduction, where)


# ---------------------------------------------------------------------------------------------
# Regression
# ---------------------------------------------------------------------------------------------


def _pair_of_same_shape(where: str, prediction: Any, target: Any) -> tuple[Tensor, Tensor]:
    prediction = prediction if isinstance(prediction, Tensor) else Tensor(prediction)
    target = prediction._operand(target)
    if target.shape != prediction.shape:
        raise ValueError(
            f"{where}: the prediction has shape {prediction.shape} but the target has shape "
            f"{target.shape}; expected the same shape."
        )
    if prediction.size == 0:
        raise ValueError(f"{where}: the prediction is empty; expected at least one element.")
    return prediction, target


REDUCTIONS = ("mean", "sum", "none")


def reduce_loss(terms: Tensor, reduction: str, where: str, total_weight: Any = None) -> Tensor:
    """The terms averaged ("mean": over all of them, or divided by ``total_weight``), summed
    ("sum") or kept ("none"), as PyTorch's ``reduction=``."""
    if reduction == "none":
        return terms
    if reduction == "sum":
        return terms.sum()
    if reduction == "mean":
        return terms.sum() / (terms.size if total_weight is None else total_weight)
    raise ValueError(f"{where}: reduction={reduction!r}; expected one of {REDUCTIONS}.")


def mse_loss(prediction: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error over all elements, as PyTorch's default: 1/N·Σ(prediction - target)².

    Both arguments are differentiable: ∂/∂prediction = 2(prediction - target)/N and
    ∂/∂target = -2(prediction - target)/N. They must have the same shape: (1, m) against (m,)
    would broadcast to (m, m) and give a wrong loss without any error.
    """
    prediction, target = _pair_of_same_shape("mse_loss", prediction, target)
    difference = prediction - target
    return reduce_loss(difference * difference, reduction, "mse_loss")


def l1_loss(prediction: Any, target: Any, reduction: str = "mean") -> Tensor:
    """Mean absolute error, as ``torch.nn.functional.l1_loss``: 1/N·Σ|prediction − target|
    (its derivative at a zero difference is 0, abs's kink policy)."""
    prediction, target = _pair_of_same_shape("l1_loss", prediction, target)
    return reduce_loss((prediction - target).abs(), reduction, "l1_loss")


def huber_loss(prediction: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Tensor:
    """As ``torch.nn.functional.huber_loss``: for d = prediction − target, ½d² where |d| < delta,
    else delta·(|d| − ½delta): quadratic near 0, linear (robust to outliers) beyond delta."""
    prediction, target = _pair_of_same_shape("huber_loss", prediction, target)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta={delta!r}; expected a number > 0.")
    return reduce_loss(_huber_terms(prediction - target, delta), reduction, "huber_loss")


def smooth_l1_loss(
    prediction: Any, target: Any, reduction: str = "mean", beta: float = 1.0
) -> Tensor:
    """As ``torch.nn.functional.smooth_l1_loss``: ½d²/beta where |d| < beta, else |d| − ½beta,
    that is huber_loss(delta=beta)/beta; beta = 0 is l1_loss."""
    prediction, target = _pair_of_same_shape("smooth_l1_loss", prediction, target)
    if not beta >= 0:
        raise ValueError(f"smooth_l1_loss: beta={beta!r}; expected a number >= 0.")
    difference = prediction - target
    terms = difference.abs() if beta == 0 else _huber_terms(difference, beta) / beta
    return reduce_loss(terms, reduction, "smooth_l1_loss")


def _huber_terms(difference: Tensor, delta: float) -> Tensor:
    size = difference.abs()
    return where(size.data < delta, 0.5 * difference * difference, delta * (size - 0.5 * delta))


def nll_loss(
    log_probs: Any,
    labels: Any,
    weight: Any = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """The negative log-likelihood of the labels, as ``torch.nn.functional.nll_loss`` in the
    course layout: ``log_probs`` is (C, m), classes on axis 0 (torch's input is its transpose,
    (m, C)), ``labels`` class indices (m,). Term i is −weight[y_i]·log_probs[y_i, i]; examples
    labelled ``ignore_index`` count for nothing; "mean" divides by Σ weight[y_i] over the
    examples kept (PyTorch's weighted mean). ``weight`` (C,) is a constant."""
    log_probs = log_probs if isinstance(log_probs, Tensor) else Tensor(log_probs)
    terms, weights, _ = _nll_terms(log_probs, labels, weight, ignore_index, "nll_loss")
    return reduce_loss(terms, reduction, "nll_loss", total_weight=weights.sum())


def _class_weights(weight: Any, log_probs: Tensor, where: str) -> np.ndarray:
    """``weight`` (C,) as an array of the log probabilities' dtype (ones for None), checked."""
    C = log_probs.shape[0]
    per_class = np.ones(C) if weight is None else np.asarray(getattr(weight, "data", weight))
    if per_class.shape != (C,):
        raise ValueError(f"{where}: weight has shape {per_class.shape}; expected ({C},).")
    return per_class.astype(log_probs.dtype)


def _nll_terms(
    log_probs: Tensor, labels: Any, weight: Any, ignore_index: int, where: str
) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """Each example's −weight[y_i]·log_probs[y_i, i] (m,), weight[y_i] (0 where ignored), and
    which examples are kept (not labelled ``ignore_index``)."""
    if log_probs.ndim != 2:
        raise ValueError(f"{where}: log_probs have shape {log_probs.shape}; expected (C, m).")
    C, m = log_probs.shape
    indices = np.asarray(labels.data if isinstance(labels, Tensor) else labels).reshape(-1)
    if indices.shape != (m,) or indices.dtype.kind not in "iuf" or np.any(indices % 1 != 0):
        raise ValueError(
            f"{where}: labels of shape {np.shape(indices)} and dtype {indices.dtype} for "
            f"log_probs {log_probs.shape}; expected {m} class indices (whole numbers)."
        )
    kept = indices != ignore_index
    if np.any((indices[kept] < 0) | (indices[kept] >= C)):
        raise ValueError(
            f"{where}: labels range over [{indices[kept].min():g}, {indices[kept].max():g}]; "
            f"expected class indices 0..{C - 1} or ignore_index={ignore_index}."
        )
    classes = np.where(kept, indices, 0).astype(np.intp)
    weights = _class_weights(weight, log_probs, where)[classes] * kept
    return -log_probs.gather(0, classes[None, :]).reshape(m) * weights, weights, kept


def kl_div(
    log_probs: Any, target: Any, reduction: str = "mean", log_target: bool = False
) -> Tensor:
    """The Kullback-Leibler divergence of ``log_probs`` from ``target``, as
    ``torch.nn.functional.kl_div``: terms target·(log target − log_probs), 0 where target = 0
    (``log_target=True``: target is given as logs). reduction "batchmean" divides the sum by
    m, the number of examples, which is the LAST axis in the course layout (torch's first)."""
    log_probs, target = _pair_of_same_shape("kl_div", log_probs, target)
    if log_target:
        terms = target.exp() * (target - log_probs)
    else:
        positive = target.data > 0
        terms = where(positive, target * (where(positive, target, 1.0).log() - log_probs), 0.0)
    if reduction == "batchmean":
        return terms.sum() / terms.shape[-1] if terms.ndim else terms.sum()
    return reduce_loss(terms, reduction, "kl_div")

"""The losses of ``losses.py`` as modules, with PyTorch's names and constructor arguments:
``loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)`` once, ``loss_fn(logits, labels)`` each
step.

A module keeps the options and calls the function, where the formula, the checks and the
course layout are described (examples on the last axis: ``CrossEntropyLoss`` takes logits
(C, m) where PyTorch's takes (m, C)). The options are keyword-only except ``weight``, the first
argument of PyTorch's class losses (PyTorch's positional ``size_average`` and ``reduce`` are
long deprecated). Class weights are a buffer, as PyTorch's: ``state_dict`` saves them and
``to(dtype)`` converts them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..tensor import Tensor
from . import losses
from .module import Module


class _Loss(Module):
    """The reduction every PyTorch loss takes, checked once when the module is made."""

    reductions = losses.REDUCTIONS

    def __init__(self, reduction: str = "mean"):
        if reduction not in self.reductions:
            raise ValueError(
                f"{type(self).__name__}: reduction={reduction!r}; expected one of "
                f"{self.reductions}."
            )
        self.reduction = reduction

    def extra_repr(self) -> str:
        return "" if self.reduction == "mean" else f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """``mse_loss``: the mean (or sum) of (prediction − target)² over all elements."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, prediction: Any, target: Any) -> Tensor:
        return losses.mse_loss(prediction, target, self.reduction)


class L1Loss(_Loss):
    """``l1_loss``: the mean (or sum) of |prediction − target|."""

    def __init__(self, *, reduction: str = "mean"):
        super().__init__(reduction)

    def forward(self, prediction: Any, target: Any) -> Tensor:
        return losses.l1_loss(prediction, target, self.reduction)


class HuberLoss(_Loss):
    """``huber_loss``: ½d² where |d| < delta, delta·(|d| − ½delta) beyond, d = prediction −
    target."""

    def __init__(self, *, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta={delta!r}; expected a number > 0.")
        self.delta = float(delta)

    def forward(self, prediction: Any, target: Any) -> Tensor:
        return losses.huber_loss(prediction, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """``smooth_l1_loss``: huber_loss(delta=beta)/beta; beta = 0 is the L1 loss."""

    def __init__(self, *, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        if not beta >= 0:
            raise ValueError(f"SmoothL1Loss: beta={beta!r}; expected a number >= 0.")
        self.beta = float(beta)

    def forward(self, prediction: Any, target: Any) -> Tensor:
        return losses.smooth_l1_loss(prediction, target, self.reduction, self.beta)


class KLDivLoss(_Loss):
    """``kl_div``: target·(log target − log_probs); the input is log-probabilities (and the
    target too with ``log_target=True``). ``reduction="batchmean"`` divides the sum by m, the
    number of examples (the last axis here, PyTorch's first): the true KL divergence per
    example, which PyTorch recommends over its default "mean"."""

    reductions = (*losses.REDUCTIONS, "batchmean")

    def __init__(self, *, reduction: str = "mean", log_target: bool = False):
        super().__init__(reduction)
        self.log_target = bool(log_target)

    def forward(self, log_probs: Any, target: Any) -> Tensor:
        return losses.kl_div(log_probs, target, self.reduction, self.log_target)


class BCELoss(Module):
    """``binary_cross_entropy``: the course's cost from probabilities A = σ(Z), averaged over
    the examples. Prefer ``BCEWithLogitsLoss``, finite where σ saturates. The function has no
    ``weight`` or ``reduction`` (always the mean); ``label_smoothing`` is its own option."""

    def __init__(self, *, label_smoothing: float = 0.0):
        self.label_smoothing = losses.check_label_smoothing(label_smoothing, "BCELoss")

    def forward(self, probs: Any, target: Any) -> Tensor:
        return losses.binary_cross_entropy(probs, target, self.label_smoothing)


class BCEWithLogitsLoss(Module):
    """``binary_cross_entropy_with_logits``: the mean binary cross-entropy of σ(Z), computed
    stably from the logits Z in one node. No ``weight``, ``pos_weight`` or ``reduction``
    (always the mean), as the function; ``label_smoothing`` is its own option."""

    def __init__(self, *, label_smoothing: float = 0.0):
        where = "BCEWithLogitsLoss"
        self.label_smoothing = losses.check_label_smoothing(label_smoothing, where)

    def forward(self, logits: Any, target: Any) -> Tensor:
        return losses.binary_cross_entropy_with_logits(logits, target, self.label_smoothing)


def _class_weight(weight: Any, where: str) -> Tensor | None:
    """PyTorch's ``weight``: one number per class, kept as a buffer (a Tensor, no gradient)."""
    if weight is None:
        return None
    values = Tensor(weight.data if isinstance(weight, Tensor) else weight)
    if values.ndim != 1:
        raise ValueError(f"{where}: weight has shape {values.shape}; expected (C,).")
    if not np.all(values.data >= 0):  # also catches NaN
        raise ValueError(f"{where}: weight holds negative or NaN values; expected weights >= 0.")
    return values


class NLLLoss(_Loss):
    """``nll_loss``: −weight[y_i]·log_probs[y_i, i] for log-probabilities (C, m) and class
    indices (m,); examples labelled ``ignore_index`` count for nothing."""

    buffer_names = ("weight",)

    def __init__(self, weight: Any = None, *, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = _class_weight(weight, "NLLLoss")
        self.ignore_index = int(ignore_index)

    def forward(self, log_probs: Any, labels: Any) -> Tensor:
        return losses.nll_loss(log_probs, labels, self.weight, self.ignore_index, self.reduction)


class CrossEntropyLoss(_Loss):
    """``cross_entropy``: softmax cross-entropy of logits (C, m) against class indices (m,) or
    probability columns (C, m), with PyTorch's ``weight``, ``ignore_index``, ``reduction`` and
    ``label_smoothing``."""

    buffer_names = ("weight",)

    def __init__(
        self,
        weight: Any = None,
        *,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ):
        super().__init__(reduction)
        self.weight = _class_weight(weight, "CrossEntropyLoss")
        self.ignore_index = int(ignore_index)
        self.label_smoothing = losses.check_label_smoothing(label_smoothing, "CrossEntropyLoss")

    def forward(self, logits: Any, labels: Any) -> Tensor:
        return losses.cross_entropy(
            logits, labels, self.weight, self.ignore_index, self.reduction, self.label_smoothing
        )

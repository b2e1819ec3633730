"""The ops of ``tinygrad_reg/ops`` as functions, as ``torch.softmax`` or ``np.log1p``.

Each takes a Tensor, or anything ``Tensor()`` accepts (numbers, lists, numpy arrays), which
becomes a constant, and returns a Tensor. The same ops are Tensor methods where numpy or
PyTorch has one (``x.softmax(axis=0)``); the forward and gradient rules live in ``ops/``.
"""

from __future__ import annotations

from typing import Any

from .ops import softmax as softmax_ops
from .tensor import Tensor


def as_tensor(x: Any) -> Tensor:
    """``x`` itself if it is a Tensor, else a constant Tensor made from it."""
    return x if isinstance(x, Tensor) else Tensor(x)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """e^x / Σ e^x along ``axis``; -inf entries get exactly 0 (see ``ops/softmax.py``)."""
    return softmax_ops.Softmax(axis)(as_tensor(x))


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """x − log Σ e^x along ``axis``, stable for any finite x; -inf entries stay -inf."""
    return softmax_ops.LogSoftmax(axis)(as_tensor(x))

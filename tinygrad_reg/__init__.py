"""tinygrad_reg: a small, readable reverse-mode autodiff over numpy.

Start reading at ``tensor.py`` (the Tensor), then ``engine.py`` (how backward works), then any
file in ``ops/`` (each op's forward and gradient rule side by side).
"""

from . import nn, optim, reference
from .anomaly import detect_anomaly
from .checkpoint import load, save
from .constraints import apply_max_norm, clip_grad_norm
from .engine import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .explain import explain_backward
from .functional import log_softmax, softmax
from .graphviz import render, to_dot
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .ops.linalg import linear
from .ops.select import maximum, minimum, where
from .ops.shape import concatenate, stack
from .proximal import ProximalSGD
from .regularizers import elastic_net_penalty, l1_penalty, l2_penalty
from .tensor import Tensor

__all__ = [
    "ProximalSGD",
    "Tensor",
    "apply_max_norm",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "clip_grad_norm",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "elastic_net_penalty",
    "enable_grad",
    "explain_backward",
    "grad",
    "is_grad_enabled",
    "l1_penalty",
    "l2_penalty",
    "linear",
    "load",
    "log_softmax",
    "maximum",
    "minimum",
    "mse_loss",
    "nn",
    "no_grad",
    "optim",
    "reference",
    "render",
    "save",
    "set_grad_enabled",
    "softmax",
    "stack",
    "to_dot",
    "where",
]
__version__ = "0.1.0"

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
from .functional import (
    argmax,
    argmin,
    ceil,
    cos,
    cosh,
    cumsum,
    elu,
    erf,
    expm1,
    floor,
    gelu,
    leaky_relu,
    log1p,
    log2,
    log10,
    log_sigmoid,
    log_softmax,
    logsumexp,
    norm,
    prod,
    sign,
    silu,
    sin,
    sinh,
    softmax,
    softplus,
    square,
    std,
    tan,
    var,
)
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
    "argmax",
    "argmin",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "ceil",
    "clip_grad_norm",
    "concatenate",
    "cos",
    "cosh",
    "cross_entropy",
    "cumsum",
    "detect_anomaly",
    "elastic_net_penalty",
    "elu",
    "enable_grad",
    "erf",
    "explain_backward",
    "expm1",
    "floor",
    "gelu",
    "grad",
    "is_grad_enabled",
    "l1_penalty",
    "l2_penalty",
    "leaky_relu",
    "linear",
    "load",
    "log1p",
    "log2",
    "log10",
    "log_sigmoid",
    "log_softmax",
    "logsumexp",
    "maximum",
    "minimum",
    "mse_loss",
    "nn",
    "no_grad",
    "norm",
    "optim",
    "prod",
    "reference",
    "render",
    "save",
    "set_grad_enabled",
    "sign",
    "silu",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "square",
    "stack",
    "std",
    "tan",
    "to_dot",
    "var",
    "where",
]
__version__ = "0.1.0"

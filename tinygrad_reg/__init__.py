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
from .factories import arange, eye, full, linspace, ones, ones_like, rand, randn, zeros, zeros_like
from .functional import log_softmax, softmax
from .graphviz import render, to_dot
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .ops.arrange import diag, diagonal, flip, pad, repeat, roll, tile, trace, tril, triu
from .ops.linalg import dot, einsum, linear, matmul, outer, tensordot
from .ops.select import maximum, minimum, where
from .ops.shape import (
    broadcast_to,
    chunk,
    concatenate,
    expand,
    expand_dims,
    flatten,
    moveaxis,
    split,
    squeeze,
    stack,
    swapaxes,
    unsqueeze,
)
from .proximal import ProximalSGD
from .regularizers import elastic_net_penalty, l1_penalty, l2_penalty
from .tensor import Tensor

__all__ = [
    "ProximalSGD",
    "Tensor",
    "apply_max_norm",
    "arange",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "broadcast_to",
    "chunk",
    "clip_grad_norm",
    "concatenate",
    "cross_entropy",
    "detect_anomaly",
    "diag",
    "diagonal",
    "dot",
    "einsum",
    "elastic_net_penalty",
    "enable_grad",
    "expand",
    "expand_dims",
    "explain_backward",
    "eye",
    "flatten",
    "flip",
    "full",
    "grad",
    "is_grad_enabled",
    "l1_penalty",
    "l2_penalty",
    "linear",
    "linspace",
    "load",
    "log_softmax",
    "matmul",
    "maximum",
    "minimum",
    "moveaxis",
    "mse_loss",
    "nn",
    "no_grad",
    "ones",
    "ones_like",
    "optim",
    "outer",
    "pad",
    "rand",
    "randn",
    "reference",
    "render",
    "repeat",
    "roll",
    "save",
    "set_grad_enabled",
    "softmax",
    "split",
    "squeeze",
    "stack",
    "swapaxes",
    "tensordot",
    "tile",
    "to_dot",
    "trace",
    "tril",
    "triu",
    "unsqueeze",
    "where",
    "zeros",
    "zeros_like",
]
__version__ = "0.1.0"

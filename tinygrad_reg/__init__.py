"""tinygrad_reg: a small, readable reverse-mode autodiff over numpy.

Start reading at ``tensor.py`` (the Tensor), then ``engine.py`` (how backward works), then any
file in ``ops/`` (each op's forward and gradient rule side by side).
"""

from . import optim
from .anomaly import detect_anomaly
from .checkpoint import load, save
from .engine import grad, is_grad_enabled, no_grad
from .explain import explain_backward
from .graphviz import render, to_dot
from .ops.linalg import linear
from .ops.select import maximum, minimum, where
from .ops.shape import concatenate, stack
from .tensor import Tensor

__all__ = [
    "Tensor",
    "concatenate",
    "detect_anomaly",
    "explain_backward",
    "grad",
    "is_grad_enabled",
    "linear",
    "load",
    "maximum",
    "minimum",
    "no_grad",
    "optim",
    "render",
    "save",
    "stack",
    "to_dot",
    "where",
]
__version__ = "0.1.0"

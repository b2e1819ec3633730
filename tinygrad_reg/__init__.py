"""tinygrad_reg: a small, readable reverse-mode autodiff over numpy.

The autodiff core sits at the top of the package: start reading at ``tensor.py`` (the Tensor),
then ``engine.py`` (how backward works), then any file in ``ops/`` (each op's forward and
gradient rule side by side); ``functional.py`` and ``factories.py`` are the ops as functions
and the functions that make tensors. Each folder beside it is a wing built on the core, its
``__init__.py`` saying what it is for: ``nn/`` (layers, losses, penalties), ``optim/``,
``train/`` (fit, checkpoints, sweeps), ``data/``, ``jit/`` (compile), ``debug/`` (explain,
graphs, anomaly detection), ``testing/`` (gradcheck, the hand-written reference, strategies)
and ``app/`` (the command line). Imports point down: the core imports no wing.
"""

import importlib
from typing import TYPE_CHECKING, Any

# The core is entered through the engine, before any wing: the ops and tensor.py import each
# other, and only the engine (or tensor.py) can be the first of them to load.
from . import engine, nn, optim  # noqa: F401 (engine: loaded first, see above)
from .data import datasets
from .engine import enable_grad, grad, is_grad_enabled, no_grad, set_grad_enabled
from .factories import (
    arange,
    default_generator,
    eye,
    full,
    linspace,
    manual_seed,
    ones,
    ones_like,
    rand,
    randn,
    zeros,
    zeros_like,
)
from .functional import (
    acos,
    argmax,
    argmin,
    asin,
    atan,
    atan2,
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
    logaddexp,
    logsumexp,
    norm,
    prod,
    round,
    rsqrt,
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
from .nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from .nn.regularizers import elastic_net_penalty, l1_penalty, l2_penalty
from .ops.arithmetic import lerp
from .ops.arrange import diag, diagonal, flip, pad, repeat, roll, tile, trace, tril, triu
from .ops.cumulative import cummax, cummin, cumprod, logcumsumexp
from .ops.index import gather, index_add, index_select, masked_fill, scatter, scatter_add
from .ops.linalg import dot, einsum, linear, matmul, outer, tensordot
from .ops.select import clamp, maximum, minimum, where
from .ops.shape import (
    broadcast_to,
    chunk,
    concatenate,
    expand,
    expand_dims,
    flatten,
    hstack,
    moveaxis,
    split,
    squeeze,
    stack,
    swapaxes,
    unbind,
    unsqueeze,
    vstack,
)
from .ops.sort import argsort, median, quantile, sort, topk
from .optim import ProximalSGD, apply_max_norm, clip_grad_norm
from .tensor import Tensor
from .testing import reference

# isort: split
# After ``from .tensor import ...``: the attribute ``tensor`` is the factory, as ``torch.tensor``;
# the module stays importable by its full name (``from tinygrad_reg.tensor import Tensor``).
from .data import DataLoader
from .factories import tensor

if TYPE_CHECKING:  # for type checkers and editors; at run time, imported on first use below
    from .debug import detect_anomaly, explain_backward, render, to_dot
    from .jit import TraceError, compile
    from .train import accuracy, fit, load, predict, save

#: The names that come from the wings above the core's direct users (train/, jit/, debug/).
#: They are imported when first asked for, so that importing the package (or the core alone)
#: loads none of those wings: ``tinygrad_reg.fit`` works, and pays for train/ only then.
LAZY = {
    "TraceError": "jit",
    "accuracy": "train",
    "compile": "jit",
    "detect_anomaly": "debug",
    "explain_backward": "debug",
    "fit": "train",
    "load": "train",
    "predict": "train",
    "render": "debug",
    "save": "train",
    "to_dot": "debug",
}


def __getattr__(name: str) -> Any:
    if name in LAZY:
        value = getattr(importlib.import_module(f"{__name__}.{LAZY[name]}"), name)
        globals()[name] = value  # found directly from now on
        return value
    raise AttributeError(f"module 'tinygrad_reg' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *LAZY})


__all__ = [
    "DataLoader",
    "ProximalSGD",
    "Tensor",
    "TraceError",
    "accuracy",
    "acos",
    "apply_max_norm",
    "arange",
    "argmax",
    "argmin",
    "argsort",
    "asin",
    "atan",
    "atan2",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "broadcast_to",
    "ceil",
    "chunk",
    "clamp",
    "clip_grad_norm",
    "compile",
    "concatenate",
    "cos",
    "cosh",
    "cross_entropy",
    "cummax",
    "cummin",
    "cumprod",
    "cumsum",
    "datasets",
    "default_generator",
    "detect_anomaly",
    "diag",
    "diagonal",
    "dot",
    "einsum",
    "elastic_net_penalty",
    "elu",
    "enable_grad",
    "erf",
    "expand",
    "expand_dims",
    "explain_backward",
    "expm1",
    "eye",
    "fit",
    "flatten",
    "flip",
    "floor",
    "full",
    "gather",
    "gelu",
    "grad",
    "hstack",
    "index_add",
    "index_select",
    "is_grad_enabled",
    "l1_penalty",
    "l2_penalty",
    "leaky_relu",
    "lerp",
    "linear",
    "linspace",
    "load",
    "log1p",
    "log2",
    "log10",
    "log_sigmoid",
    "log_softmax",
    "logaddexp",
    "logcumsumexp",
    "logsumexp",
    "manual_seed",
    "masked_fill",
    "matmul",
    "maximum",
    "median",
    "minimum",
    "moveaxis",
    "mse_loss",
    "nn",
    "no_grad",
    "norm",
    "ones",
    "ones_like",
    "optim",
    "outer",
    "pad",
    "predict",
    "prod",
    "quantile",
    "rand",
    "randn",
    "reference",
    "render",
    "repeat",
    "roll",
    "round",
    "rsqrt",
    "save",
    "scatter",
    "scatter_add",
    "set_grad_enabled",
    "sign",
    "silu",
    "sin",
    "sinh",
    "softmax",
    "softplus",
    "sort",
    "split",
    "square",
    "squeeze",
    "stack",
    "std",
    "swapaxes",
    "tan",
    "tensor",
    "tensordot",
    "tile",
    "to_dot",
    "topk",
    "trace",
    "tril",
    "triu",
    "unbind",
    "unsqueeze",
    "var",
    "vstack",
    "where",
    "zeros",
    "zeros_like",
]
__version__ = "0.1.0"

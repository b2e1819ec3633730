"""The network and its cost: layers that own their parameters, the losses, the penalties.

``modules.py`` holds ``Module`` and the layers (``Linear``, the activations, ``Dropout``,
``Sequential``) and ``MLP``, the course network; ``conv.py`` the image layers (``Conv2d``,
``MaxPool2d``, ``AvgPool2d``), ``normalization.py`` ``LayerNorm`` and the BatchNorms,
``embedding.py`` ``Embedding``; ``losses.py`` the cross-entropies and the mean
squared error, each one fused node; ``regularizers.py`` the L2, L1 and elastic-net penalties
over the weight matrices; ``group_lasso.py`` the penalty on whole rows or columns of them;
``init.py`` PyTorch's ``nn.init`` (Xavier, Kaiming, constants).
Everything here is built from the core (``Tensor``, ``Function``, ``ops/``) and nothing else:
read it after the engine.
"""

from . import init
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .embedding import Embedding
from .losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from .modules import ACTIVATIONS, MLP, Dropout, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .regularizers import elastic_net_penalty, l1_penalty, l2_penalty

# isort: split
# After the modules above, which load the core through engine.py: ops/helpers.py, which
# group_lasso.py imports, cannot be the core's first module.
from .group_lasso import group_lasso_penalty

__all__ = [
    "ACTIVATIONS",
    "MLP",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "Dropout",
    "Embedding",
    "LayerNorm",
    "Linear",
    "MaxPool2d",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "elastic_net_penalty",
    "group_lasso_penalty",
    "huber_loss",
    "init",
    "kl_div",
    "l1_loss",
    "l1_penalty",
    "l2_penalty",
    "mse_loss",
    "nll_loss",
    "smooth_l1_loss",
]

"""The network and its cost: layers that own their parameters, the losses, the penalties.

``module.py`` holds ``Module``, the base class (parameters, sub-modules, modes, dtype,
saving); ``modules.py`` the layers (``Linear``, ``Dropout``, ``Flatten``, ``Identity``), the
containers (``Sequential``, ``ModuleList``) and ``MLP``, the course network;
``activations.py`` the activations as modules (``ReLU``, ``GELU``, ``Softmax``, ...);
``conv.py`` the image layers (``Conv2d``, ``MaxPool2d``, ``AvgPool2d``),
``normalization.py`` ``LayerNorm`` and the BatchNorms,
``embedding.py`` ``Embedding``; ``losses.py`` the cross-entropies and the mean squared error,
each one fused node, and ``loss_modules.py`` the same as modules (``CrossEntropyLoss``,
``MSELoss``, ...); ``regularizers.py`` the L2, L1, elastic-net and orthogonality penalties over
the weight matrices; ``group_lasso.py`` the penalty on whole rows or columns of them;
``gradient_penalty.py`` the penalties on the input gradient (double backprop, Jacobian);
``noise.py`` Gaussian noise on inputs (``GaussianNoise``) and on weights
(``WeightNoiseLinear``); ``dropconnect.py`` ``DropConnectLinear``, dropout on the weights;
``course_masks.py`` the course's fixed dropout masks;
``init.py`` PyTorch's ``nn.init`` (Xavier, Kaiming, constants).
Everything here is built from the core (``Tensor``, ``Function``, ``ops/``) and nothing else:
read it after the engine.
"""

from . import init
from .activations import (
    ELU,
    GELU,
    SELU,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    ReLU,
    Sigmoid,
    SiLU,
    Softmax,
    Softplus,
    Tanh,
)
from .conv import AvgPool2d, Conv2d, MaxPool2d
from .dropconnect import DropConnectLinear
from .embedding import Embedding
from .group_lasso import group_lasso_penalty
from .loss_modules import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
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
from .module import Module
from .modules import (
    ACTIVATIONS,
    MLP,
    Dropout,
    Flatten,
    Identity,
    Linear,
    ModuleList,
    ModuleSequence,
    Sequential,
)
from .noise import GaussianNoise, WeightNoiseLinear
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .regularizers import elastic_net_penalty, l1_penalty, l2_penalty, orthogonality_penalty

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "GELU",
    "MLP",
    "SELU",
    "AvgPool2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "BatchNorm2d",
    "Conv2d",
    "CrossEntropyLoss",
    "DropConnectLinear",
    "Dropout",
    "Embedding",
    "Flatten",
    "GaussianNoise",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSigmoid",
    "LogSoftmax",
    "MSELoss",
    "MaxPool2d",
    "Module",
    "ModuleList",
    "ModuleSequence",
    "NLLLoss",
    "ReLU",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "WeightNoiseLinear",
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
    "orthogonality_penalty",
    "smooth_l1_loss",
]

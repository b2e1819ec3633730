"""Moving the parameters: the optimizers, the proximal step, the learning-rate schedules and
the constraints applied around a step.

``optimizer.py`` holds the base every optimizer shares (PyTorch's parameter groups, checked
hyperparameters, ``state_dict``); ``optimizers.py`` ``SGD`` (with momentum), ``Adam`` and
``AdamW`` with PyTorch's update rules; ``rmsprop.py`` ``RMSprop``; ``adagrad.py`` ``Adagrad``;
``proximal.py`` ``ProximalSGD``, whose soft-threshold step drives L1-penalized weights to exact
zeros; ``schedules.py`` the learning-rate schedules (``StepLR``, ``CosineAnnealingLR``,
``ReduceLROnPlateau``...); ``constraints.py`` gradient clipping (``clip_grad_norm``) and the
max-norm and spectral-norm constraints (``apply_max_norm``, ``apply_spectral_norm``). They
read ``.grad`` and assign new arrays to ``.data``; they know nothing of how the gradients
were computed.
"""

from .adagrad import Adagrad
from .constraints import apply_max_norm, apply_spectral_norm, clip_grad_norm
from .optimizer import Optimizer
from .optimizers import SGD, Adam, AdamW
from .proximal import ProximalSGD
from .rmsprop import RMSprop
from .schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    ReduceLROnPlateau,
    StepLR,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LinearLR",
    "MultiStepLR",
    "Optimizer",
    "ProximalSGD",
    "RMSprop",
    "ReduceLROnPlateau",
    "StepLR",
    "apply_max_norm",
    "apply_spectral_norm",
    "clip_grad_norm",
]

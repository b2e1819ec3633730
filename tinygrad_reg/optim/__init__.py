"""Moving the parameters: the optimizers, the proximal step, and the constraints applied
around a step.

``optimizers.py`` holds ``SGD`` (with momentum), ``Adam`` and ``AdamW`` with PyTorch's update
rules; ``proximal.py`` ``ProximalSGD``, whose soft-threshold step drives L1-penalized weights to
exact zeros; ``constraints.py`` gradient clipping (``clip_grad_norm``) and the max-norm
constraint (``apply_max_norm``). They read ``.grad`` and assign new arrays to ``.data``; they
know nothing of how the gradients were computed.
"""

from .constraints import apply_max_norm, clip_grad_norm
from .optimizers import SGD, Adam, AdamW, Optimizer
from .proximal import ProximalSGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "ProximalSGD", "apply_max_norm", "clip_grad_norm"]

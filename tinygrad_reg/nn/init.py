"""Initializing parameters, with PyTorch's ``torch.nn.init`` names and rules.

Each ``name_`` function fills a parameter with new values and returns it::

    layer = nn.Linear(784, 128)
    nn.init.kaiming_normal_(layer.W, nonlinearity="relu")
    nn.init.zeros_(layer.b)

The trailing underscore is PyTorch's mark of a function that changes its argument. Here the
parameter gets a new array (``p.data = ...``), never a write into the old one: graphs recorded
before keep the values they saw (the safety rule in ``tensor.py``). The random ones draw from
``generator`` (a numpy Generator or RandomState), by default the thread's default generator
(``tinygrad_reg.manual_seed``).

Fans are PyTorch's: for a weight of shape (out, in, k1, k2, ...), fan_in = in·k1·k2·... and
fan_out = out·k1·k2·...; a Linear's W (out_features, in_features) is the 2-D case.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..factories import default_generator
from ..tensor import Tensor

Rng = np.random.RandomState | np.random.Generator

#: The gain of each nonlinearity that has no parameter (``calculate_gain``).
GAINS = {
    "linear": 1.0,
    "conv1d": 1.0,
    "conv2d": 1.0,
    "conv3d": 1.0,
    "conv_transpose1d": 1.0,
    "conv_transpose2d": 1.0,
    "conv_transpose3d": 1.0,
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "relu": math.sqrt(2.0),
    "selu": 3.0 / 4,
}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which a nonlinearity's inputs' standard deviation should be scaled to keep
    the outputs' variance: 1 for linear layers and the sigmoid, 5/3 for tanh, √2 for ReLU,
    √(2 / (1 + slope²)) for leaky ReLU (``param`` = the negative slope, 0.01 by default), 3/4
    for SELU."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        if isinstance(slope, bool) or not isinstance(slope, (int, float, np.integer, np.floating)):
            raise ValueError(
                f"calculate_gain: negative_slope {slope!r} is not a valid number; expected a "
                "number (the leaky ReLU's negative slope)."
            )
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in GAINS:
        raise ValueError(
            f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
            f"{[*GAINS, 'leaky_relu']}."
        )
    return GAINS[nonlinearity]


def _parameter(tensor: Any, where: str) -> Tensor:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{where}: got a {type(tensor).__name__}; expected a Tensor to fill.")
    return tensor


def calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel): in·prod(kernel) and
    out·prod(kernel)."""
    shape = _parameter(tensor, "calculate_fan_in_and_fan_out").shape
    if len(shape) < 2:
        raise ValueError(
            f"calculate_fan_in_and_fan_out: a tensor of shape {shape} has no fans; expected at "
            "least 2 dimensions (out, in, *kernel)."
        )
    receptive_field = math.prod(shape[2:])
    return shape[1] * receptive_field, shape[0] * receptive_field


def _fan(tensor: Tensor, mode: str, where: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{where}: mode={mode!r}; expected 'fan_in' or 'fan_out'.")
    fan_in, fan_out = calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _filled(tensor: Tensor, values: Any) -> Tensor:
    """``tensor`` holding ``values`` in its own dtype: a new array, the old one untouched."""
    tensor.data = np.broadcast_to(values, tensor.shape).astype(tensor.dtype)
    return tensor


def _rng(generator: Rng | None) -> Rng:
    return default_generator() if generator is None else generator


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: Rng | None = None) -> Tensor:
    """Values drawn uniformly from [a, b)."""
    tensor = _parameter(tensor, "uniform_")
    return _filled(tensor, _rng(generator).uniform(a, b, tensor.shape))


def normal_(
    tensor: Any, mean: float = 0.0, std: float = 1.0, generator: Rng | None = None
) -> Tensor:
    """Values drawn from the normal distribution N(mean, std²)."""
    tensor = _parameter(tensor, "normal_")
    return _filled(tensor, _rng(generator).normal(mean, std, tensor.shape))


def constant_(tensor: Any, val: float) -> Tensor:
    """Every value ``val``."""
    return _filled(_parameter(tensor, "constant_"), val)


def zeros_(tensor: Any) -> Tensor:
    """Every value 0."""
    return _filled(_parameter(tensor, "zeros_"), 0.0)


def ones_(tensor: Any) -> Tensor:
    """Every value 1."""
    return _filled(_parameter(tensor, "ones_"), 1.0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: Rng | None = None) -> Tensor:
    """Glorot's uniform: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_parameter(tensor, "xavier_uniform_"))
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: Rng | None = None) -> Tensor:
    """Glorot's normal: N(0, std²) with std = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = calculate_fan_in_and_fan_out(_parameter(tensor, "xavier_normal_"))
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def _kaiming_std(tensor: Any, a: float, mode: str, nonlinearity: str, where: str) -> float:
    fan = _fan(_parameter(tensor, where), mode, where)
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Rng | None = None,
) -> Tensor:
    """He's uniform: U(-bound, bound) with bound = gain·√(3 / fan), the gain of
    ``nonlinearity`` (``a``: the leaky ReLU's negative slope), fan = fan_in or fan_out
    (``mode``). A tensor with no elements is left as it is (as PyTorch, which warns)."""
    if math.prod(_parameter(tensor, "kaiming_uniform_").shape) == 0:
        return tensor
    bound = math.sqrt(3.0) * _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: Rng | None = None,
) -> Tensor:
    """He's normal: N(0, std²) with std = gain / √fan, as ``kaiming_uniform_``."""
    if math.prod(_parameter(tensor, "kaiming_normal_").shape) == 0:
        return tensor
    std = _kaiming_std(tensor, a, mode, nonlinearity, "kaiming_normal_")
    return normal_(tensor, 0.0, std, generator)

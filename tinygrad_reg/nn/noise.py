"""Gaussian noise injection, on the inputs of a layer or on its weights, in training mode only.

``GaussianNoise(std)`` adds std·N to its input, N a fresh standard normal draw of the input's
shape on every forward pass; ``WeightNoiseLinear(in_features, out_features, std=...)`` is a
``Linear`` that adds std·N to its weight matrix W on every forward pass (b is left alone). Both
are the identity (a plain Linear) in eval mode, and their gradients flow through the noise
unchanged: d(x + std·N)/dx = 1.

Why noise regularizes (Bishop, "Training with noise is equivalent to Tikhonov regularization",
1995). With noise ε ~ N(0, σ²·I) on the input x, training minimizes the expected loss; to second
order in σ,

    E_ε[L(x + ε)] = L(x) + σ²/2·Σ_i ∂²L/∂x_i² + O(σ⁴)

For the squared error L = ½(f(x) − y)², ∂²L/∂x_i² = (∂f/∂x_i)² + (f − y)·∂²f/∂x_i², and Bishop
showed the second part vanishes to O(σ²) at the minimum, so training with input noise is
training with the Tikhonov penalty σ²/2·‖∂f/∂x‖²: it flattens the function around each
example. For a linear model f = wᵀx + b it is exact, and the penalty is ridge regression:

    E_ε[½(wᵀ(x + ε) + b − y)²] = ½(wᵀx + b − y)² + σ²/2·‖w‖²      (L2 with λ/m = σ²)

Noise on the weights, W + σ·N, penalizes in the same way the loss's curvature in W (a
preference for flat minima); for a linear model it only adds the constant σ²/2·‖x‖².

The draws: N = √(−2·log(1 − U₁))·cos(2π·U₂) (Box-Muller) from two uniform draws
``rng.random(shape)``, the calls ``compile`` knows how to repeat, so a compiled training step
draws new noise on every replay, the same numbers as the eager step. ``rng`` is a
np.random.RandomState or Generator (default: a new RandomState, as ``Dropout``'s); the last
draw is kept in ``noise`` (std·N, what was added).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function, hooks
from ..factories import default_generator
from ..ops.linalg import linear
from ..tensor import Tensor
from .modules import Linear, Module, Rng


def check_std(std: Any, where: str) -> float:
    if isinstance(std, bool) or not isinstance(std, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: std={std!r} is a {type(std).__name__}; expected a number >= 0.")
    if not 0 <= std < np.inf:  # also catches NaN
        raise ValueError(f"{where}: std={std}; expected a finite number >= 0.")
    return float(std)


def default_rng(rng: Rng | None) -> Rng:
    """The generator to draw from: ``rng``, or the thread's default one (as Dropout)."""
    return default_generator() if rng is None else rng


def standard_normal(rng: Rng, shape: tuple[int, ...]) -> Any:
    """N(0, 1) draws of ``shape`` by Box-Muller from two ``rng.random(shape)`` (while ``compile``
    records, drawn through its recorder, so that every replay draws anew)."""
    recorder = hooks.recorder
    if recorder is None:
        u1, u2 = rng.random(shape), rng.random(shape)
    else:
        u1, u2 = recorder.draw(rng, shape), recorder.draw(rng, shape)
    return np.sqrt(-2 * np.log1p(-u1)) * np.cos(2 * np.pi * u2)  # 1 − U₁ in (0, 1]: finite


class AddGaussianNoise(Function):
    """x + std·N with N ~ N(0, 1) of x's shape, a fresh draw from ``rng`` on every forward."""

    save_inputs, save_out = False, False

    __slots__ = ("noise", "rng", "std")

    def __init__(self, std: float, rng: Rng):
        self.std, self.rng = std, rng

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.noise = (self.std * standard_normal(self.rng, x.shape)).astype(x.dtype, copy=False)
        return x + self.noise

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d(x + std·N)/dx = g"""
        return (g,)


class GaussianNoise(Module):
    """x + std·N in training mode (N standard normal, drawn afresh each call), x in eval mode.

    Put it before a layer to train on noisy copies of its input (on the data itself: first in a
    ``Sequential``). For the squared error, to order σ², the same as the Tikhonov penalty
    σ²/2·‖∂f/∂x‖² (exactly ridge, σ²/2·‖w‖², for a linear model): see the module docstring.
    ``rng``: where the noise is drawn from; the last noise added is kept in ``noise``.
    """

    def __init__(self, std: float, *, rng: Rng | None = None):
        self.std = check_std(std, "GaussianNoise")
        self.rng = default_rng(rng)
        self.noise: np.ndarray | None = None

    def extra_repr(self) -> str:
        return f"std={self.std:g}"

    def forward(self, x: Any) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if hooks.recorder is not None:  # compile replays this path only while they are equal
            hooks.recorder.read_settings(self, ("training", "std"))
        if not self.training or self.std == 0:
            return x
        op = AddGaussianNoise(self.std, self.rng)
        out = op(x)
        self.noise = op.noise
        return out


class WeightNoiseLinear(Linear):
    """A ``Linear`` computing (W + std·N) @ x + b in training mode, N standard normal of W's
    shape drawn afresh each call; W @ x + b in eval mode.

    ``init`` and ``dtype`` as ``Linear``; ``rng`` is one stream for both: the initial W is drawn
    from it first, then the noise, call after call. The gradient of W is that of the noisy
    weights (d(W + std·N)/dW = 1); the last noise added is kept in ``noise``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *,
        std: float,
        init: str = "course",
        rng: Rng | None = None,
        dtype: Any = np.float64,
    ):
        self.std = check_std(std, "WeightNoiseLinear")
        self.rng = default_rng(rng)
        super().__init__(in_features, out_features, init=init, rng=self.rng, dtype=dtype)
        self.noise: np.ndarray | None = None

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, std={self.std:g}"

    def forward(self, x: Any) -> Tensor:
        x = self.checked_input(x)
        if hooks.recorder is not None:
            hooks.recorder.read_settings(self, ("training", "std"))
        if not self.training or self.std == 0:
            return linear(x, self.W, self.b)
        op = AddGaussianNoise(self.std, self.rng)
        noisy_weights = op(self.W)
        self.noise = op.noise
        return linear(x, noisy_weights, self.b)

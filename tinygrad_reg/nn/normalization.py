"""Normalization layers: LayerNorm, BatchNorm1d, BatchNorm2d, as PyTorch's.

Each one shifts and scales its input to mean 0 and variance 1 over some axes, then applies a
learned scale ``weight`` (starting at 1) and shift ``bias`` (starting at 0):

    y = (x − mean) / √(var + eps) · weight + bias,   var the biased variance (divided by n).

LayerNorm takes the mean and variance of each example over its last dimensions; BatchNorm of
each feature (channel) over the examples of the batch, and keeps running averages of them
for evaluation. Both are written with the core's ops (mean, sqrt, division), so first and
second derivatives come from the ops' rules; the cost is a few passes over the input.

Layouts: ``BatchNorm1d`` takes the course layout, X (features, m) with one example per
column, and normalizes each row over the examples axis (axis 1); PyTorch's BatchNorm1d takes
(m, features), the transpose. ``BatchNorm2d`` takes images (N, C, H, W), as PyTorch's, and
normalizes each channel over the examples and pixels. ``LayerNorm`` follows PyTorch (the last
dimensions): for the course layout, normalize each example's features with
``LayerNorm(features)(X.T).T``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import hooks, no_grad
from ..tensor import Tensor
from .modules import Module, _as_tensor, _is_integer


def _positive_number(value: Any, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{where}: {name}={value!r}; expected a number > 0.")
    if not 0 < value < np.inf:
        raise ValueError(f"{where}: {name}={value!r}; expected a number > 0.")
    return float(value)


def normalized(x: Tensor, axes: tuple[int, ...], eps: float) -> tuple[Tensor, Tensor, Tensor]:
    """(x − mean) / √(var + eps) over ``axes``, with the mean and the biased variance."""
    mean = x.mean(axis=axes, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=axes, keepdims=True)
    return centered / (var + eps).sqrt(), mean, var


class LayerNorm(Module):
    """Each example normalized over its last dimensions, ``normalized_shape`` (an int or a
    tuple): ``torch.nn.LayerNorm``. With ``elementwise_affine``, a ``weight`` (ones) and, with
    ``bias``, a ``bias`` (zeros), both of shape ``normalized_shape``, applied elementwise."""

    weight_names = ()  # a scale and a shift, not weights: never decayed

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
    ):
        shape = (normalized_shape,) if _is_integer(normalized_shape) else normalized_shape
        if not (
            isinstance(shape, (tuple, list))
            and shape
            and all(_is_integer(n) and n >= 1 for n in shape)
        ):
            raise ValueError(
                f"LayerNorm: normalized_shape={normalized_shape!r}; expected an integer >= 1 or "
                "a tuple of them (the last dimensions of the input)."
            )
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = _positive_number(eps, "eps", "LayerNorm")
        self.elementwise_affine = elementwise_affine
        affine_bias = elementwise_affine and bias
        self.weight = Tensor(np.ones(self.normalized_shape), True) if elementwise_affine else None
        self.bias = Tensor(np.zeros(self.normalized_shape), True) if affine_bias else None

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps:g}, "
            f"elementwise_affine={self.elementwise_affine}"
        )

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape:
            raise ValueError(
                f"{self!r}: the input has shape {x.shape}; expected it to end in "
                f"{self.normalized_shape}."
            )
        y, _, _ = normalized(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.weight is not None:
            y = y * self.weight
        return y if self.bias is None else y + self.bias


class _BatchNorm(Module):
    """BatchNorm over the examples: what BatchNorm1d and BatchNorm2d share.

    In training mode each feature is normalized with the batch's mean and biased variance,
    and (``track_running_stats``) the running estimates move towards them:
    running = (1 − momentum)·running + momentum·batch, the variance's batch value being the
    unbiased one (n/(n − 1) times the biased), as PyTorch; ``momentum=None`` averages all the
    batches so far instead (1/num_batches_tracked). In eval mode the running estimates are
    used. ``running_mean`` (zeros), ``running_var`` (ones) and ``num_batches_tracked`` are
    buffers: ``state_dict`` saves them (so do checkpoints) and no optimizer sees them. Without
    ``track_running_stats`` there are none, and the batch's statistics are used in both modes.
    With ``affine``, a ``weight`` (ones) and a ``bias`` (zeros) per feature.
    """

    buffer_names = ("running_mean", "running_var", "num_batches_tracked")
    weight_names = ()  # a scale and a shift, not weights: never decayed
    #: The input's number of dimensions, which axis holds the features, and its layout.
    ndim, feature_axis, layout = 2, 0, "(features, m)"

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
    ):
        where = type(self).__name__
        if not (_is_integer(num_features) and num_features >= 1):
            raise ValueError(f"{where}: num_features={num_features!r}; expected an integer >= 1.")
        if momentum is not None and not (
            isinstance(momentum, (int, float, np.integer, np.floating))
            and not isinstance(momentum, bool)
            and 0 <= momentum <= 1
        ):
            raise ValueError(
                f"{where}: momentum={momentum!r}; expected a number in [0, 1] or None."
            )
        self.num_features = int(num_features)
        self.eps = _positive_number(eps, "eps", where)
        self.momentum = momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        features = self.num_features
        self.weight = Tensor(np.ones(features), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(features), requires_grad=True) if affine else None
        tracked = track_running_stats
        self.running_mean = Tensor(np.zeros(features)) if tracked else None
        self.running_var = Tensor(np.ones(features)) if tracked else None
        self.num_batches_tracked = Tensor(np.zeros(())) if tracked else None

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps:g}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )

    def per_feature(self, values: Any) -> Any:
        """A (features,) array or Tensor shaped to broadcast against the input."""
        shape = [1] * self.ndim
        shape[self.feature_axis] = self.num_features
        return values.reshape(*shape)

    def forward(self, x: Any) -> Tensor:
        x = _as_tensor(x)
        if x.ndim != self.ndim or x.shape[self.feature_axis] != self.num_features:
            raise ValueError(
                f"{self!r}: the input has shape {x.shape}; expected {self.layout} with "
                f"{self.num_features} features."
            )
        if hooks.recorder is not None:  # compile replays this path only while they are equal
            hooks.recorder.read_settings(self, ("training", "momentum", "eps"))
        axes = tuple(a for a in range(self.ndim) if a != self.feature_axis)
        if self.training or not self.track_running_stats:
            n = x.size // self.num_features
            if self.training and n == 1:
                raise ValueError(
                    f"{self!r}: the input has shape {x.shape}, one value per feature; expected "
                    "more than one in training mode (there is no variance to normalize by)."
                )
            y, mean, var = normalized(x, axes, self.eps)
            if self.training and self.track_running_stats:
                self.update_running_stats(mean, var, n)
        else:
            mean, var = self.per_feature(self.running_mean), self.per_feature(self.running_var)
            y = (x - mean) / (var + self.eps).sqrt()
        if self.weight is not None:
            y = y * self.per_feature(self.weight) + self.per_feature(self.bias)
        return y

    def update_running_stats(self, mean: Tensor, var: Tensor, n: int) -> None:
        if hooks.recorder is not None:
            raise RuntimeError(
                f"compile: {self!r} updates its running statistics in training mode, which a "
                "replay cannot repeat yet; compile the step with the model in eval mode, with "
                "track_running_stats=False, or call the step without compile."
            )
        with no_grad():
            self.num_batches_tracked.data = self.num_batches_tracked.data + 1
            factor = self.momentum
            if factor is None:  # the cumulative average of all batches so far
                factor = 1 / float(self.num_batches_tracked.data)
            batch_mean = mean.data.reshape(-1)
            batch_var = var.data.reshape(-1) * (n / (n - 1))  # unbiased, as PyTorch keeps
            self.running_mean.data = (1 - factor) * self.running_mean.data + factor * batch_mean
            self.running_var.data = (1 - factor) * self.running_var.data + factor * batch_var


class BatchNorm1d(_BatchNorm):
    """Each feature (row) of X (features, m), the course layout, normalized over the examples
    (axis 1): ``torch.nn.BatchNorm1d`` applied to X.T. Running statistics, momentum, affine and
    train/eval as the base class says."""


class BatchNorm2d(_BatchNorm):
    """Each channel of images (N, C, H, W) normalized over the examples and the pixels:
    ``torch.nn.BatchNorm2d``. Running statistics, momentum, affine and train/eval as the base
    class says."""

    ndim, feature_axis, layout = 4, 1, "(N, C, H, W)"

"""Convolution and pooling layers over image batches (N, C, H, W) or one image (C, H, W), as
PyTorch's.

Each layer keeps its settings, checks them once when it is built, and calls the function of
``ops/conv.py`` (``conv2d``, ``max_pool2d``, ``avg_pool2d``), where the work and its cost are
described: the image is unfolded into its kh x kw windows (im2col) and the windows are
multiplied by the weights (one einsum) or reduced (a max, a mean).

Images keep PyTorch's layout, (N, C, H, W): one image per row of the first axis, not the
course's one example per column. Flatten the last layer's output to (features, m) with
``out.reshape(m, -1).T`` before a ``Linear``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..factories import default_generator
from ..ops.conv import Pair, as_pair, avg_pool2d, conv2d, max_pool2d
from ..tensor import Tensor
from .modules import Module, Rng, _as_tensor, _is_integer


def _checked_size(value: Any, name: str, where: str) -> int:
    if not (_is_integer(value) and value >= 1):
        raise ValueError(f"{where}: {name}={value!r}; expected an integer >= 1.")
    return int(value)


def _padding(value: Any, where: str) -> Pair | str:
    return value if value in ("valid", "same") else as_pair(value, "padding", where, smallest=0)


def _image_batch(module: Module, x: Any, channels: int | None = None) -> Tensor:
    """x as a Tensor of shape (N, C, H, W), or one image (C, H, W), with C = ``channels`` (any
    C if None)."""
    x = _as_tensor(x)
    if x.ndim not in (3, 4) or (channels is not None and x.shape[-3] != channels):
        c = "C" if channels is None else channels
        raise ValueError(
            f"{module!r}: the input has shape {x.shape}; expected (N, {c}, H, W) or ({c}, H, W)."
        )
    return x


def _named(module: Module, error: ValueError) -> ValueError:
    """The function's error, prefixed with the layer that called it."""
    return ValueError(f"{module!r}: {error}")


class Conv2d(Module):
    """The 2-D cross-correlation of (N, in_channels, H, W) images with out_channels kernels of
    in_channels/groups x kh x kw, plus a bias per output channel: ``torch.nn.Conv2d``.

    ``kernel_size``, ``stride``, ``dilation``: an int or a pair (rows, columns); ``padding``: an
    int, a pair, "valid" (none) or "same" (the output as large as the input; stride 1). With
    ``groups`` = G, the channels are split into G groups, each with its own kernels. The output
    is (N, out_channels, oh, ow), oh = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1.

    Parameters ``weight`` (out_channels, in_channels/groups, kh, kw) and ``bias``
    (out_channels,), both uniform on ±1/√fan_in with fan_in = in_channels/groups·kh·kw:
    PyTorch's default (kaiming-uniform with a = √5, and its bias rule), drawn from ``rng`` (a
    np.random.RandomState or Generator; the thread's default if None), the weight first.

    Cost per forward: the windows take N·C·kh·kw·oh·ow numbers (kh·kw copies of the image at
    stride 1) and the product N·out_channels·oh·ow·(C/groups)·kh·kw multiply-adds; backward
    costs about twice that. ``weight`` is a weight for the penalties, max-norm and the
    no-decay split (``weight_names``); ``bias`` is not.
    """

    weight_names = ("weight",)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        *,
        rng: Rng | None = None,
    ):
        where = "Conv2d"
        self.in_channels = _checked_size(in_channels, "in_channels", where)
        self.out_channels = _checked_size(out_channels, "out_channels", where)
        self.groups = _checked_size(groups, "groups", where)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{where}: groups={groups} with in_channels={in_channels} and out_channels="
                f"{out_channels}; expected groups dividing both."
            )
        self.kernel_size = as_pair(kernel_size, "kernel_size", where)
        self.stride = as_pair(stride, "stride", where)
        self.padding = _padding(padding, where)
        self.dilation = as_pair(dilation, "dilation", where)
        if self.padding == "same" and self.stride != (1, 1):
            raise ValueError(f"{where}: padding='same' needs stride 1, not {self.stride}.")
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        rng = default_generator() if rng is None else rng
        self.weight = Tensor(rng.uniform(-bound, bound, shape), requires_grad=True)
        self.bias = (
            Tensor(rng.uniform(-bound, bound, out_channels), requires_grad=True) if bias else None
        )

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
        text += f", stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text if self.bias is not None else text + ", bias=False"

    def forward(self, x: Any) -> Tensor:
        x = _image_batch(self, x, self.in_channels)
        settings = (self.stride, self.padding, self.dilation, self.groups)
        try:
            return conv2d(x, self.weight, self.bias, *settings)
        except ValueError as error:  # the image is smaller than the kernel
            raise _named(self, error) from None


class _Pool2d(Module):
    """What the pooling layers share: their settings, checked once, and their repr."""

    def __init__(self, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool):
        where = type(self).__name__
        self.kernel_size = as_pair(kernel_size, "kernel_size", where)
        self.stride = self.kernel_size if stride is None else as_pair(stride, "stride", where)
        self.padding = as_pair(padding, "padding", where, smallest=0)  # at most half a kernel
        self.ceil_mode = bool(ceil_mode)

    def extra_repr(self) -> str:
        text = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return f"{text}, ceil_mode=True" if self.ceil_mode else text


class MaxPool2d(_Pool2d):
    """The largest value of each kh x kw window, per channel: ``torch.nn.MaxPool2d``. The
    stride defaults to the kernel size (windows side by side); padding adds −inf. The gradient
    goes to the largest element of each window (the first one on a tie). ``ceil_mode`` rounds
    the output size up, as PyTorch: the last windows may overhang the (padded) image."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        *,
        ceil_mode: bool = False,  # keyword-only: torch's MaxPool2d has return_indices before it
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation = as_pair(dilation, "dilation", "MaxPool2d")

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.dilation == (1, 1) else f"{text}, dilation={self.dilation}"

    def forward(self, x: Any) -> Tensor:
        x = _image_batch(self, x)
        try:
            settings = (self.stride, self.padding, self.dilation, self.ceil_mode)
            return max_pool2d(x, self.kernel_size, *settings)
        except ValueError as error:
            raise _named(self, error) from None


class AvgPool2d(_Pool2d):
    """The mean of each kh x kw window, per channel: ``torch.nn.AvgPool2d``. The padded zeros
    count in the mean with ``count_include_pad`` (the default), not without; ``ceil_mode`` as
    MaxPool2d's (an overhanging window's mean is over its elements inside the padded image).
    The stride defaults to the kernel size; each pixel's gradient is the sum of g/divisor over
    the windows it is in."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad = bool(count_include_pad)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.count_include_pad else f"{text}, count_include_pad=False"

    def forward(self, x: Any) -> Tensor:
        x = _image_batch(self, x)
        try:
            settings = (self.stride, self.padding, self.ceil_mode, self.count_include_pad)
            return avg_pool2d(x, self.kernel_size, *settings)
        except ValueError as error:
            raise _named(self, error) from None

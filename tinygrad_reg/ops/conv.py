"""2-D convolution and pooling over image batches (N, C, H, W), as PyTorch's.

Everything is built on one pair of ops. ``Unfold`` (im2col) lays every kh x kw window of the
image out on axes of its own, (N, C, H, W) → (N, C, kh, kw, oh, ow): out[n, c, i, j, p, q] =
x[n, c, p·stride + i·dilation, q·stride + j·dilation]. Its gradient is ``Fold``, which adds
each window's gradient back onto the pixels it was read from (a pixel in several windows gets
the sum), and Fold's gradient is Unfold, so second derivatives come from the same two ops.

Then a convolution is a matrix product: each image's windows, reshaped to a matrix with one
column per output pixel, multiplied by the kernels, one row each, sums over channels and
window positions; max pooling gathers the largest element of each window (the gradient goes
to it, the first one on a tie, as PyTorch); average pooling is a mean over the window.

Cost: the windows hold kh·kw copies of the image, N·C·kh·kw·oh·ow numbers (9x the input for
a 3 x 3 kernel at stride 1), and the product does N·O·oh·ow·(C/groups)·kh·kw multiply-adds,
as the convolution itself, in BLAS (``np.matmul``, one product per image and group; an
``einsum`` of the strided windows measured about 6x slower on the digits CNN's shapes).
Readable rather than fast: a direct or FFT convolution avoids the copies.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .arrange import pad
from .helpers import is_axis
from .index import gather
from .linalg import matmul
from .shape import as_tensor

Pair = tuple[int, int]


class Unfold(Function):
    """the kh x kw windows of x (N, C, H, W), every stride-th, dilated: (N, C, kh, kw, oh, ow)"""

    __slots__ = ("dilation", "kernel", "shape", "stride")
    save_inputs, save_out = False, False
    expects = "an image batch (N, C, H, W) at least as large as the dilated kernel"

    def __init__(self, kernel: Pair, stride: Pair, dilation: Pair):
        self.kernel, self.stride, self.dilation = kernel, stride, dilation

    def forward(self, x: np.ndarray) -> np.ndarray:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        self.shape = x.shape
        span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)  # the window, dilation's gaps included
        windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
        windows = windows[:, :, ::sh, ::sw, ::dh, ::dw]  # (N, C, oh, ow, kh, kw): a view
        return windows.transpose(0, 1, 4, 5, 2, 3)

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d unfold(x)/dx = fold(g): each window's gradient added back onto its pixels"""
        return (fold(g, self.shape, self.kernel, self.stride, self.dilation),)


class Fold(Function):
    """the adjoint of Unfold: windows (N, C, kh, kw, oh, ow) added onto an image of ``shape``"""

    __slots__ = ("dilation", "kernel", "shape", "stride")
    save_inputs, save_out = False, False

    def __init__(self, shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair):
        self.shape, self.kernel, self.stride, self.dilation = shape, kernel, stride, dilation

    def forward(self, windows: np.ndarray) -> np.ndarray:
        (kh, kw), (sh, sw), (dh, dw) = self.kernel, self.stride, self.dilation
        oh, ow = windows.shape[-2:]
        image = np.zeros_like(windows, shape=self.shape, order="C")  # compile records it
        for i in range(kh):  # one strided slice of the image per kernel position
            for j in range(kw):
                rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
                cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
                np.add(image[:, :, rows, cols], windows[:, :, i, j], out=image[:, :, rows, cols])
        return image

    def backward(self, gg: Any, out: Any, windows: Any) -> tuple[Any, ...]:
        """d fold(w)/dw = unfold(gg): each window reads back the gradient of its pixels"""
        return (unfold(gg, self.kernel, self.stride, self.dilation),)


def unfold(x: Any, kernel: Pair, stride: Pair, dilation: Pair) -> Any:
    """Unfold for numpy arrays and Tensors alike (Fold's rule runs on either)."""
    if isinstance(x, Tensor):
        return Unfold(kernel, stride, dilation)(x)
    return Unfold(kernel, stride, dilation).forward(x)


def fold(g: Any, shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair) -> Any:
    """Fold for numpy arrays and Tensors alike (Unfold's rule runs on either)."""
    if isinstance(g, Tensor):
        return Fold(shape, kernel, stride, dilation)(g)
    return Fold(shape, kernel, stride, dilation).forward(g)


def as_pair(value: Any, name: str, where: str, smallest: int = 1) -> Pair:
    """An int or a pair of ints, each >= smallest, as (for rows, for columns)."""
    pair = (value, value) if is_axis(value) else value
    pair = tuple(pair) if isinstance(pair, (tuple, list)) else ()
    if len(pair) != 2 or not all(is_axis(v) and v >= smallest for v in pair):
        raise ValueError(
            f"{where}: {name}={value!r}; expected an int >= {smallest} or a pair of them."
        )
    return int(pair[0]), int(pair[1])


def window_settings(
    shape: tuple[int, ...],
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    where: str,
    pooling: bool = False,
    ceil_mode: bool = False,
) -> tuple[Pair, Pair, Pair, tuple[Pair, Pair], Pair]:
    """The kernel, stride and dilation as pairs, the (before, after) padding of the rows and
    the columns, and the extra rows and columns that ``ceil_mode`` adds after them (padding
    too, where the last windows overhang). Pooling pads at most half the dilated kernel, as
    PyTorch: a window of padding alone pools no pixel."""
    if len(shape) != 4:
        raise ValueError(
            f"{where}: the input has shape {shape}; expected (N, C, H, W) or (C, H, W)."
        )
    kernel = as_pair(kernel, "kernel_size", where)
    stride = kernel if stride is None else as_pair(stride, "stride", where)
    dilation = as_pair(dilation, "dilation", where)
    if padding == "valid":
        widths = ((0, 0), (0, 0))
    elif padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{where}: padding='same' needs stride 1, not {stride}.")
        total = [d * (k - 1) for d, k in zip(dilation, kernel)]
        widths = tuple((t // 2, t - t // 2) for t in total)
    else:
        widths = tuple((p, p) for p in as_pair(padding, "padding", where, smallest=0))
    sizes = [n + a + b for n, (a, b) in zip(shape[2:], widths)]
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if pooling and any(a > span // 2 for (a, _), span in zip(widths, spans)):
        raise ValueError(
            f"{where}: padding={padding!r} with a kernel spanning {spans[0]} x {spans[1]}; "
            "expected at most half the kernel on each side."
        )
    if sizes[0] < spans[0] or sizes[1] < spans[1]:
        raise ValueError(
            f"{where}: the padded input is {sizes[0]} x {sizes[1]}, smaller than the dilated "
            f"kernel {spans[0]} x {spans[1]}; expected a larger image, more padding or a smaller "
            "kernel."
        )
    extra = [0, 0]
    for d in (0, 1) if ceil_mode else ():
        windows = -(-(sizes[d] - spans[d]) // stride[d]) + 1  # ⌈(size − span)/stride⌉ + 1
        if (windows - 1) * stride[d] >= shape[2 + d] + widths[d][0]:
            windows -= 1  # PyTorch: the last window must start inside the image or its padding
        extra[d] = max(0, (windows - 1) * stride[d] + spans[d] - sizes[d])
    for d in (0, 1) if pooling else ():
        if dilation[d] > 1:  # without gaps, padding <= half the span keeps a pixel in each window
            refuse_windows_of_padding_alone(
                d, shape[2 + d], kernel, stride, dilation, widths, extra, where
            )
    return kernel, stride, dilation, widths, (extra[0], extra[1])


def refuse_windows_of_padding_alone(
    d: int,
    size: int,
    kernel: Pair,
    stride: Pair,
    dilation: Pair,
    widths: tuple[Pair, Pair],
    extra: list[int],
    where: str,
) -> None:
    """A dilated window can step over every pixel of a small image and read padding alone:
    its max would be -inf (PyTorch then returns -inf with a gradient on some pixel). Refuse."""
    span = dilation[d] * (kernel[d] - 1) + 1
    padded = size + widths[d][0] + widths[d][1] + extra[d]
    starts = np.arange(0, padded - span + 1, stride[d]) - widths[d][0]  # in image coordinates
    taps = starts[:, None] + dilation[d] * np.arange(kernel[d])
    empty = ~((taps >= 0) & (taps < size)).any(axis=1)
    if empty.any():
        axis, extent = ("row", "height") if d == 0 else ("column", "width")
        first = int(np.argmax(empty))
        raise ValueError(
            f"{where}: the window at output {axis} {first} reads only padding ({axis}s "
            f"{taps[first].tolist()} of an image of {extent} {size}, with dilation {dilation} "
            f"and padding {widths[d][0]}); expected every window to hold a pixel: less padding "
            "or dilation, or a larger image."
        )


def windows_of(
    x: Tensor,
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    where: str,
    fill: float,
    pooling: bool = False,
    ceil_mode: bool = False,
) -> Tensor:
    """x (N, C, H, W) padded with ``fill`` and unfolded: (N, C, kh, kw, oh, ow)."""
    settings = window_settings(
        x.shape, kernel, stride, padding, dilation, where, pooling, ceil_mode
    )
    kernel, stride, dilation, widths, extra = settings
    widths = tuple((a, b + e) for (a, b), e in zip(widths, extra))
    if any(a or b for a, b in widths):
        x = pad(x, ((0, 0), (0, 0), *widths), value=fill)
    return Unfold(kernel, stride, dilation)(x)


def batched(x: Any) -> tuple[Tensor, bool]:
    """x as a Tensor, an unbatched image (C, H, W) as a batch of one, and whether it was one."""
    x = as_tensor(x)
    return (x[None], True) if x.ndim == 3 else (x, False)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    stride: Any = 1,
    padding: Any = 0,
    dilation: Any = 1,
    groups: int = 1,
) -> Tensor:
    """The 2-D cross-correlation of x (N, C, H, W) with weight (O, C/groups, kh, kw), plus bias
    (O,), as ``torch.nn.functional.conv2d``: out (N, O, oh, ow) (for one image (C, H, W),
    (O, oh, ow)) with
    oh = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1 (ow alike). ``padding`` is an
    int, a pair, "valid" (0) or "same" (stride 1); with groups = G, each of G groups of C/G
    input channels makes O/G output channels. Gradients flow through Unfold and matmul."""
    (x, unbatched), weight = batched(x), as_tensor(weight)
    where = "conv2d"
    if weight.ndim != 4:
        raise ValueError(
            f"{where}: weight has shape {weight.shape}; expected (O, C/groups, kh, kw)."
        )
    out_channels, per_group, kh, kw = weight.shape
    if (
        not is_axis(groups)
        or groups < 1
        or out_channels % groups
        or x.ndim != 4
        or (x.shape[1] != per_group * groups)
    ):
        raise ValueError(
            f"{where}: input {x.shape}, weight {weight.shape}, groups={groups!r}; expected input "
            "(N, C, H, W) or (C, H, W) and weight (O, C/groups, kh, kw), groups dividing C and O."
        )
    windows = windows_of(x, (kh, kw), stride, padding, dilation, where, 0.0)
    n, _, _, _, oh, ow = windows.shape
    # im2col: each group's windows as the columns of a (C/groups·kh·kw, oh·ow) matrix per image
    # (the reshape copies the strided view once), then one matrix product per image and group
    columns = windows.reshape(n, groups, per_group * kh * kw, oh * ow)
    kernels = weight.reshape(groups, out_channels // groups, per_group * kh * kw)
    out = matmul(kernels, columns).reshape(n, out_channels, oh, ow)
    if bias is not None:
        bias = out._operand(bias)
        if bias.shape != (out_channels,):
            raise ValueError(f"{where}: bias has shape {bias.shape}; expected ({out_channels},).")
        out = out + bias.reshape(1, out_channels, 1, 1)
    return out[0] if unbatched else out


def max_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
) -> Tensor:
    """The largest element of each window, as ``torch.nn.functional.max_pool2d``, of x
    (N, C, H, W) or (C, H, W). The stride defaults to the kernel size; padding adds -inf;
    ``ceil_mode`` rounds the output size up (oh = ⌈(H + 2·padding − span)/stride⌉ + 1, less a
    last window that would start in the padding after the image). The gradient goes to that
    element, the first in the window on a tie."""
    x, unbatched = batched(x)
    windows = windows_of(
        x, kernel_size, stride, padding, dilation, "max_pool2d", -np.inf, True, ceil_mode
    )
    n, c, kh, kw, oh, ow = windows.shape
    flat = windows.reshape(n, c, kh * kw, oh, ow)
    largest = np.argmax(flat.data, axis=2)[:, :, None]
    out = gather(flat, 2, largest).reshape(n, c, oh, ow)
    return out[0] if unbatched else out


def avg_pool2d(
    x: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``, of x (N, C, H, W) or
    (C, H, W). The stride defaults to the kernel size; ``ceil_mode`` as max_pool2d's. The mean
    divides by the number of the window's elements inside the zero-padded image
    (``count_include_pad=True``, every kh·kw but where a ceil_mode window overhangs) or inside
    the image alone (False). Each pixel's gradient is the sum of g/divisor of its windows."""
    x, unbatched = batched(x)
    where = "avg_pool2d"
    settings = window_settings(x.shape, kernel_size, stride, padding, 1, where, True, ceil_mode)
    kernel, stride, _, widths, extra = settings
    windows = windows_of(x, kernel, stride, padding, 1, where, 0.0, True, ceil_mode)
    if count_include_pad and extra == (0, 0):
        out = windows.mean(axis=(2, 3))
    else:  # count, for each window, the pixels (padded or not) that count in its mean
        (top, bottom), (left, right) = widths
        height, width = x.shape[2:]
        counted = np.zeros(
            (1, 1, top + height + bottom + extra[0], left + width + right + extra[1])
        )
        if count_include_pad:
            counted[:, :, : top + height + bottom, : left + width + right] = 1.0
        else:
            counted[:, :, top : top + height, left : left + width] = 1.0
        divisor = Unfold(kernel, stride, (1, 1)).forward(counted).sum(axis=(2, 3))
        out = windows.sum(axis=(2, 3)) / divisor.astype(x.dtype)
    return out[0] if unbatched else out

"""Conv2d, MaxPool2d, AvgPool2d (NCHW, or one CHW image) against torch.nn's layers with the same
weights: values, input/weight/bias gradients and second derivatives, over drawn sizes and settings
(ceil_mode, count_include_pad); the tie
rule of max pooling; and the errors a bad input gets."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import floats, grid, seeds
from torch_twin import assert_layer_matches_torch

from tinygrad_reg import Tensor
from tinygrad_reg.nn import AvgPool2d, Conv2d, MaxPool2d

pairs = st.tuples(st.integers(1, 3), st.integers(1, 3))
small_pairs = st.tuples(st.integers(1, 2), st.integers(1, 2))


def image_side(data, span: int, padding: int) -> int:
    """A height or width for which the padded image holds the dilated kernel at least once."""
    return data.draw(st.integers(max(1, span - 2 * padding), span + 3))


@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_conv2d_matches_torch(data, seed):
    groups = data.draw(st.integers(1, 2))
    c_in, c_out = (groups * data.draw(st.integers(1, 2)) for _ in range(2))
    kernel, stride, dilation = data.draw(pairs), data.draw(small_pairs), data.draw(small_pairs)
    choices = [st.tuples(st.integers(0, 2), st.integers(0, 2)), st.just("valid")]
    padding = data.draw(st.one_of(*choices, *[st.just("same")] * (stride == (1, 1))))
    widths = (0, 0) if isinstance(padding, str) else padding  # "same" fits any size: 0 will do
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    h, w = (image_side(data, s, p) for s, p in zip(spans, widths))
    batch = () if data.draw(st.booleans()) else (data.draw(st.integers(1, 2)),)  # () unbatched
    x = data.draw(floats((*batch, c_in, h, w)))
    settings_ = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    bias = data.draw(st.booleans())
    ours = Conv2d(c_in, c_out, kernel, **settings_, bias=bias, rng=np.random.default_rng(seed))
    theirs = torch.nn.Conv2d(c_in, c_out, kernel, **settings_, bias=bias)
    assert_layer_matches_torch(ours, theirs, x, seed)


def any_window_of_padding_alone(size, output_size, kernel, stride, padding, dilation) -> bool:
    """Whether a window, of those torch lays out, skips every pixel (in the rows or columns)."""
    stride = kernel if stride is None else stride
    return any(
        not any(0 <= p * s - pad + i * d < n for i in range(k))
        for n, out, k, s, pad, d in zip(size, output_size, kernel, stride, padding, dilation)
        for p in range(out)
    )


@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_pooling_matches_torch(data, seed):
    kernel, dilation = data.draw(pairs), data.draw(small_pairs)
    stride = data.draw(st.none() | small_pairs)
    spans = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    batch = () if data.draw(st.booleans()) else (data.draw(st.integers(1, 2)),)  # () unbatched
    # torch pads at most half the kernel (some of its paths half the dilated kernel, as ours)
    padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    h, w = (image_side(data, s, p) for s, p in zip(spans, padding))
    channels, ceil_mode = data.draw(st.integers(1, 2)), data.draw(st.booleans())
    x = data.draw(grid((*batch, channels, h, w), unique=True))  # no ties inside a window
    options = (kernel, stride, padding, dilation)
    ours, theirs = (
        MaxPool2d(*options, ceil_mode=ceil_mode),
        torch.nn.MaxPool2d(*options, ceil_mode=ceil_mode),
    )
    output_size = theirs(torch.tensor(x)).shape[-2:]
    if any_window_of_padding_alone(x.shape[-2:], output_size, kernel, stride, padding, dilation):
        with pytest.raises(ValueError, match="reads only padding"):
            ours(x)  # where torch returns -inf with a gradient on some pixel
    else:
        assert_layer_matches_torch(ours, theirs, x, seed)
    # AvgPool2d has no dilation; the padded zeros count in the mean with count_include_pad
    avg_padding = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    h, w = (image_side(data, k, p) for k, p in zip(kernel, avg_padding))
    x = data.draw(floats((*batch, channels, h, w)))
    options = (kernel, stride, avg_padding, ceil_mode, data.draw(st.booleans()))
    assert_layer_matches_torch(AvgPool2d(*options), torch.nn.AvgPool2d(*options), x, seed)


def test_a_dilated_max_pool2d_window_that_reads_only_padding_is_an_error():
    # one pixel, padded by one on each side; a window of two taps two apart reads both pads
    pool = MaxPool2d((1, 2), padding=(0, 1), dilation=(1, 2))
    with pytest.raises(ValueError, match=r"output column 0 reads only padding \(columns \[-1, 1\]"):
        pool(np.array([[[0.0]], [[0.01]]]))
    assert (
        torch.nn.MaxPool2d((1, 2), padding=(0, 1), dilation=(1, 2))(torch.zeros(2, 1, 1))
        .isinf()
        .all()
    )


def test_max_pool2d_tie_sends_the_gradient_to_the_first_largest_element():
    # each 2 x 2 window of this image holds its largest value twice
    x = np.array([[0.0, 5.0, 1.0, 1.0], [5.0, 2.0, 0.0, 1.0]]).reshape(1, 1, 2, 4)
    g = np.array([2.0, 3.0]).reshape(1, 1, 1, 2)
    image = Tensor(x, requires_grad=True)
    MaxPool2d(2)(image).backward(g)
    # the first in row-major order: (0, 1) in the left window, (0, 2) in the right one
    expected = np.zeros_like(x)
    expected[0, 0, 0, 1], expected[0, 0, 0, 2] = 2.0, 3.0
    np.testing.assert_array_equal(image.grad, expected)
    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.max_pool2d(t, 2).backward(torch.tensor(g))
    np.testing.assert_array_equal(image.grad, t.grad.numpy())  # and so does PyTorch on CPU


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (Conv2d(3, 4, 3), (2, 3, 8), r"Conv2d\(3, 4, .*\(2, 3, 8\); expected \(N, 3, H, W\)"),
        (Conv2d(3, 4, 3), (2, 2, 8, 8), r"Conv2d\(3, 4, .*\(2, 2, 8, 8\); expected \(N, 3, H, W\)"),
        (Conv2d(1, 1, 5), (1, 1, 3, 3), r"Conv2d\(1, 1, .*padded input is 3 x 3, smaller than"),
        (MaxPool2d(2), (4, 4), r"MaxPool2d\(kernel_size=\(2, 2\).*\(4, 4\); expected \(N, C"),
        (MaxPool2d(3), (1, 1, 2, 2), r"MaxPool2d\(.*padded input is 2 x 2, smaller than"),
        (AvgPool2d(2), (1, 1, 1, 4, 4), r"AvgPool2d\(.*\(1, 1, 1, 4, 4\); expected \(N, C, H, W\)"),
        (AvgPool2d(2, padding=2), (1, 1, 4, 4), r"AvgPool2d\(.*padding=.*at most half"),
    ],
)
def test_bad_input_is_an_error_naming_the_layer_and_the_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.ones(shape))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Conv2d(3, 4, 3, groups=2), "Conv2d: groups=2 .*expected groups dividing both"),
        (lambda: Conv2d(3, 4, 0), r"Conv2d: kernel_size=0; expected an int >= 1"),
        (lambda: Conv2d(3, 4, 3, stride=2, padding="same"), "Conv2d: padding='same' needs"),
        (lambda: MaxPool2d((2, 2, 2)), r"MaxPool2d: kernel_size=\(2, 2, 2\); expected"),
    ],
)
def test_bad_settings_are_errors_naming_the_layer(build, message):
    with pytest.raises(ValueError, match=message):
        build()

"""conv2d, max_pool2d, avg_pool2d (NCHW, or one CHW image): values and first and second
derivatives against PyTorch over drawn strides, paddings, dilations, groups, ceil_mode and
count_include_pad."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import floats, grid, seeds
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor
from tinygrad_reg.ops.conv import avg_pool2d, conv2d, max_pool2d


@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_conv2d_as_torch(data, seed):
    groups = data.draw(st.integers(1, 2))
    c, o = groups * data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    kh, kw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    stride, padding, dilation = (data.draw(st.integers(1, 2)) for _ in range(3))
    padding -= 1
    h = data.draw(st.integers(dilation * (kh - 1) + 1, 6))
    w = data.draw(st.integers(dilation * (kw - 1) + 1, 6))
    batch = () if data.draw(st.booleans()) else (data.draw(st.integers(1, 2)),)  # () unbatched
    x = data.draw(floats((*batch, c, h, w)))
    weight, bias = data.draw(floats((o, c // groups, kh, kw))), data.draw(floats((o,)))
    options = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    assert_matches_torch(
        lambda *t: conv2d(*t, **options),
        lambda *t: torch.nn.functional.conv2d(*t, **options),
        [x, weight, bias],
        seed,
    )


@settings(max_examples=15)
@given(data=st.data(), seed=seeds)
def test_pooling_as_torch(data, seed):
    k, stride = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    padding = data.draw(st.integers(0, k // 2))
    side = data.draw(st.integers(k, 6))
    batch = () if data.draw(st.booleans()) else (data.draw(st.integers(1, 2)),)  # () unbatched
    x = data.draw(grid((*batch, 2, side, side), unique=True))
    ceil_mode, count_include_pad = data.draw(st.booleans()), data.draw(st.booleans())
    assert_matches_torch(
        lambda t: max_pool2d(t, k, stride, padding, 1, ceil_mode),
        lambda t: torch.nn.functional.max_pool2d(t, k, stride, padding, 1, ceil_mode),
        [x],
        seed,
    )
    options = (k, stride, padding, ceil_mode, count_include_pad)
    assert_matches_torch(
        lambda t: avg_pool2d(t, *options),
        lambda t: torch.nn.functional.avg_pool2d(t, *options),
        [x],
        seed,
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda x: conv2d(x, np.ones((1, 1, 5, 5))), "conv2d: the padded input is 3 x 3"),
        (lambda x: conv2d(x, np.ones((1, 2, 1, 1))), "conv2d: input"),
        (lambda x: max_pool2d(x[0, 0], 2), r"max_pool2d: the input has shape \(3, 3\)"),
        (lambda x: conv2d(x, np.ones((1, 1, 1, 1)), stride=0), "conv2d: stride=0"),
        (lambda x: max_pool2d(x, 2, padding=2), "max_pool2d: padding=2 .* at most half"),
        (lambda x: avg_pool2d(x, 3, padding=2), "avg_pool2d: padding=2 .* at most half"),
    ],
)
def test_bad_shapes_are_errors_naming_the_function(call, message):
    with pytest.raises(ValueError, match=message):
        call(Tensor(np.ones((1, 1, 3, 3))))

"""nn.init against torch.nn.init: gains and fans exactly; the random fills by their bounds
(uniform) and by their sample standard deviation (normal), within what the sample size allows;
every fill is a new array of the parameter's dtype, the old array untouched."""

import math

import numpy as np
import pytest
import torch

import tinygrad_reg as tg
from tinygrad_reg.nn import init

SHAPES = [(200, 100), (64, 32, 3, 3), (40, 30, 5)]  # Linear's W, a conv2d and a conv1d weight


@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        *[(name, None) for name in init.GAINS],
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", 3),
    ],
)
def test_calculate_gain_is_torchs(nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    assert init.calculate_gain(nonlinearity, param) == expected


@pytest.mark.parametrize("nonlinearity, param", [("swish", None), ("leaky_relu", True)])
def test_calculate_gain_refuses_what_torch_refuses(nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="calculate_gain: "):
        init.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("shape", [*SHAPES, (3, 2), (2, 3, 1, 4, 5)])
def test_fans_are_torchs(shape):
    expected = torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert init.calculate_fan_in_and_fan_out(tg.zeros(shape)) == expected


def test_a_vector_has_no_fans():
    with pytest.raises(ValueError, match=r"shape \(5,\) has no fans; expected at least 2"):
        init.xavier_uniform_(tg.zeros(5))


def _fills(name, **kwargs):
    return (
        lambda t, generator=None: getattr(init, name)(t, **kwargs, generator=generator),
        lambda t: getattr(torch.nn.init, name)(t, **kwargs),
    )


UNIFORM = {
    "uniform_(a=-2, b=3)": _fills("uniform_", a=-2.0, b=3.0),
    "xavier_uniform_(gain=2)": _fills("xavier_uniform_", gain=2.0),
    "kaiming_uniform_()": _fills("kaiming_uniform_"),
    "kaiming_uniform_(a=√5)": _fills("kaiming_uniform_", a=math.sqrt(5)),
    "kaiming_uniform_(fan_out, relu)": _fills(
        "kaiming_uniform_", mode="fan_out", nonlinearity="relu"
    ),
}
NORMAL = {
    "normal_(mean=1, std=3)": _fills("normal_", mean=1.0, std=3.0),
    "xavier_normal_(gain=5/3)": _fills("xavier_normal_", gain=5 / 3),
    "kaiming_normal_()": _fills("kaiming_normal_"),
    "kaiming_normal_(fan_out, relu)": _fills(
        "kaiming_normal_", mode="fan_out", nonlinearity="relu"
    ),
    "kaiming_normal_(a=0.1, tanh)": _fills("kaiming_normal_", a=0.1, nonlinearity="tanh"),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fill", UNIFORM.values(), ids=UNIFORM.keys())
def test_uniform_fills_cover_torchs_interval(fill, shape):
    ours, theirs = fill
    values = ours(tg.zeros(shape), np.random.default_rng(0)).data
    expected = theirs(torch.empty(shape, dtype=torch.float64)).numpy()
    n = values.size
    # n uniform draws all miss the last fraction 20/n of either end with probability ~e^-20
    slack = 20 / n * (expected.max() - expected.min())
    for sample in (values, expected):
        assert sample.min() >= expected.min() - slack and sample.max() <= expected.max() + slack
    assert values.min() <= expected.min() + slack and values.max() >= expected.max() - slack


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fill", NORMAL.values(), ids=NORMAL.keys())
def test_normal_fills_have_torchs_mean_and_std(fill, shape):
    ours, theirs = fill
    values = ours(tg.zeros(shape), np.random.default_rng(0)).data
    expected = theirs(torch.empty(shape, dtype=torch.float64)).numpy()
    n = values.size
    # a sample std has standard error ≈ std/√(2n), so the difference of two has std/√n;
    # a sample mean, std/√n, the difference √2·std/√n: 6 of them fail with probability ~1e-9
    std = expected.std()
    assert abs(values.std() - std) <= 6 * std / math.sqrt(n)
    assert abs(values.mean() - expected.mean()) <= 6 * math.sqrt(2) * std / math.sqrt(n)


def test_constant_zeros_ones_are_torchs():
    for name, args in [("constant_", (2.5,)), ("zeros_", ()), ("ones_", ())]:
        ours = getattr(init, name)(tg.randn(3, 4, rng=0), *args)
        theirs = getattr(torch.nn.init, name)(torch.empty(3, 4, dtype=torch.float64), *args)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_fill_assigns_a_new_array_of_the_parameters_dtype(dtype):
    layer = tg.nn.Linear(4, 3, dtype=dtype)
    old = layer.W.data
    before = old.copy()
    returned = init.kaiming_normal_(layer.W, nonlinearity="relu")
    assert returned is layer.W and layer.W.dtype == dtype and layer.W.requires_grad
    assert layer.W.data is not old and not layer.W.data.flags.writeable
    np.testing.assert_array_equal(old, before)  # graphs that saw it keep their values


def test_random_fills_draw_from_the_generator_or_the_threads_default():
    a = init.xavier_normal_(tg.zeros(5, 4), generator=np.random.default_rng(3)).data
    b = init.xavier_normal_(tg.zeros(5, 4), generator=np.random.default_rng(3)).data
    np.testing.assert_array_equal(a, b)
    tg.manual_seed(3)
    c = init.xavier_normal_(tg.zeros(5, 4)).data
    np.testing.assert_array_equal(c, a)


def test_kaiming_leaves_an_empty_tensor_and_refuses_a_bad_mode():
    empty = tg.zeros(0, 3)
    assert init.kaiming_uniform_(empty) is empty and empty.shape == (0, 3)
    with pytest.raises(ValueError, match=r"kaiming_normal_: mode='fan'; expected 'fan_in' or"):
        init.kaiming_normal_(tg.zeros(3, 2), mode="fan")
    with pytest.raises(TypeError, match=r"uniform_: got a ndarray; expected a Tensor"):
        init.uniform_(np.zeros(3))

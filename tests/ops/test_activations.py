"""leaky_relu softplus elu gelu silu log_sigmoid: gradients of both orders, values against the
formulas (gelu against math.erf), kinks, float32, and stability for huge inputs."""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import away_from_zero, floats, seeds, shapes

import tinygrad_reg
from tinygrad_reg import Tensor
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck

erf = np.frompyfunc(math.erf, 1, 1)


def gelu_reference(x):
    return np.array(0.5 * x * (1 + erf(x / math.sqrt(2))), dtype=np.float64)


def gelu_tanh_reference(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


# name -> (function, reference formula, strategy away from kinks)
ACTIVATIONS = {
    "leaky_relu": (
        tinygrad_reg.leaky_relu,
        lambda x: np.where(x > 0, x, 0.01 * x),
        away_from_zero,
    ),
    "softplus": (tinygrad_reg.softplus, lambda x: np.log1p(np.exp(x)), floats),
    "elu": (tinygrad_reg.elu, lambda x: np.where(x > 0, x, np.expm1(x)), away_from_zero),
    "gelu": (tinygrad_reg.gelu, gelu_reference, floats),
    "gelu_tanh": (
        lambda t: tinygrad_reg.gelu(t, approximate="tanh"),
        gelu_tanh_reference,
        floats,
    ),
    "silu": (tinygrad_reg.silu, lambda x: x / (1 + np.exp(-x)), floats),
    "log_sigmoid": (tinygrad_reg.log_sigmoid, lambda x: -np.log1p(np.exp(-x)), floats),
}
SMOOTH = ["softplus", "elu", "gelu", "gelu_tanh", "silu", "log_sigmoid"]  # elu: alpha = 1


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_gradient(name, data, shape, seed):
    function, _, inputs = ACTIVATIONS[name]
    assert gradcheck(function, [data.draw(inputs(shape))], seed=seed)


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data(), shape=shapes(max_dims=2), seed=seeds)
def test_second_derivative(name, data, shape, seed):
    function, _, _ = ACTIVATIONS[name]
    # elu with alpha = 1 is C¹ but its second derivative jumps at 0 (0 to 1): keep away.
    inputs = away_from_zero if name == "elu" else floats
    assert gradgradcheck(function, [data.draw(inputs(shape))], seed=seed)


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data(), shape=shapes())
def test_values_match_the_formula(name, data, shape):
    function, reference, _ = ACTIVATIONS[name]
    x = data.draw(floats(shape, -5.0, 5.0))
    # The formulas are evaluated differently (log1p(e^x) against logaddexp, ...): a few
    # roundings of numbers of size <= 5.
    np.testing.assert_allclose(function(x).data, reference(x), rtol=1e-14, atol=1e-15)


@given(x=hnp.arrays(np.float64, shapes(), elements=st.floats(-8, 8)))
def test_gelu_is_x_times_the_normal_cdf_from_math_erf(x):
    # The same operations in the same order as PyTorch's definition, with an erf within 2 ulp
    # of math.erf (ulp <= 2^-53 for |erf| < 1): 0.5·x·(1 + erf) moves by at most 0.5·|x|·2^-51
    # plus its own few roundings (relative 2^-52 each).
    out, expected = tinygrad_reg.gelu(x).data, gelu_reference(x)
    assert (np.abs(out - expected) <= 2**-52 * np.abs(x) + 2**-50 * np.abs(expected)).all()


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
@given(data=st.data(), shape=shapes(), seed=seeds, parameter=st.floats(0.05, 2.0))
def test_the_parameter_is_differentiated_through(name, data, shape, seed, parameter):
    x = data.draw(away_from_zero(shape))
    function = getattr(tinygrad_reg, name)
    assert gradcheck(lambda t: function(t, parameter), [x], seed=seed)


@given(
    x=hnp.arrays(np.float64, shapes(), elements=st.floats(-5, 5)),
    slope=st.floats(0.0, 1.0),
    alpha=st.floats(0.1, 2.0),
)
def test_parameters_values(x, slope, alpha):
    np.testing.assert_array_equal(
        tinygrad_reg.leaky_relu(x, slope).data, np.where(x > 0, x, x * slope)
    )
    np.testing.assert_array_equal(
        tinygrad_reg.elu(x, alpha=alpha).data, np.where(x > 0, x, alpha * np.expm1(x))
    )


# --- kinks -------------------------------------------------------------------------------------


@given(data=st.data(), shape=shapes(min_dims=1), slope=st.floats(0.0, 1.0), alpha=st.floats(0.1, 2))
def test_derivative_at_zero_is_the_left_one(data, shape, slope, alpha):
    # As PyTorch: leaky_relu'(0) = negative_slope, elu'(0) = alpha.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.5, 0.0, 0.5])))
    g = data.draw(floats(shape))
    leaky, elu = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    tinygrad_reg.leaky_relu(leaky, slope).backward(g)
    tinygrad_reg.elu(elu, alpha).backward(g)
    np.testing.assert_array_equal(leaky.grad, np.where(x > 0, g, g * slope))
    np.testing.assert_allclose(
        elu.grad, np.where(x > 0, g, g * alpha * np.exp(np.minimum(x, 0))), rtol=1e-15
    )
    assert np.all(elu.grad[x == 0] == g[x == 0] * alpha)


# --- stability and dtypes ----------------------------------------------------------------------

HUGE = np.array([-1e300, -1e4, -800.0, -40.0, 40.0, 800.0, 1e4, 1e300])


def test_softplus_and_log_sigmoid_are_finite_and_exact_in_the_tails():
    t = Tensor(HUGE, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        softplus = tinygrad_reg.softplus(t)
        log_sigmoid = tinygrad_reg.log_sigmoid(t)
        (softplus + log_sigmoid).sum().backward()
    # ln(1 + e^x) is x + e^-x for large x and e^x for very negative x: in float64 that rounds
    # to x and to e^x (0 below -745); log σ(x) = -softplus(-x).
    tail = np.where(HUGE > 0, HUGE, np.exp(np.minimum(HUGE, 0)))
    tail[np.abs(HUGE) == 40] = np.log1p(np.exp(HUGE[np.abs(HUGE) == 40]))
    np.testing.assert_array_equal(softplus.data, tail)
    np.testing.assert_array_equal(log_sigmoid.data, -tail[::-1])
    # σ(x) + σ(-x) = 1 (0 + 1 or 1 + 0 far out).
    np.testing.assert_allclose(t.grad, 1.0, rtol=1e-15)


finite = st.floats(allow_nan=False, allow_infinity=False)


@given(x=hnp.arrays(np.float64, shapes(), elements=finite))
def test_log_sigmoid_is_finite_for_any_finite_input(x):
    t = Tensor(x, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = tinygrad_reg.log_sigmoid(t)
        out.backward(np.ones(t.shape))
    assert np.all(np.isfinite(out.data)) and np.all(out.data <= 0)
    assert np.all((t.grad >= 0) & (t.grad <= 1))


@pytest.mark.parametrize("name", ACTIVATIONS)
@given(data=st.data(), shape=shapes())
def test_float32_stays_float32(name, data, shape):
    function, _, inputs = ACTIVATIONS[name]
    x = data.draw(inputs(shape)).astype(np.float32)
    t = Tensor(x, requires_grad=True)
    out = function(t)
    out.backward(np.ones(shape, dtype=np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    expected = function(x.astype(np.float64)).data  # the same float32 inputs, in float64
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


def test_gelu_refuses_an_unknown_approximation():
    with pytest.raises(ValueError, match=r'Gelu: approximate=\'erf\'; expected "none" or "tanh"'):
        tinygrad_reg.gelu(np.ones(2), approximate="erf")

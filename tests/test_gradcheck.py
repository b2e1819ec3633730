"""The gradient checker: it passes correct gradients, and it catches and explains wrong ones."""

import re

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import away_from_zero, floats, positive, seeds, shapes

from tinygrad_reg import Tensor
from tinygrad_reg.engine import Function
from tinygrad_reg.gradcheck import (
    GradcheckError,
    gradcheck,
    numerical_gradient,
    relative_difference,
)


class SquareWithWrongGradient(Function):
    """x², with a gradient rule that forgets the factor 2 (the classic mistake)."""

    def forward(self, x):
        return x * x

    def backward(self, g, out, x):
        return (g * x,)


class MulWithOneWrongElement(Function):
    """a * b, with the gradient for b off by one at a single element, flat position ``bad``."""

    def __init__(self, bad):
        self.bad = bad

    def forward(self, a, b):
        return a * b

    def backward(self, g, out, a, b):
        gb = np.array(g * a, dtype=np.float64)
        gb.reshape(-1)[self.bad] += 1.0
        return g * b, gb


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_gradcheck_passes_correct_gradients(data, shape, seed):
    a, b = data.draw(floats(shape)), data.draw(positive(shape))
    assert gradcheck(lambda x, y: (x * y.log()).tanh() + x / y, [a, b], seed=seed)


@given(data=st.data(), shape=shapes())
def test_gradcheck_catches_a_wrong_gradient(data, shape):
    x = data.draw(positive(shape))
    # An upstream gradient away from 0: near 0 the missing factor 2 would hide inside atol.
    upstream = data.draw(away_from_zero(shape))

    def square(t):
        return SquareWithWrongGradient()(t)

    with pytest.raises(GradcheckError, match="input 0"):
        gradcheck(square, [x], upstream=upstream)
    assert gradcheck(square, [x], upstream=upstream, raise_exception=False) is False


@given(data=st.data(), shape=shapes(min_dims=1))
def test_gradcheck_names_the_input_and_the_worst_element(data, shape):
    a, b = data.draw(positive(shape)), data.draw(positive(shape))
    bad = data.draw(st.integers(0, b.size - 1))
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda x, y: MulWithOneWrongElement(bad)(x, y), [a, b], upstream=np.ones(shape))
    message = str(raised.value)
    index = np.unravel_index(bad, shape)
    assert "input 1" in message
    assert f"index {tuple(int(i) for i in index)}" in message
    # Both values are reported: analytic a + 1, numerical a (the upstream gradient is 1).
    reported = [float(v) for v in re.findall(r"is (?:np\.float64\()?([-\d.e+]+)", message)]
    np.testing.assert_allclose(reported, [a[index] + 1, a[index]], rtol=1e-6)


def test_gradcheck_fails_when_the_numerical_gradient_is_not_finite():
    # log at 1e-8 with eps 1e-6: f(x - eps) is NaN, so nothing can be checked there.
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(GradcheckError, match=r"index \(0,\).*nan"),
    ):
        gradcheck(Tensor.log, [np.array([1e-8, 1.0])])


def test_gradcheck_fails_when_the_analytic_gradient_is_not_finite():
    with np.errstate(divide="ignore", invalid="ignore"), pytest.raises(GradcheckError):
        gradcheck(Tensor.sqrt, [np.array([0.0, 1.0])])


@pytest.mark.parametrize("function", [gradcheck, numerical_gradient])
def test_float32_inputs_are_refused_with_an_explanation(function):
    with pytest.raises(TypeError, match=r"input 0 is float32.*float64"):
        function(Tensor.exp, [np.ones(3, dtype=np.float32)])


@given(data=st.data(), shape=shapes())
def test_numerical_gradient_matches_a_known_gradient(data, shape):
    x = data.draw(floats(shape))
    before = x.copy()
    (numerical,) = numerical_gradient(lambda t: (t * t * t).sum(), [x])
    np.testing.assert_allclose(numerical, 3 * x**2, rtol=1e-6, atol=1e-8)
    np.testing.assert_array_equal(x, before)  # the input was perturbed in a copy


# Tiny and huge magnitudes too: squaring 1e-200 underflows and squaring 1e200 overflows.
vectors = st.integers(1, 5).flatmap(
    lambda n: st.tuples(
        hnp.arrays(np.float64, n, elements=st.floats(-1e300, 1e300)),
        hnp.arrays(np.float64, n, elements=st.floats(-1e300, 1e300)),
    )
)


@given(pair=vectors)
def test_relative_difference_is_symmetric_and_between_0_and_1(pair):
    a, b = pair
    d = relative_difference(a, b)
    assert d == relative_difference(b, a)
    assert 0.0 <= d <= 1.0
    if np.array_equal(a, b):
        assert d == 0.0
    if np.any(a):  # opposite vectors are as different as can be
        assert relative_difference(a, -a) == pytest.approx(1.0)


@given(pair=vectors, exponent=st.integers(-10, 10))
def test_relative_difference_ignores_scale(pair, exponent):
    a, b = pair
    # A power of two scales exactly, as long as nothing under- or overflows.
    assume(np.all((a == 0) | (np.abs(a) > 1e-290)) and np.all((b == 0) | (np.abs(b) > 1e-290)))
    scale = 2.0**exponent
    assert relative_difference(scale * a, scale * b) == relative_difference(a, b)


def test_relative_difference_examples():
    assert relative_difference(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_difference([1.0, 0.0], [-1.0, 0.0]) == 1.0
    assert relative_difference([3.0], [1.0]) == pytest.approx(0.5)
    assert relative_difference([1e200], [3e200]) == pytest.approx(0.5)
    assert relative_difference([0.0], [1e-200]) == 1.0

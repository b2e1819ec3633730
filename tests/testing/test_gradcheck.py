"""The gradient checkers (``gradcheck`` and the course's ``gradient_check_n``): they pass
correct gradients, and catch and explain wrong ones."""

import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import away_from_zero, floats, positive, seeds, shapes

from tinygrad_reg import Tensor
from tinygrad_reg import reference as R
from tinygrad_reg.engine import Function
from tinygrad_reg.testing.gradcheck import (
    GradcheckError,
    gradcheck,
    gradgradcheck,
    gradient_check_n,
    numerical_gradient,
    parameters_to_vector,
    relative_difference,
    vector_to_parameters,
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


# --- the course's gradient check: vectors --------------------------------------------------------


def test_parameters_to_vector_is_in_the_courses_order_row_major():
    parameters = {
        "b2": np.array([[9.0]]),
        "W1": np.array([[1.0, 2.0], [3.0, 4.0]]),
        "W2": np.array([[7.0, 8.0]]),
        "b1": np.array([[5.0], [6.0]]),
    }
    np.testing.assert_array_equal(parameters_to_vector(parameters), np.arange(1.0, 10.0))
    back = vector_to_parameters(np.arange(1.0, 10.0), parameters)
    for key in parameters:
        np.testing.assert_array_equal(back[key], parameters[key])
    with pytest.raises(ValueError, match=r"vector_to_parameters: the vector has shape \(8,\)"):
        vector_to_parameters(np.arange(8.0), parameters)


# --- the gradient check ----------------------------------------------------------------------


def course_example(penalty: str = "l2"):
    parameters = R.initialize_parameters([4, 5, 3, 1], seed=1)
    rng = np.random.RandomState(0)
    for key in ("b1", "b2", "b3"):
        parameters[key] = 0.1 * rng.randn(*parameters[key].shape)
    X, Y = rng.randn(4, 6), (rng.rand(1, 6) < 0.5).astype(float)

    def cost(p):
        A, _ = R.forward_propagation(X, p)
        return R.compute_cost_with_regularization(A, Y, p, 0.7, penalty)

    _, cache = R.forward_propagation(X, parameters)
    gradients = R.backward_propagation_with_regularization(X, Y, cache, 0.7, penalty)
    return cost, parameters, gradients


@pytest.mark.parametrize("penalty", ["l2", "l1"])
def test_gradient_check_n_passes_a_correct_backprop(penalty):
    cost, parameters, gradients = course_example(penalty)
    assert gradient_check_n(cost, parameters, gradients) < 1e-7


def test_gradient_check_n_catches_a_planted_bug():
    cost, parameters, gradients = course_example()
    buggy = dict(gradients, dW2=2 * gradients["dW2"])  # the course's planted mistake
    assert gradient_check_n(cost, parameters, buggy) > 1e-2


def test_gradient_check_n_takes_gradients_keyed_like_the_parameters():
    cost, parameters, gradients = course_example()
    by_name = {key: gradients["d" + key] for key in parameters}
    assert gradient_check_n(cost, parameters, by_name) == gradient_check_n(
        cost, parameters, gradients
    )


def test_gradient_check_n_leaves_the_parameters_alone_and_names_missing_gradients():
    cost, parameters, gradients = course_example()
    before = {k: v.copy() for k, v in parameters.items()}
    gradient_check_n(cost, parameters, gradients)
    for key in parameters:
        np.testing.assert_array_equal(parameters[key], before[key])
    with pytest.raises(ValueError, match="gradients has neither 'db3' nor 'b3'"):
        gradient_check_n(cost, parameters, {k: v for k, v in gradients.items() if k != "db3"})
    with pytest.raises(ValueError, match=r"dW1 has shape \(4, 5\); expected \(5, 4\)"):
        gradient_check_n(cost, parameters, dict(gradients, dW1=gradients["dW1"].T))


def test_the_courses_check_needs_numpy_only():
    program = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "import numpy as np\n"
        "from tinygrad_reg.testing.gradcheck import gradient_check_n\n"
        "p = {'W1': np.array([[2.0]]), 'b1': np.array([[1.0]])}\n"
        "cost = lambda q: float(np.sum(q['W1'] ** 2) + 3 * np.sum(q['b1']))\n"
        "print(gradient_check_n(cost, p, {'dW1': 2 * p['W1'], 'db1': np.array([[3.0]])}))\n"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 1e-7


# --- gradgradcheck: second derivatives ------------------------------------------------------


class SquareWithFrozenSecondDerivative(Function):
    """x², with a rule right to first order that reads x's VALUE, so a recorded backward pass
    sees a constant 2x and the second derivative comes out 0 instead of 2."""

    def forward(self, x):
        return x * x

    def backward(self, g, out, x):
        return (g * 2 * (x.data if isinstance(x, Tensor) else x),)


@given(data=st.data(), shapes_=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2))
def test_gradgradcheck_passes_correct_second_derivatives(data, shapes_):
    a, b = data.draw(floats(shapes_.input_shapes[0])), data.draw(positive(shapes_.input_shapes[1]))
    # Mixed second derivatives (a and b), a nonzero third derivative, and division.
    assert gradgradcheck(lambda x, y: x * x * y + x / y, [a, b])


def test_gradgradcheck_passes_functions_with_a_constant_or_unused_gradient():
    x = np.array([0.5, -1.0])
    assert gradgradcheck(lambda t: t.sum() * 3, [x])  # the first derivative does not depend on x
    assert gradgradcheck(lambda t, unused: t * t, [x, x])


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_gradgradcheck_catches_a_rule_that_is_right_only_to_first_order(data, shape, seed):
    x = data.draw(away_from_zero(shape))
    assert gradcheck(lambda t: SquareWithFrozenSecondDerivative()(t), [x], seed=seed)
    with pytest.raises(GradcheckError, match=r"gradgradcheck: input 0 .* second derivative"):
        gradgradcheck(lambda t: SquareWithFrozenSecondDerivative()(t), [x], seed=seed)
    assert not gradgradcheck(
        lambda t: SquareWithFrozenSecondDerivative()(t), [x], raise_exception=False
    )


def test_gradgradcheck_refuses_float32():
    with pytest.raises(TypeError, match=r"gradgradcheck: input 0 is float32"):
        gradgradcheck(lambda t: t * t, [np.ones(2, dtype=np.float32)])


# --- what a failure message says ---------------------------------------------------------------


@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_a_weighted_failure_says_so_and_gives_the_plain_derivatives(data, shape, seed):
    """x² with the factor 2 forgotten, checked with the default random upstream gradient u:
    the message says the values are weighted by u, gives u at the element and the plain
    derivatives there: analytic x, numerical 2x (elementwise f)."""
    x = data.draw(positive(shape))
    u = np.random.default_rng(seed).standard_normal(shape)  # gradcheck's upstream gradient
    assume(np.all(np.abs(u) > 0.1))  # away from 0, where the missing factor hides in atol
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda t: SquareWithWrongGradient()(t), [x], seed=seed)
    message = str(raised.value)
    assert "np.float64" not in message
    assert f"weighted by the upstream gradient u (random, seed {seed}, shape {shape})" in message
    index = tuple(
        int(i)
        for i in re.search(r"at index \(([\d, ]*)\)", message).group(1).split(",")
        if i.strip()
    )
    number = r"(-?\d+(?:\.\d+)?(?:e[-+]?\d+)?)"
    plain = re.search(f"plain derivatives there are analytic {number}, numerical {number}", message)
    # Tolerances: the analytic value is exact up to rounding (printed to 10 digits); the
    # numerical one carries only rounding error (~1e-16 / eps = 1e-10 relative to f; no
    # truncation error, the third derivative of x² being 0), amplified by 1/|u| < 10.
    np.testing.assert_allclose(float(plain.group(1)), x[index], rtol=1e-8)
    np.testing.assert_allclose(float(plain.group(2)), 2 * x[index], rtol=1e-6, atol=1e-6)
    weighted = re.search(f"the analytic gradient is {number}", message)
    np.testing.assert_allclose(float(weighted.group(1)), x[index] * u[index], rtol=1e-8)


def test_an_unweighted_failure_prints_plain_floats_without_a_weighting_note():
    with pytest.raises(GradcheckError) as raised:
        gradcheck(lambda t: SquareWithWrongGradient()(t).sum(), [np.array([3.0])], upstream=None)
    message = str(raised.value)
    assert "the analytic gradient is 3 but the numerical one is 6" in message
    assert "np.float64" not in message and "upstream" not in message


def test_upstream_none_with_a_non_scalar_output_names_the_argument():
    with pytest.raises(ValueError, match=r"f's output has shape \(3,\); with upstream=None") as e:
        gradcheck(Tensor.exp, [np.ones(3)], upstream=None)
    assert "upstream=" in str(e.value) and "grad=" not in str(e.value)


class SquareWithWrongShape(Function):
    """x², with a rule that returns the gradient of the whole vector summed (a wrong shape)."""

    save_inputs, save_out = True, False

    def forward(self, x):
        return x * x

    def backward(self, g, out, x):
        return ((2 * g * x).sum(keepdims=True).repeat(3),)


class SquareWithoutTuple(SquareWithWrongShape):
    """x², with a rule that forgets to return a tuple."""

    def backward(self, g, out, x):
        return 2 * g * x


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (SquareWithWrongShape, r"SquareWithWrongShape\.backward.*shape \(3,\) for input 0.*\(2,\)"),
        (
            SquareWithoutTuple,
            r"SquareWithoutTuple\.backward returned a (ndarray|Tensor).*tuple of 1",
        ),
    ],
)
def test_gradcheck_reports_a_broken_rule_instead_of_crashing(op, message):
    x = np.array([0.5, -1.5])
    with pytest.raises(GradcheckError, match=message):
        gradcheck(lambda t: op()(t), [x])
    assert gradcheck(lambda t: op()(t), [x], raise_exception=False) is False
    with pytest.raises(GradcheckError, match=message):
        gradgradcheck(lambda t: op()(t), [x])


def test_relative_difference_stays_at_most_1_where_rounding_would_pass_it():
    """Found by the thorough profile: 1.0000000000000002 before the clamp."""
    a, b = np.full(4, -1.0), np.array([0.0, 2.5734855e15, 2.5734855e15, 2.5734855e15])
    assert relative_difference(a, b) == relative_difference(b, a) == 1.0

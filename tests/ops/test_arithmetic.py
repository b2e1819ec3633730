"""+ - * / ** and negation: gradients over broadcasting shapes, and values against numpy."""

import operator
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import SHAPE_LIMITS, away_from_zero, floats, positive, seeds, shapes
from torch_twin import assert_matches_torch

import tinygrad_reg
from tinygrad_reg import Tensor, grad
from tinygrad_reg.testing.gradcheck import gradcheck

broadcast_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, **SHAPE_LIMITS)

# (operator, strategy for the left operand, strategy for the right one): the right operand of /
# stays away from 0, the base of ** stays positive (d(a**b)/db = a**b * ln a).
BINARY_OPS = {
    "add": (operator.add, floats, floats),
    "sub": (operator.sub, floats, floats),
    "mul": (operator.mul, floats, floats),
    "div": (operator.truediv, floats, away_from_zero),
    "pow": (operator.pow, positive, floats),
}


@pytest.mark.parametrize("name", BINARY_OPS)
@given(data=st.data(), shapes=broadcast_pairs, seed=seeds)
def test_binary_op_gradients_over_broadcast_shapes(name, data, shapes, seed):
    op, left, right = BINARY_OPS[name]
    a = data.draw(left(shapes.input_shapes[0]))
    b = data.draw(right(shapes.input_shapes[1]))
    # Each input's gradient is compared element by element with its own shape, which checks
    # that the engine summed the broadcast gradient back (unbroadcast).
    assert gradcheck(op, [a, b], seed=seed)


@pytest.mark.parametrize("name", BINARY_OPS)
@given(data=st.data(), shapes=broadcast_pairs)
def test_binary_op_values_and_gradient_shapes(name, data, shapes):
    op, left, right = BINARY_OPS[name]
    a = Tensor(data.draw(left(shapes.input_shapes[0])), requires_grad=True)
    b = Tensor(data.draw(right(shapes.input_shapes[1])), requires_grad=True)
    out = op(a, b)
    np.testing.assert_array_equal(out.data, op(a.data, b.data))
    out.backward(np.ones(out.shape))
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("name", BINARY_OPS)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_python_number_on_either_side(name, data, shape, seed):
    op, left, right = BINARY_OPS[name]
    x = data.draw(right(shape))  # the tensor is on the right: needs what the right side needs
    number = data.draw(st.floats(0.5, 2.0))  # positive: fine as a base of ** and a divisor
    assert gradcheck(lambda t: op(number, t), [x], seed=seed)
    x = data.draw(left(shape))
    assert gradcheck(lambda t: op(t, number), [x], seed=seed)


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_neg_gradient(data, shape, seed):
    assert gradcheck(operator.neg, [data.draw(floats(shape))], seed=seed)


@given(data=st.data(), shape=shapes(), exponent=st.integers(-3, 4), seed=seeds)
def test_integer_power_of_negative_base(data, shape, exponent, seed):
    # The exponent needs no gradient, so ln(base) (NaN for a negative base) is never computed.
    x = data.draw(away_from_zero(shape))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gradcheck(lambda t: t**exponent, [x], seed=seed)


def test_power_gradient_skips_the_log_when_the_exponent_is_constant():
    x = Tensor([-2.0, 3.0], requires_grad=True)
    with np.errstate(invalid="raise", divide="raise"):
        (x**3).sum().backward()
    np.testing.assert_allclose(x.grad, 3 * x.data**2)


def test_sub_and_div_give_only_the_needed_gradient():
    a = Tensor([1.0, 2.0])  # needs no gradient
    b = Tensor([3.0, 4.0], requires_grad=True)
    for op in (operator.sub, operator.truediv):
        b.grad = None
        op(a, b).sum().backward()
        assert a.grad is None and b.grad is not None


@pytest.mark.parametrize("shapes", [((2, 3), (4,)), ((3, 1), (2, 2)), ((2,), (3, 1, 3))])
@pytest.mark.parametrize("name", BINARY_OPS)
def test_shapes_that_do_not_broadcast_raise_naming_the_op_and_shapes(name, shapes):
    op = BINARY_OPS[name][0]
    a, b = Tensor(np.ones(shapes[0])), Tensor(np.ones(shapes[1]))
    with pytest.raises(ValueError) as raised:
        op(a, b)
    message = str(raised.value)
    assert name.capitalize() in message  # the op's class name: Add, Sub, Mul, Div, Pow
    assert str(shapes[0]) in message and str(shapes[1]) in message


# --- ** where the gradient is 0 but the plain formula gives 0*inf (issue 11, item 4) ----------


def test_power_zero_has_slope_zero_at_zero_first_and_second_order():
    x = Tensor([0.0, 0.0, 2.0], requires_grad=True)
    with np.errstate(divide="raise", invalid="raise"):
        (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    x = Tensor(0.0, requires_grad=True)
    (dx,) = grad(x**0, x, create_graph=True)
    (dxx,) = grad(dx, x)
    assert dx.item() == 0.0 and dxx.item() == 0.0


def test_zero_base_has_slope_zero_in_the_exponent_first_and_second_order():
    y = Tensor([0.0, 0.5, 1.0, 3.0], requires_grad=True)
    with np.errstate(divide="raise", invalid="raise"):
        (Tensor(0.0) ** y).sum().backward()
    np.testing.assert_array_equal(y.grad, [0.0, 0.0, 0.0, 0.0])  # PyTorch gives 0 too
    y = Tensor(2.0, requires_grad=True)
    (dy,) = grad(Tensor(0.0) ** y, y, create_graph=True)
    (dyy,) = grad(dy, y)
    assert dy.item() == 0.0 and dyy.item() == 0.0


def test_power_rule_keeps_the_mixed_derivative_where_only_the_exponent_is_zero():
    # d²(a**b)/da db = a**(b-1)·(1 + b·ln a), which is 1/a at b = 0: the fix at a = b = 0 must
    # not replace the base anywhere else.
    a, b = Tensor(2.0, requires_grad=True), Tensor(0.0, requires_grad=True)
    (da,) = grad(a**b, a, create_graph=True)
    (dab,) = grad(da, b)
    assert da.item() == 0.0 and dab.item() == 0.5


def with_zeros(shape, values):
    """Arrays of ``values`` in which about half the elements are exactly 0."""
    return hnp.arrays(np.float64, shape, elements=st.just(0.0) | values)


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_power_gradients_at_zero_base_and_zero_exponent(data, shape, seed):
    a = data.draw(with_zeros(shape, st.floats(0.1, 2.0)))
    # b >= 1 away from 0, so every true slope is finite (0**(b-1) is 0 or 1, never inf)
    b = data.draw(with_zeros(shape, st.floats(1.0, 3.0)))
    upstream = np.random.default_rng(seed).standard_normal(shape)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    with np.errstate(divide="raise", invalid="raise"):
        (ta**tb).backward(upstream)
    slope_a = b * np.where(b == 0, 1.0, a) ** (b - 1)  # x**0 has slope 0 everywhere
    slope_b = a**b * np.log(np.where(a == 0, 1.0, a))  # 0**y has slope 0 for y >= 0
    np.testing.assert_allclose(ta.grad, upstream * slope_a, rtol=1e-12, atol=0)
    np.testing.assert_allclose(tb.grad, upstream * slope_b, rtol=1e-12, atol=0)


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_second_derivatives_of_power_with_zero_exponents(data, shape, seed):
    # On a > 0 the power is smooth in both arguments, also at b = 0: the recorded backward pass
    # (create_graph) must agree with central differences of the plain first derivatives there.
    a = data.draw(positive(shape))
    b = data.draw(with_zeros(shape, st.floats(0.1, 2.0)))
    rng = np.random.default_rng(seed)
    w, va, vb = (rng.standard_normal(shape) for _ in range(3))

    def along(a, b, create_graph=False):
        """<(d/da, d/db) of sum(w·a**b), (va, vb)>, and the leaves."""
        ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        da, db = grad((ta**tb * w).sum(), [ta, tb], create_graph=create_graph)
        return (da * va + db * vb).sum(), ta, tb

    directional, ta, tb = along(a, b, create_graph=True)
    analytic = [g.data for g in grad(directional, [ta, tb])]
    eps = 1e-6
    for k in range(2):
        for i in np.ndindex(*shape):
            plus, minus = [a.copy(), b.copy()], [a.copy(), b.copy()]
            plus[k][i] += eps
            minus[k][i] -= eps
            numerical = (along(*plus)[0].item() - along(*minus)[0].item()) / (2 * eps)
            # central differences err by O(eps²·|f'''|) + O(1e-16·|f'|/eps): about 1e-10 on
            # these ranges (a in [0.1, 2], b in [0, 2]), far inside the allowance
            assert abs(analytic[k][i] - numerical) <= 1e-6 + 1e-5 * abs(numerical)


# --- atan2, logaddexp, lerp: against PyTorch ------------------------------------------------


@given(data=st.data(), shapes_=broadcast_pairs, seed=seeds)
def test_atan2_logaddexp_and_lerp_as_torch(data, shapes_, seed):
    (a_shape, b_shape), _ = shapes_
    a, b = data.draw(away_from_zero(a_shape)), data.draw(away_from_zero(b_shape))
    assert_matches_torch(lambda x, y: x.atan2(y), torch.atan2, [a, b], seed)
    assert_matches_torch(tinygrad_reg.logaddexp, torch.logaddexp, [a * 5, b * 5], seed)
    weight = data.draw(floats(b_shape))
    assert_matches_torch(tinygrad_reg.lerp, torch.lerp, [a, b, weight], seed)


def test_logaddexp_does_not_overflow():
    out = tinygrad_reg.logaddexp(Tensor([1000.0, -1000.0]), Tensor([1000.0, 0.0]))
    np.testing.assert_allclose(out.data, [1000 + np.log(2), 0.0], rtol=1e-15)

"""+ - * / ** and negation: gradients over broadcasting shapes, and values against numpy."""

import operator
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import SHAPE_LIMITS, away_from_zero, floats, positive, seeds, shapes

from tinygrad_reg import Tensor
from tinygrad_reg.gradcheck import gradcheck

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

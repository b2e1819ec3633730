"""sum mean max min over every kind of axis, with and without keepdims; the tie policy."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import axes, floats, grid, seeds, shapes

from tinygrad_reg import Tensor
from tinygrad_reg.gradcheck import gradcheck

REDUCTIONS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min}


def reduce(name, x, axis, keepdims):
    return getattr(x, name)(axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), shape=shapes(), keepdims=st.booleans(), seed=seeds)
def test_reduction_gradient(name, data, shape, keepdims, seed):
    axis = data.draw(axes(len(shape)))
    # max and min get distinct elements 0.01 apart: no ties, so they are differentiable.
    x = data.draw(grid(shape, unique=True) if name in ("max", "min") else floats(shape))
    assert gradcheck(lambda t: reduce(name, t, axis, keepdims), [x], seed=seed)


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), shape=shapes(), keepdims=st.booleans())
def test_reduction_values_and_shapes_match_numpy(name, data, shape, keepdims):
    axis = data.draw(axes(len(shape)))
    x = data.draw(floats(shape))
    out = reduce(name, Tensor(x), axis, keepdims)
    expected = REDUCTIONS[name](x, axis=axis, keepdims=keepdims)
    assert out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-15)


@pytest.mark.parametrize("name", ["max", "min"])
@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_ties_share_the_gradient_equally(name, data, shape, keepdims):
    axis = data.draw(axes(len(shape)))
    # Few distinct values, so ties are common.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])))
    t = Tensor(x, requires_grad=True)
    out = reduce(name, t, axis, keepdims)
    g = data.draw(floats(out.shape))
    out.backward(g)

    extreme = REDUCTIONS[name](x, axis=axis, keepdims=True)
    winners = x == extreme
    k = winners.sum(axis=axis, keepdims=True)
    g_kept = np.reshape(g, extreme.shape)
    # Every one of the k tied extremes gets g/k, every other element 0 ...
    np.testing.assert_allclose(t.grad, np.where(winners, g_kept / k, 0.0), rtol=1e-15)
    # ... so the shares add up to g.
    np.testing.assert_allclose(t.grad.sum(axis=axis, keepdims=True), g_kept, rtol=1e-14)


def test_max_tie_example():
    t = Tensor([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]], requires_grad=True)
    t.max(axis=1).backward(np.array([1.0, 8.0]))
    np.testing.assert_array_equal(t.grad, [[0.0, 0.5, 0.5, 0.0], [2.0, 2.0, 2.0, 2.0]])


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 2), (1, 1)])
def test_bad_axis_raises_naming_the_op_and_the_shape(name, axis):
    with pytest.raises(ValueError) as raised:  # numpy's AxisError is a ValueError
        reduce(name, Tensor(np.ones((2, 3))), axis, False)
    message = str(raised.value)
    assert name.capitalize() in message and "(2, 3)" in message


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [1.0, "0", (0, 1.5)])
def test_an_axis_that_is_not_an_int_raises_a_type_error_naming_the_op(name, axis):
    with pytest.raises(TypeError, match=name.capitalize()):
        reduce(name, Tensor(np.ones((2, 3))), axis, False)


@pytest.mark.parametrize("name", REDUCTIONS)
def test_numpy_integer_axes_are_accepted(name):
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    by_numpy_int = reduce(name, x, np.int64(1), False)
    by_tuple = reduce(name, x, (np.int32(0), 1), False)
    np.testing.assert_array_equal(by_numpy_int.data, reduce(name, x, 1, False).data)
    assert by_tuple.shape == ()


@pytest.mark.parametrize("axis", [True, (0, False)])
def test_boolean_axes_are_refused_as_numpy_does(axis):
    with pytest.raises(TypeError, match="Sum"):
        Tensor(np.ones((2, 3))).sum(axis=axis)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("axis", [None, 0])
def test_float16_ties_beyond_its_largest_count_still_share_the_gradient(name, axis):
    # 70 000 tied values: more than float16 can count (65 504 is its largest finite number).
    x = Tensor(np.full((70_000, 2), 3.0, dtype=np.float16), requires_grad=True)
    getattr(x, name)(axis=axis).sum().backward()
    ties = 140_000 if axis is None else 70_000
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad, np.float16(1 / ties))  # g/k, rounded once to float16
    # 1/k is a float16 subnormal, spaced 2⁻²⁴ apart, so each share is off by at most 2⁻²⁵ and
    # the k shares add up to g = 1 (per output) within k·2⁻²⁵.
    outputs = 1 if axis is None else 2
    total = x.grad.astype(np.float64).sum()
    assert abs(total - outputs) <= outputs * ties * 2.0**-25

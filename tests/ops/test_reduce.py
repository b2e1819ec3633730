"""sum mean max min prod var std logsumexp norm over every kind of axis, with and without
keepdims; the tie policy; cumsum, argmax, argmin; edges (zeros, no spread, empty axes)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import away_from_zero, axes, floats, grid, seeds, shapes

import tinygrad_reg
from tinygrad_reg import Tensor
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck

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


# --- prod var std logsumexp norm ----------------------------------------------------------------


def numpy_logsumexp(x, axis, keepdims):
    """The textbook formula: fine for the small inputs it is compared on."""
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


def numpy_norm(x, ord, axis, keepdims):
    if ord == 1:
        return np.sum(np.abs(x), axis=axis, keepdims=keepdims)
    return np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdims))


# name -> (call on a Tensor, numpy reference, strategy for inputs where it is smooth)
MORE = {
    "prod": (
        lambda t, axis, keepdims: t.prod(axis, keepdims),
        lambda x, axis, keepdims: np.prod(x, axis=axis, keepdims=keepdims),
        lambda shape: floats(shape),
    ),
    "var": (
        lambda t, axis, keepdims: t.var(axis, keepdims=keepdims),
        lambda x, axis, keepdims: np.var(x, axis=axis, keepdims=keepdims),
        lambda shape: floats(shape),
    ),
    "var_ddof1": (
        lambda t, axis, keepdims: t.var(axis, ddof=1, keepdims=keepdims),
        lambda x, axis, keepdims: np.var(x, axis=axis, ddof=1, keepdims=keepdims),
        lambda shape: floats(shape),
    ),
    # std and the 2-norm have corners at no spread and at 0: distinct grid values, no zeros.
    "std": (
        lambda t, axis, keepdims: t.std(axis, keepdims=keepdims),
        lambda x, axis, keepdims: np.std(x, axis=axis, keepdims=keepdims),
        lambda shape: grid(shape, unique=True),
    ),
    "logsumexp": (
        lambda t, axis, keepdims: t.logsumexp(axis, keepdims),
        numpy_logsumexp,
        lambda shape: floats(shape),
    ),
    "norm2": (
        lambda t, axis, keepdims: t.norm(2, axis, keepdims),
        lambda x, axis, keepdims: numpy_norm(x, 2, axis, keepdims),
        away_from_zero,
    ),
    "norm1": (
        lambda t, axis, keepdims: t.norm(1, axis, keepdims),
        lambda x, axis, keepdims: numpy_norm(x, 1, axis, keepdims),
        away_from_zero,
    ),
}
# ddof = 1 needs two elements along every reduced axis set, or var is inf/NaN.
TWO_OR_MORE = {"var_ddof1", "std"}


def draw_case(name, data, keepdims_too=True):
    shape = data.draw(shapes(min_dims=1, min_side=2) if name in TWO_OR_MORE else shapes())
    axis = data.draw(axes(len(shape)))
    if name in TWO_OR_MORE and axis == ():
        axis = None  # an empty tuple reduces nothing: n = 1
    return shape, axis, data.draw(MORE[name][2](shape))


@pytest.mark.parametrize("name", MORE)
@given(data=st.data(), keepdims=st.booleans(), seed=seeds)
def test_more_reductions_gradient(name, data, keepdims, seed):
    _, axis, x = draw_case(name, data)
    assert gradcheck(lambda t: MORE[name][0](t, axis, keepdims), [x], seed=seed)


@pytest.mark.parametrize("name", [n for n in MORE if n != "norm1"])  # norm1 is piecewise linear
@given(data=st.data(), keepdims=st.booleans(), seed=seeds)
def test_more_reductions_second_derivative(name, data, keepdims, seed):
    _, axis, x = draw_case(name, data)
    assert gradgradcheck(lambda t: MORE[name][0](t, axis, keepdims), [x], seed=seed)


@pytest.mark.parametrize("name", MORE)
@given(data=st.data(), keepdims=st.booleans())
def test_more_reductions_values_and_shapes_match_numpy(name, data, keepdims):
    _, axis, x = draw_case(name, data)
    out = MORE[name][0](Tensor(x), axis, keepdims)
    expected = MORE[name][1](x, axis, keepdims)
    assert out.shape == np.shape(expected)
    # Sums of at most 27 terms, then a square root, a log or a division: well under 1e-13.
    np.testing.assert_allclose(out.data, expected, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", MORE)
@given(data=st.data(), keepdims=st.booleans())
def test_more_reductions_keep_float32(name, data, keepdims):
    _, axis, x = draw_case(name, data)
    t = Tensor(x.astype(np.float32), requires_grad=True)
    out = MORE[name][0](t, axis, keepdims)
    out.backward(np.ones(out.shape, dtype=np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    expected = MORE[name][1](x.astype(np.float32).astype(np.float64), axis, keepdims)
    np.testing.assert_allclose(out.data, expected, rtol=2e-6, atol=2e-6)


def test_the_functions_are_the_methods():
    x = np.arange(1.0, 7.0).reshape(2, 3)
    t = Tensor(x)
    pairs = [
        (tinygrad_reg.prod(x, 1), t.prod(1)),
        (tinygrad_reg.var(x, 0, ddof=1), t.var(0, ddof=1)),
        (tinygrad_reg.std(x, keepdims=True), t.std(keepdims=True)),
        (tinygrad_reg.logsumexp(x, (0, 1)), t.logsumexp((0, 1))),
        (tinygrad_reg.norm(x, "fro"), t.norm(2)),
        (tinygrad_reg.cumsum(x, 1), t.cumsum(1)),
    ]
    for function_result, method_result in pairs:
        np.testing.assert_array_equal(function_result.data, method_result.data)


# --- edges: zeros in prod, no spread, the zero vector, empty axes, huge logsumexp -------------


def product_of_the_others(x, axis):
    """Brute force: element i's gradient is the product with x_i replaced by 1."""
    expected = np.empty_like(x)
    for index in np.ndindex(x.shape):
        replaced = x.copy()
        replaced[index] = 1.0
        expected[index] = np.broadcast_to(np.prod(replaced, axis=axis, keepdims=True), x.shape)[
            index
        ]
    return expected


@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_prod_with_zeros_gives_each_element_the_product_of_the_others(data, shape, keepdims):
    axis = data.draw(axes(len(shape)))
    # Many zeros: slices with none, one and several.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, -1.5, 0.5, 2.0])))
    t = Tensor(x, requires_grad=True)
    out = t.prod(axis, keepdims)
    out.backward(np.ones(out.shape))
    # Products of at most 27 of these numbers are exact in binary floating point.
    np.testing.assert_array_equal(t.grad, product_of_the_others(x, axis))


def test_prod_that_overflows_still_gives_the_finite_product_of_the_others():
    # Regression: out/x_i was inf/1e200 = inf although the product of the others is 1e200;
    # and an infinite element made the product of the others NaN (inf·0).
    x = np.array([[1e200, 1e200, 2.0], [3.0, np.inf, 2.0]])
    t = Tensor(x, requires_grad=True)
    t.prod(axis=1).backward(np.ones(2))
    np.testing.assert_array_equal(t.grad, product_of_the_others(x, 1))
    assert t.grad[0, 0] == 2e200


@given(data=st.data(), shape=shapes(min_dims=1, max_side=3), seed=seeds)
def test_prod_with_zeros_second_derivative(data, shape, seed):
    axis = data.draw(axes(len(shape)))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, -1.5, 0.5, 2.0])))
    assert gradgradcheck(lambda t: t.prod(axis), [x], seed=seed)


@pytest.mark.parametrize("ddof", [0, 1])
@given(data=st.data(), shape=shapes(min_dims=1, min_side=2), keepdims=st.booleans())
def test_std_without_spread_has_gradient_zero(ddof, data, shape, keepdims):
    # Every slice along the reduced axes holds one repeated value (0.1 is not exact in
    # binary, so the mean of its copies can round away from it and std comes out ~1e-17).
    axis = data.draw(axes(len(shape)).filter(lambda a: a != ()))
    kept = np.broadcast_to(np.ones(shape).sum(axis=axis, keepdims=True), shape).shape
    base = data.draw(floats(np.ones(shape).sum(axis=axis, keepdims=True).shape))
    x = np.broadcast_to(base + 0.1, kept).copy()
    t = Tensor(x, requires_grad=True)
    out = t.std(axis, ddof=ddof, keepdims=keepdims)
    out.backward(data.draw(floats(out.shape)))
    np.testing.assert_allclose(out.data, np.std(x, axis=axis, ddof=ddof, keepdims=keepdims))
    np.testing.assert_array_equal(t.grad, np.zeros(shape))


@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_norm_of_the_zero_vector_has_gradient_zero(data, shape, keepdims):
    axis = data.draw(axes(len(shape)))
    # Some slices zero, others not.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 0.0, 1.5, -0.5])))
    for ord in (2, 1):
        t = Tensor(x, requires_grad=True)
        out = t.norm(ord, axis, keepdims)
        g = data.draw(floats(out.shape))
        out.backward(g)
        norm = numpy_norm(x, ord, axis, True)
        g_kept = np.reshape(g, norm.shape)
        expected = g_kept * (np.sign(x) if ord == 1 else x / np.where(norm == 0, 1.0, norm))
        np.testing.assert_allclose(t.grad, np.where(norm == 0, 0.0, expected), rtol=1e-15)


@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 0), ((3, 0), 1), ((0,), None)])
def test_empty_axes_give_numpys_identities(shape, axis):
    x = np.zeros(shape)
    t = Tensor(x, requires_grad=True)
    results = {
        "prod": (t.prod(axis), np.prod(x, axis=axis)),  # 1
        "logsumexp": (t.logsumexp(axis), np.full(np.sum(x, axis=axis).shape, -np.inf)),
        "norm": (t.norm(2, axis), np.sum(x, axis=axis)),  # 0
        "norm1": (t.norm(1, axis), np.sum(x, axis=axis)),
    }
    for name, (out, expected) in results.items():
        np.testing.assert_array_equal(out.data, expected, err_msg=name)
        out.backward(np.ones(out.shape))
        assert t.grad.shape == shape
        t.grad = None


def test_var_and_std_of_nothing_are_nan_as_numpy():
    with np.errstate(invalid="ignore", divide="ignore"), pytest.warns(RuntimeWarning):
        assert np.isnan(Tensor(np.zeros((0, 2))).var(axis=0).data).all()
        assert np.isnan(Tensor(np.zeros(1)).std(ddof=1).data)


@pytest.mark.parametrize("offset", [1e3, -1e3, 1e300])
@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_logsumexp_does_not_overflow(offset, data, shape, keepdims):
    axis = data.draw(axes(len(shape)))
    # Quarters: x + 1e3 is exact, and lse(x + c) = lse(x) + c.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-8, 8).map(lambda k: k / 4)))
    t = Tensor(x + offset, requires_grad=True)
    with np.errstate(over="raise", invalid="raise"):
        out = t.logsumexp(axis, keepdims)
        out.backward(np.ones(out.shape))
    reference = Tensor(x, requires_grad=True)
    small = reference.logsumexp(axis, keepdims)
    small.backward(np.ones(small.shape))
    np.testing.assert_allclose(out.data, small.data + offset, rtol=1e-15)
    if abs(offset) < 1e4:  # at 1e300 the quarters are lost in rounding: x + c == c
        np.testing.assert_allclose(t.grad, reference.grad, rtol=1e-13)


def test_logsumexp_with_minus_infinity():
    t = Tensor([[0.0, -np.inf], [-np.inf, -np.inf]], requires_grad=True)
    out = t.logsumexp(axis=1)
    np.testing.assert_array_equal(out.data, [0.0, -np.inf])
    with np.errstate(invalid="ignore"):
        out[0].backward()
    np.testing.assert_array_equal(t.grad[0], [1.0, 0.0])


def test_norm_refuses_other_orders():
    for ord in (3, "nuc", np.inf, True):
        with pytest.raises(ValueError, match=r'Norm: ord=.*; expected 1, 2 or "fro"'):
            Tensor(np.ones(3)).norm(ord)


# --- cumsum -------------------------------------------------------------------------------------


def cumsum_axes(ndim):
    return st.none() | (st.integers(-ndim, ndim - 1) if ndim else st.nothing())


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_cumsum_gradient_of_both_orders(data, shape, seed):
    axis = data.draw(cumsum_axes(len(shape)))
    x = data.draw(floats(shape))
    assert gradcheck(lambda t: t.cumsum(axis), [x], seed=seed)
    assert gradgradcheck(lambda t: t.cumsum(axis).square(), [x], seed=seed)


@given(data=st.data(), shape=shapes())
def test_cumsum_values_and_dtype_match_numpy(data, shape):
    axis = data.draw(cumsum_axes(len(shape)))
    x = data.draw(floats(shape))
    np.testing.assert_array_equal(Tensor(x).cumsum(axis).data, np.cumsum(x, axis=axis))
    x32 = x.astype(np.float32)
    t = Tensor(x32, requires_grad=True)
    out = t.cumsum(axis)
    out.backward(np.ones(out.shape, dtype=np.float32))
    np.testing.assert_array_equal(out.data, np.cumsum(x32, axis=axis))
    assert t.grad.dtype == np.float32


@given(data=st.data(), shape=shapes(min_dims=1))
def test_cumsum_gradient_is_the_sum_from_the_end(data, shape):
    axis = data.draw(st.integers(0, len(shape) - 1))
    g = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-9, 9).map(float)))
    t = Tensor(np.zeros(shape), requires_grad=True)
    t.cumsum(axis).backward(g)
    expected = np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)  # exact: small integers
    np.testing.assert_array_equal(t.grad, expected)


def test_cumsum_of_empty_and_bad_axes():
    t = Tensor(np.zeros((0, 2)), requires_grad=True)
    t.cumsum(0).backward(np.zeros((0, 2)))
    assert t.grad.shape == (0, 2)
    with pytest.raises(TypeError, match=r"CumSum: axis=\(0, 1\); expected None or an int"):
        t.cumsum((0, 1))
    with pytest.raises(ValueError, match=r"CumSum.*\(0, 2\)"):
        t.cumsum(2)


# --- argmax, argmin -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_argmax_argmin_are_numpys_first_index_on_ties(name, data, shape, keepdims):
    axis = data.draw(cumsum_axes(len(shape)))
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.0, 0.0, 2.0])))
    t = Tensor(x, requires_grad=True)
    for result in (getattr(t, name)(axis, keepdims), getattr(tinygrad_reg, name)(x, axis)):
        assert type(result) is np.ndarray and result.dtype.kind == "i"
    result = getattr(t, name)(axis=axis, keepdims=keepdims)
    np.testing.assert_array_equal(result, getattr(np, name)(x, axis=axis, keepdims=keepdims))
    # The first tied index: nothing before it along the axis reaches the extreme.
    picked = getattr(np, name.replace("arg", ""))(x, axis=axis)
    first = np.argmax(x == (picked if axis is None else np.expand_dims(picked, axis)), axis=axis)
    np.testing.assert_array_equal(getattr(t, name)(axis), first)


def test_argmax_tie_example_and_errors():
    assert Tensor([1.0, 3.0, 3.0]).argmax() == 1
    ties = [[2.0, 1.0, 1.0], [0.0, 0.0, 5.0]]
    np.testing.assert_array_equal(tinygrad_reg.argmin(ties, 1), [1, 0])
    with pytest.raises(ValueError, match=r"argmax: shape \(0,\)"):
        Tensor(np.zeros(0)).argmax()
    with pytest.raises(TypeError, match=r"argmin: axis=\(0, 1\)"):
        Tensor(np.zeros((2, 2))).argmin(axis=(0, 1))


# --- broadcasting: reductions kept as size-1 axes feed broadcasting ops ------------------------


@given(data=st.data(), shape=shapes(min_dims=1, min_side=2), seed=seeds)
def test_standardizing_through_broadcasting(data, shape, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(grid(shape, unique=True))

    def standardize(t):
        centered = t - t.mean(axis, keepdims=True)
        return centered / t.std(axis, keepdims=True) - t.logsumexp(axis, keepdims=True)

    assert gradcheck(standardize, [x], seed=seed)
    assert gradgradcheck(standardize, [x], seed=seed)

"""softmax and log_softmax: gradients of both orders, stability at |x| = 1e3, -inf masks."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import floats, seeds, shapes

import tinygrad_reg
from tinygrad_reg import Tensor
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck

OPS = {"softmax": tinygrad_reg.softmax, "log_softmax": tinygrad_reg.log_softmax}


def numpy_softmax(x, axis):
    """The textbook formula: fine for the small inputs it is compared on."""
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def numpy_log_softmax(x, axis):
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


REFERENCES = {"softmax": numpy_softmax, "log_softmax": numpy_log_softmax}


def draw_axis(data, ndim):
    return data.draw(st.integers(-ndim, ndim - 1))


@pytest.mark.parametrize("name", OPS)
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_gradient(name, data, shape, seed):
    axis = draw_axis(data, len(shape))
    x = data.draw(floats(shape))
    assert gradcheck(lambda t: OPS[name](t, axis=axis), [x], seed=seed)


@pytest.mark.parametrize("name", OPS)
@given(data=st.data(), shape=shapes(min_dims=1), seed=seeds)
def test_second_derivative(name, data, shape, seed):
    axis = draw_axis(data, len(shape))
    x = data.draw(floats(shape))
    assert gradgradcheck(lambda t: OPS[name](t, axis=axis), [x], seed=seed)


@pytest.mark.parametrize("name", OPS)
@given(data=st.data(), shape=shapes(min_dims=1))
def test_values_match_the_formula(name, data, shape):
    axis = draw_axis(data, len(shape))
    x = data.draw(floats(shape))
    out = OPS[name](Tensor(x), axis=axis)
    # exp, a sum of at most 3 terms and one division or log: a few roundings, far below 1e-14.
    np.testing.assert_allclose(out.data, REFERENCES[name](x, axis), rtol=1e-14, atol=1e-15)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_the_method_is_the_function_and_sums_to_one(data, shape):
    axis = draw_axis(data, len(shape))
    x = data.draw(floats(shape))
    p = Tensor(x).softmax(axis=axis)
    np.testing.assert_array_equal(p.data, tinygrad_reg.softmax(x, axis).data)
    np.testing.assert_array_equal(
        Tensor(x).log_softmax(axis).data, tinygrad_reg.log_softmax(x, axis).data
    )
    np.testing.assert_allclose(p.data.sum(axis=axis), 1.0, rtol=4 * np.finfo(float).eps)


def test_default_axis_is_the_last():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(tinygrad_reg.softmax(x).data, tinygrad_reg.softmax(x, 1).data)
    np.testing.assert_allclose(tinygrad_reg.softmax(x).data, numpy_softmax(x, -1), rtol=1e-15)


# --- stability --------------------------------------------------------------------------------

quarters = st.integers(-8, 8).map(lambda k: k * 0.25)  # exact in binary, and after adding 1e3


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize("offset", [1e3, -1e3])
@given(data=st.data(), shape=shapes(min_dims=1))
def test_shifting_by_a_thousand_changes_nothing(name, offset, data, shape):
    # x + 1e3 is exact here, so max-shifting makes the two computations identical: a formula
    # without the shift would give inf/inf = NaN (or 0/0) instead.
    axis = draw_axis(data, len(shape))
    x = data.draw(hnp.arrays(np.float64, shape, elements=quarters))
    t = Tensor(x + offset, requires_grad=True)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = OPS[name](t, axis=axis)
        g = np.random.default_rng(0).standard_normal(shape)
        out.backward(g)
    expected = OPS[name](Tensor(x, requires_grad=True), axis=axis)
    np.testing.assert_array_equal(out.data, expected.data)
    expected_x = expected.grad_fn.parents[0]  # the leaf itself
    expected.backward(g)
    np.testing.assert_array_equal(t.grad, expected_x.grad)


@pytest.mark.parametrize("name", OPS)
@given(data=st.data(), n=st.integers(2, 6), seed=seeds)
def test_minus_infinity_masks_an_entry(name, data, n, seed):
    x = data.draw(floats((n,)))
    masked = data.draw(hnp.arrays(bool, (n,)).filter(lambda m: not m.all()))
    t = Tensor(np.where(masked, -np.inf, x), requires_grad=True)
    kept = Tensor(x[~masked], requires_grad=True)  # the same op on the unmasked entries alone
    g = np.random.default_rng(seed).standard_normal(n)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out = OPS[name](t)
        out.backward(g)
    kept_out = OPS[name](kept)
    kept_out.backward(g[~masked])
    expected_grad = kept.grad
    if name == "log_softmax":  # every output depends on every entry through -log Σ e^x
        expected_grad = expected_grad - np.exp(kept_out.data) * g[masked].sum()

    masked_value = 0.0 if name == "softmax" else -np.inf
    assert np.all(out.data[masked] == masked_value)
    np.testing.assert_allclose(out.data[~masked], OPS[name](x[~masked]).data, rtol=1e-15)
    assert np.all(np.isfinite(t.grad))
    np.testing.assert_allclose(t.grad[~masked], expected_grad, rtol=1e-14, atol=1e-14)
    # softmax's masked outputs are the constant 0. log_softmax's masked output is x_i − lse,
    # whose derivative along x_i is 1 (as PyTorch): it passes its own g through, and nothing
    # when a loss does not read it (next test).
    np.testing.assert_array_equal(t.grad[masked], 0.0 if name == "softmax" else g[masked])


def test_masked_log_softmax_entries_get_no_gradient_when_the_loss_ignores_them():
    # The usual masked loss picks the entries it uses, e.g. the log-probability of a label.
    t = Tensor([[2.0, -np.inf, 0.5], [-np.inf, 1.0, -1.0]], requires_grad=True)
    logp = t.log_softmax(axis=1)
    loss = -(logp[0, 0] + logp[1, 2])
    loss.backward()
    assert np.all(np.isfinite(t.grad))
    assert t.grad[0, 1] == 0.0 and t.grad[1, 0] == 0.0


@pytest.mark.parametrize("name", OPS)
def test_an_all_masked_slice_has_no_softmax(name):
    # As PyTorch: softmax over nothing but -inf is 0/0. The other slice is unaffected.
    with np.errstate(invalid="ignore"):
        out = OPS[name](np.array([[-np.inf, -np.inf], [0.0, 0.0]]), axis=1)
    assert np.isnan(out.data[0]).all()
    np.testing.assert_allclose(out.data[1], [0.5, 0.5] if name == "softmax" else np.log(0.5))


# --- dtypes, empty axes, errors ---------------------------------------------------------------


@pytest.mark.parametrize("name", OPS)
@given(data=st.data(), shape=shapes(min_dims=1))
def test_float32_stays_float32(name, data, shape):
    axis = draw_axis(data, len(shape))
    x = data.draw(floats(shape))
    t = Tensor(x.astype(np.float32), requires_grad=True)
    out = OPS[name](t, axis=axis)
    out.backward(np.ones(shape, dtype=np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    # float32 rounding of x (|x| <= 2, so 1.2e-7) and of the arithmetic: a few float32 ulps.
    expected = REFERENCES[name](x.astype(np.float32).astype(np.float64), axis)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", OPS)
@pytest.mark.parametrize(("shape", "axis"), [((0, 3), 0), ((2, 0), 1), ((0,), 0)])
def test_empty_axis(name, shape, axis):
    t = Tensor(np.zeros(shape), requires_grad=True)
    out = OPS[name](t, axis=axis)
    assert out.shape == shape
    out.backward(np.zeros(shape))
    assert t.grad.shape == shape


@pytest.mark.parametrize("name", OPS)
def test_bad_axes_are_refused(name):
    with pytest.raises(TypeError, match=r"axis=1\.0; expected an int"):
        OPS[name](np.ones(3), axis=1.0)
    with pytest.raises(ValueError, match=r"Softmax.*\(2, 3\)|LogSoftmax.*\(2, 3\)"):
        OPS[name](np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match=r"expected an axis in \[-ndim, ndim\)"):
        OPS[name](np.float64(1.0), axis=1)


def test_a_single_number_is_certain():
    # As numpy's reductions and PyTorch, a 0-d array has axis 0 (and -1): one entry, p = 1.
    assert tinygrad_reg.softmax(3.0).item() == 1.0
    assert tinygrad_reg.log_softmax(3.0, axis=0).item() == 0.0

"""exp log sqrt abs relu sigmoid tanh clip log1p expm1 log2 log10 sin cos tan sinh cosh square erf
sign floor ceil: gradients (first and second order), the kink policy, a stable sigmoid."""

import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import away_from_zero, floats, off_integers, positive, seeds, shapes
from torch_twin import assert_matches_torch

import tinygrad_reg
from tinygrad_reg import Tensor, grad
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck

# (method, strategy for inputs away from the function's kinks and singularities, numpy twin)
UNARY_OPS = {
    "exp": (Tensor.exp, floats, np.exp),
    "log": (Tensor.log, positive, np.log),
    "sqrt": (Tensor.sqrt, positive, np.sqrt),
    "abs": (Tensor.abs, away_from_zero, np.abs),
    "relu": (Tensor.relu, away_from_zero, lambda x: np.maximum(x, 0)),
    "sigmoid": (Tensor.sigmoid, lambda s: floats(s, -6, 6), lambda x: 1 / (1 + np.exp(-x))),
    "tanh": (Tensor.tanh, lambda s: floats(s, -3, 3), np.tanh),
}


@pytest.mark.parametrize("name", UNARY_OPS)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_unary_gradient(name, data, shape, seed):
    method, inputs, _ = UNARY_OPS[name]
    assert gradcheck(method, [data.draw(inputs(shape))], seed=seed)


@pytest.mark.parametrize("name", UNARY_OPS)
@given(data=st.data(), shape=shapes())
def test_unary_values_match_numpy(name, data, shape):
    method, inputs, reference = UNARY_OPS[name]
    x = data.draw(inputs(shape))
    np.testing.assert_allclose(method(Tensor(x)).data, reference(x), rtol=1e-14, atol=0)


# --- kinks: the documented derivative AT the corner ---------------------------------------


@given(data=st.data(), shape=shapes(min_dims=1))
def test_relu_and_abs_have_zero_derivative_at_zero(data, shape):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-1.5, 0.0, 0.5])))
    g = data.draw(floats(shape))
    relu_in, abs_in = Tensor(x, requires_grad=True), Tensor(x, requires_grad=True)
    relu_in.relu().backward(g)
    abs_in.abs().backward(g)
    np.testing.assert_array_equal(relu_in.grad, np.where(x > 0, g, 0.0))
    np.testing.assert_array_equal(abs_in.grad, np.where(x > 0, g, np.where(x < 0, -g, 0.0)))


@given(
    data=st.data(),
    shape=shapes(min_dims=1),
    bounds=st.tuples(st.integers(-10, 10), st.integers(-10, 10)).map(sorted),
)
def test_clip_passes_the_gradient_inside_and_on_its_bounds(data, shape, bounds):
    lo, hi = bounds[0] * 0.1, bounds[1] * 0.1
    # Elements on the bounds, inside and outside, all on one grid so equalities are exact.
    x = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(-12, 12))) * 0.1
    x = np.where(np.isclose(x, lo), lo, np.where(np.isclose(x, hi), hi, x))
    g = data.draw(floats(shape))
    t = Tensor(x, requires_grad=True)
    t.clip(lo, hi).backward(g)
    np.testing.assert_array_equal(t.grad, np.where((lo <= x) & (x <= hi), g, 0.0))


def test_clip_at_its_bounds_exactly():
    t = Tensor([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
    t.clip(-0.5, 0.5).backward(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(t.grad, [0.0, 2.0, 3.0, 4.0, 0.0])


@pytest.mark.parametrize("bounds", [(-0.5, 0.5), (-0.5, None), (None, 0.5)])
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_clip_gradient_away_from_its_bounds(bounds, data, shape, seed):
    # Odd multiples of 0.05 never touch the bounds, which are multiples of 0.1.
    odd = st.integers(-20, 19).map(lambda k: (2 * k + 1) * 0.05)
    x = data.draw(hnp.arrays(np.float64, shape, elements=odd))
    assert gradcheck(lambda t: t.clip(*bounds), [x], seed=seed)


def test_clip_refuses_lo_above_hi():
    with pytest.raises(ValueError, match=r"Clip.*lo=1.*hi=0"):
        Tensor([0.0]).clip(1.0, 0.0)


# --- sigmoid is stable for every finite input ----------------------------------------------

HUGE = [1e4, -1e4, 1e300, -1e300, 710.0, -710.0, 745.5, -745.5, np.finfo(np.float64).max]


def no_float_errors():
    """Overflow, division by zero and invalid operations raise instead of warning."""
    return np.errstate(over="raise", divide="raise", invalid="raise")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sigmoid_of_huge_inputs_is_exact_without_warnings(dtype):
    x = np.array(HUGE, dtype=np.float64).clip(np.finfo(dtype).min, np.finfo(dtype).max)
    t = Tensor(x.astype(dtype), requires_grad=True)
    with warnings.catch_warnings(), no_float_errors():
        warnings.simplefilter("error")
        out = t.sigmoid()
        out.backward(np.ones(t.shape))
    assert out.dtype == dtype
    # Far in the tails σ(x) is 1 for x > 0 and e^x for x < 0 — documented as 0 once e^-x
    # overflows (-x > log(max)), where e^x is below the smallest normal number anyway.
    x = x.astype(dtype)
    flushed = -x > np.log(np.finfo(dtype).max)
    assert np.all(np.exp(np.minimum(x[flushed], 0)) < np.finfo(dtype).smallest_normal)
    tail = np.where(x > 0, 1.0, np.where(flushed, 0.0, np.exp(np.minimum(x, 0)))).astype(dtype)
    np.testing.assert_allclose(out.data, tail, rtol=np.finfo(dtype).eps, atol=0)
    np.testing.assert_allclose(t.grad, tail * (1 - tail), rtol=np.finfo(dtype).eps, atol=0)


@given(
    x=hnp.arrays(np.float64, shapes(), elements=st.floats(allow_nan=False, allow_infinity=False))
)
def test_sigmoid_is_finite_and_in_unit_interval_for_any_finite_input(x):
    t = Tensor(x, requires_grad=True)
    with warnings.catch_warnings(), no_float_errors():
        warnings.simplefilter("error")
        out = t.sigmoid()
        out.backward(np.ones(t.shape))
    assert np.all((out.data >= 0) & (out.data <= 1))
    assert np.all(np.isfinite(t.grad)) and np.all(t.grad >= 0)


@given(x=hnp.arrays(np.float64, shapes(), elements=st.floats(-700, 700)))
def test_sigmoid_matches_the_formula_where_the_formula_is_finite(x):
    np.testing.assert_allclose(Tensor(x).sigmoid().data, 1 / (1 + np.exp(-x)), rtol=1e-14)


def test_sigmoid_backward_at_huge_inputs_through_gradcheck():
    # Far in the tails both gradients are exactly 0; gradcheck must agree there.
    assert gradcheck(Tensor.sigmoid, [np.array([-1e4, 1e4, 0.0])])


# --- log1p expm1 log2 log10 sin cos tan sinh cosh square erf -------------------------------

# (function, strategy away from singularities, reference). The functions are the top-level
# ones; each is also a Tensor method (checked below).
SMOOTH = {
    "log1p": (lambda s: floats(s, -0.9, 2.0), np.log1p),
    "expm1": (floats, np.expm1),
    "log2": (positive, np.log2),
    "log10": (positive, np.log10),
    "sin": (lambda s: floats(s, -4.0, 4.0), np.sin),
    "cos": (lambda s: floats(s, -4.0, 4.0), np.cos),
    "tan": (lambda s: floats(s, -1.2, 1.2), np.tan),  # π/2 ≈ 1.571 is the pole
    "sinh": (floats, np.sinh),
    "cosh": (floats, np.cosh),
    "square": (floats, np.square),
    "erf": (lambda s: floats(s, -4.0, 4.0), np.frompyfunc(math.erf, 1, 1)),
}
STEPS = {"sign": np.sign, "floor": np.floor, "ceil": np.ceil}


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_smooth_gradient(name, data, shape, seed):
    inputs, _ = SMOOTH[name]
    assert gradcheck(getattr(tinygrad_reg, name), [data.draw(inputs(shape))], seed=seed)


@pytest.mark.parametrize("name", SMOOTH)
@given(data=st.data(), shape=shapes(max_dims=2), seed=seeds)
def test_smooth_second_derivative(name, data, shape, seed):
    inputs, _ = SMOOTH[name]
    assert gradgradcheck(getattr(tinygrad_reg, name), [data.draw(inputs(shape))], seed=seed)


@pytest.mark.parametrize("name", [*SMOOTH, *STEPS])
@given(data=st.data(), shape=shapes())
def test_values_match_numpy_and_the_method_is_the_function(name, data, shape):
    inputs, reference = SMOOTH.get(name, (floats, STEPS.get(name)))
    x = data.draw(inputs(shape))
    out = getattr(tinygrad_reg, name)(x)
    expected = np.asarray(reference(x), dtype=np.float64)
    if name == "erf":  # numpy has no erf; ours is a Taylor table, within 2 ulp of math.erf
        assert (ulps_apart(out.data, expected) <= 2).all()
    else:  # the same numpy call on the same values: equal to the last bit
        np.testing.assert_array_equal(out.data, expected)
    np.testing.assert_array_equal(getattr(Tensor(x), name)().data, out.data)


@pytest.mark.parametrize("name", [*SMOOTH, *STEPS])
@given(data=st.data(), shape=shapes())
def test_float32_stays_float32(name, data, shape):
    inputs, _ = SMOOTH.get(name, (floats, None))
    x = data.draw(inputs(shape))
    t = Tensor(x.astype(np.float32), requires_grad=True)
    out = getattr(t, name)()
    out.backward(np.ones(shape, dtype=np.float32))
    assert out.dtype == np.float32 and t.grad.dtype == np.float32
    expected = getattr(tinygrad_reg, name)(x.astype(np.float32).astype(np.float64))
    # Computed in float32 from the same (float32) inputs: a few float32 roundings, and a
    # floor or sign of the same value is exact.
    np.testing.assert_allclose(out.data, expected.data, rtol=4e-7, atol=4e-7)


def ulps_apart(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a − b| in units of the last place of b (equal values, infinities and NaNs: 0)."""
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        return np.where(same, 0.0, np.abs(a - b) / np.spacing(np.abs(b)))


@given(
    x=hnp.arrays(
        np.float64,
        shapes(),
        elements=st.floats(allow_nan=False) | st.floats(-7, 7) | st.floats(-1e-6, 1e-6),
    )
)
def test_erf_is_within_2_ulp_of_math_erf(x):
    # Any float (tails, subnormals, infinities), the table's range and tiny |x| drawn apart.
    expected = np.array([math.erf(v) for v in x.ravel()]).reshape(x.shape)
    assert (ulps_apart(tinygrad_reg.erf(x).data, expected) <= 2).all()


def test_erf_edges():
    # Table points and midpoints between them (the largest |t|), either side of 6, zeros of
    # both signs, subnormals, infinities, NaN, float32 and float16.
    x = np.concatenate(
        [
            np.arange(-6.5, 6.5, 1 / 128),
            [0.0, -0.0, 5e-324, -1e-310, 1e-30, 6.0, 6.0 + 1e-15, 30.0, -1e300, np.inf, -np.inf],
        ]
    )
    out = tinygrad_reg.erf(x).data
    assert (ulps_apart(out, np.array([math.erf(v) for v in x])) <= 2).all()
    assert np.signbit(out[np.flatnonzero((x == 0) & np.signbit(x))]).all()
    assert out[-4:].tolist() == [1.0, -1.0, 1.0, -1.0] and out[-11] == 0.0
    assert np.isnan(tinygrad_reg.erf(np.array([np.nan, 1.0])).data[0])
    for dtype in (np.float32, np.float16):
        small = x.clip(-1e4, 1e4).astype(dtype)
        expected = np.array([math.erf(v) for v in small.tolist()]).astype(dtype)
        out_small = tinygrad_reg.erf(small).data
        assert out_small.dtype == dtype
        # Rounding a value 2 float64 ulp off can land one ulp of the small dtype away.
        assert (ulps_apart(out_small, expected) <= 1).all()


# --- sign, floor, ceil: gradient 0 -------------------------------------------------------------


@pytest.mark.parametrize("name", STEPS)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_steps_have_zero_gradient_between_jumps(name, data, shape, seed):
    x = data.draw((away_from_zero if name == "sign" else off_integers)(shape))
    assert gradcheck(getattr(tinygrad_reg, name), [x], seed=seed)


@pytest.mark.parametrize("name", STEPS)
@given(data=st.data(), shape=shapes())
def test_steps_have_zero_gradient_at_their_jumps_too(name, data, shape):
    # Integers (floor and ceil jump there) and 0 (sign does): documented 0, as PyTorch.
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([-2.0, 0.0, 1.0, 0.5])))
    t = Tensor(x, requires_grad=True)
    getattr(t, name)().backward(data.draw(floats(shape)))
    np.testing.assert_array_equal(t.grad, np.zeros(shape))
    # Recorded for higher order too: d(step(t)·t)/dt = step(t) + 0·t.
    (recorded,) = grad((getattr(t, name)() * t).sum(), t, create_graph=True)
    np.testing.assert_array_equal(recorded.data, STEPS[name](x))


# --- inverse trigonometric and hyperbolic functions, rsqrt, round: against PyTorch --------

INVERSE_OPS = {  # (method, torch twin, inputs inside the domain, away from its ends)
    "asin": (Tensor.asin, torch.asin, lambda s: floats(s, -0.9, 0.9)),
    "acos": (Tensor.acos, torch.acos, lambda s: floats(s, -0.9, 0.9)),
    "atan": (Tensor.atan, torch.atan, floats),
    "asinh": (Tensor.asinh, torch.asinh, floats),
    "acosh": (Tensor.acosh, torch.acosh, lambda s: floats(s, 1.1, 3.0)),
    "atanh": (Tensor.atanh, torch.atanh, lambda s: floats(s, -0.9, 0.9)),
    "rsqrt": (Tensor.rsqrt, torch.rsqrt, positive),
}


@pytest.mark.parametrize("name", INVERSE_OPS)
@given(data=st.data(), shape=shapes(), seed=seeds)
def test_inverse_functions_and_rsqrt_as_torch(name, data, shape, seed):
    method, twin, inputs = INVERSE_OPS[name]
    assert_matches_torch(method, twin, [data.draw(inputs(shape))], seed)


@given(data=st.data(), shape=shapes(), decimals=st.integers(0, 2), seed=seeds)
def test_round_as_torch_with_zero_gradient(data, shape, decimals, seed):
    x = data.draw(off_integers(shape)) / 10**decimals  # away from the jumps
    assert_matches_torch(
        lambda t: t.round(decimals), lambda t: torch.round(t, decimals=decimals), [x], seed
    )
    np.testing.assert_array_equal(round(Tensor(x)).data, np.round(x))

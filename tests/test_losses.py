"""binary_cross_entropy (the course's formula) and binary_cross_entropy_with_logits (fused).

Where the stable loss meets the course's formula at |Z| up to 1e3, see test_parity.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_reg import Tensor, grad
from tinygrad_reg.gradcheck import gradcheck
from tinygrad_reg.losses import (
    BinaryCrossEntropyWithLogits,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
)
from tinygrad_reg.ops.helpers import stable_sigmoid

shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=6)
logits = st.floats(-8, 8)
soft_labels = st.floats(0, 1)  # probabilities as targets, not only 0/1
inner_labels = st.floats(0.01, 0.99)  # finite differences in y stay inside [0, 1]


@st.composite
def logits_and_targets(draw, labels=soft_labels):
    shape = draw(shapes)
    Z = draw(hnp.arrays(np.float64, shape, elements=logits))
    Y = draw(hnp.arrays(np.float64, shape, elements=labels))
    return Z, Y


@given(logits_and_targets())
def test_with_logits_is_the_mean_cross_entropy_of_the_sigmoid(ZY):
    Z, Y = ZY
    m = Z.shape[-1]
    expected = -sum(
        y * math.log(1 / (1 + math.exp(-z))) + (1 - y) * math.log(1 - 1 / (1 + math.exp(-z)))
        for z, y in zip(Z.ravel(), Y.ravel())
    )
    loss = binary_cross_entropy_with_logits(Z, Y)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(expected / m, rel=1e-9)


@given(logits_and_targets(labels=st.sampled_from([0.0, 1.0])))
def test_with_logits_gradient_is_sigmoid_minus_y_over_m(ZY):
    Z, Y = ZY
    z = Tensor(Z, requires_grad=True)
    binary_cross_entropy_with_logits(z, Y).backward()
    np.testing.assert_allclose(z.grad, (stable_sigmoid(Z) - Y) / Z.shape[-1], rtol=1e-15)


@given(logits_and_targets(labels=inner_labels))
def test_with_logits_passes_gradcheck_for_z_and_y(ZY):
    assert gradcheck(binary_cross_entropy_with_logits, list(ZY))


@given(logits_and_targets())
def test_with_logits_second_derivative_is_sigmoid_prime_over_m(ZY):
    Z, Y = ZY
    m = Z.shape[-1]
    z = Tensor(Z, requires_grad=True)
    (dz,) = grad(binary_cross_entropy_with_logits(z, Y), z, create_graph=True)
    u = np.random.default_rng(0).standard_normal(Z.shape)  # a random direction
    (ddz,) = grad((dz * u).sum(), z)
    s = stable_sigmoid(Z)
    np.testing.assert_allclose(ddz.data, s * (1 - s) / m * u, rtol=1e-12, atol=1e-15)


def test_with_logits_is_one_graph_node_on_z_and_y():
    z = Tensor(np.zeros((1, 4)), requires_grad=True)
    y = Tensor(np.ones((1, 4)))
    loss = binary_cross_entropy_with_logits(z, y)
    assert isinstance(loss.grad_fn, BinaryCrossEntropyWithLogits)
    assert loss.grad_fn.inputs[0] is z and loss.grad_fn.inputs[1] is y


def test_labels_do_not_need_grad_and_get_none():
    z = Tensor(np.zeros((1, 3)), requires_grad=True)
    y = Tensor(np.ones((1, 3)))
    binary_cross_entropy_with_logits(z, y).backward()
    assert y.grad is None
    np.testing.assert_allclose(z.grad, np.full((1, 3), -0.5 / 3))


def test_integer_and_bool_labels_are_accepted():
    Z = np.array([[0.3, -1.2, 2.0]])
    floats = binary_cross_entropy_with_logits(Z, np.array([[1.0, 0.0, 1.0]])).item()
    assert binary_cross_entropy_with_logits(Z, np.array([[1, 0, 1]])).item() == floats
    assert binary_cross_entropy_with_logits(Z, np.array([[True, False, True]])).item() == floats


def test_float32_stays_float32():
    z = Tensor(np.array([[0.5, -0.5]], dtype=np.float32), requires_grad=True)
    loss = binary_cross_entropy_with_logits(z, np.array([[1, 0]]))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
def test_y_of_another_shape_is_an_error_naming_both_shapes(loss):
    with pytest.raises(
        ValueError,
        match=rf"{loss.__name__}: Y has shape \(4,\) but the prediction "
        r"has shape \(1, 4\)",
    ):
        loss(np.full((1, 4), 0.5), np.ones(4))
    with pytest.raises(ValueError, match=r"Y has shape \(1, 4\) but the prediction has shape \(4,"):
        loss(np.full(4, 0.5), np.ones((1, 4)))


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
@pytest.mark.parametrize("bad", [-1.0, 2.0, np.nan])
def test_labels_outside_0_1_are_an_error(loss, bad):
    with pytest.raises(ValueError, match=r"expected labels \(or probabilities\) in \[0, 1\]"):
        loss(np.full((1, 3), 0.5), np.array([[1.0, bad, 0.0]]))


@pytest.mark.parametrize("loss", [binary_cross_entropy, binary_cross_entropy_with_logits])
def test_no_examples_is_an_error(loss):
    with pytest.raises(ValueError, match="expected at least one example"):
        loss(np.zeros((1, 0)), np.zeros((1, 0)))


@given(
    logits_and_targets(labels=inner_labels).map(
        lambda ZY: (stable_sigmoid(ZY[0]).clip(0.01, 0.99), ZY[1])  # probabilities, not 0 or 1
    )
)
def test_course_formula_value_and_gradcheck(AY):
    A, Y = AY
    m = A.shape[-1]
    expected = -sum(
        y * math.log(a) + (1 - y) * math.log(1 - a) for a, y in zip(A.ravel(), Y.ravel())
    )
    assert binary_cross_entropy(A, Y).item() == pytest.approx(expected / m, rel=1e-12)
    assert gradcheck(binary_cross_entropy, [A, Y])


def test_course_formula_through_the_sigmoid_has_the_same_gradient_as_the_fused_loss():
    Z = np.array([[0.3, -1.2, 2.0, 4.5]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    z1, z2 = Tensor(Z, requires_grad=True), Tensor(Z, requires_grad=True)
    binary_cross_entropy(z1.sigmoid(), Y).backward()
    binary_cross_entropy_with_logits(z2, Y).backward()
    np.testing.assert_allclose(z1.grad, z2.grad, rtol=1e-12)


def test_course_formula_is_nan_where_the_output_saturates():
    """Documented: 0·log(0) where a rounds to exactly 1 (use the fused loss instead)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = binary_cross_entropy(Tensor(40.0).sigmoid().reshape(1, 1), np.array([[1.0]]))
    assert np.isnan(loss.item())
    assert binary_cross_entropy_with_logits(np.array([[40.0]]), np.array([[1.0]])).item() >= 0


# --- finite for every finite z (issue 11, item 5) --------------------------------------------


def test_with_logits_at_the_largest_logits_is_finite_and_exact():
    z = np.array([[1e308, 1e308, -1e308]])
    Y = np.array([[0.0, 0.0, 1.0]])
    loss = binary_cross_entropy_with_logits(Tensor(z), Y)
    assert math.isfinite(loss.item())
    assert loss.item() == pytest.approx(1e308, rel=1e-15)  # each term is |z|, their mean 1e308


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16])
@given(data=st.data())
def test_with_logits_is_finite_for_every_finite_logit(dtype, data):
    shape = data.draw(shapes)  # one row (the course's (1, m)) or several
    largest = float(np.finfo(dtype).max)
    finite = hnp.from_dtype(np.dtype(dtype), allow_nan=False, allow_infinity=False)
    near_overflow = st.sampled_from([largest, -largest, largest / 2])  # sums of these overflow
    Z = data.draw(hnp.arrays(dtype, shape, elements=finite | near_overflow))
    Y = data.draw(hnp.arrays(dtype, shape, elements=st.sampled_from([0.0, 0.5, 1.0])))
    z = Tensor(Z, requires_grad=True)
    loss = binary_cross_entropy_with_logits(z, Y)
    loss.backward()
    assert loss.item() >= 0 and np.isfinite(z.grad).all()
    # Against the exact Σ terms / m (math.fsum of float64 terms / 4m: nothing overflows, and the
    # exact factor 1/4 leaves room for the true value to exceed the dtype's largest number,
    # which only several rows of near-largest logits can make it do). The loss rounds each of
    # its < 40 operations, so it is within 40 units of roundoff of the dtype.
    z64, y64 = Z.astype(np.float64), Y.astype(np.float64)
    terms = np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-np.abs(z64)))
    exact_quarter = math.fsum((terms / (4 * shape[-1])).ravel())
    eps = float(np.finfo(dtype).eps)
    if exact_quarter <= largest / 4 * (1 - 40 * eps):
        assert np.isfinite(loss.item())
        assert loss.item() / 4 == pytest.approx(exact_quarter, rel=40 * eps, abs=eps)
    else:  # the true value is beyond the dtype's range
        assert loss.item() == np.inf

"""binary_cross_entropy (the course's formula), binary_cross_entropy_with_logits (fused),
cross_entropy over K classes (fused) and mse_loss.

Where the stable binary loss meets the course's formula at |Z| up to 1e3, see test_parity.py.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext
from functools import partial

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor, grad
from tinygrad_reg.nn.losses import (
    BinaryCrossEntropyWithLogits,
    CrossEntropy,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    kl_div,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from tinygrad_reg.ops.helpers import stable_sigmoid
from tinygrad_reg.testing.gradcheck import gradcheck

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
    assert loss.grad_fn.parents == (z, None)  # the labels need no gradient: no edge


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
        match=rf"{loss.__name__}: Y has shape \(5,\) but the prediction "
        r"has shape \(1, 4\)",
    ):
        loss(np.full((1, 4), 0.5), np.ones(5))
    row, flat = loss(np.full((1, 4), 0.3), np.ones((1, 4))), loss(np.full((1, 4), 0.3), np.ones(4))
    assert flat.item() == row.item()  # labels (m,) against a (1, m) prediction: the same cost
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
    # Against the exact Σ terms / m (math.fsum of float64 terms / 64m: the exact factor 1/64
    # leaves room for the true value to exceed the dtype's largest number, which only several
    # rows of near-largest logits can make it do; for at most 36 terms nothing overflows). The
    # loss rounds each of its < 40 operations: within 40 units of roundoff of the dtype.
    z64, y64 = Z.astype(np.float64), Y.astype(np.float64)
    terms = np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-np.abs(z64)))
    exact = math.fsum((terms / (64 * shape[-1])).ravel())  # / 64
    eps = float(np.finfo(dtype).eps)
    one_row = Z.size == shape[-1]  # then the true value, a mean, is <= the largest term
    close = loss.item() / 64 == pytest.approx(exact, rel=40 * eps, abs=eps)
    if one_row or exact <= largest / 64 * (1 - 40 * eps):
        assert np.isfinite(loss.item()) and close
    elif exact >= largest / 64 * (1 + 40 * eps):  # the true value is beyond the range
        assert loss.item() == np.inf
    else:  # within rounding of the largest number: either is right
        assert close or loss.item() == np.inf


# ---------------------------------------------------------------------------------------------
# cross_entropy: K classes on axis 0, one column per example
# ---------------------------------------------------------------------------------------------

U = np.finfo(np.float64).eps / 2  # unit roundoff


@st.composite
def class_logits_and_labels(draw, logit=logits):
    """Logits (C, m) with C in 2..6, m in 1..8, and class indices (m,) in 0..C-1."""
    C, m = draw(st.integers(2, 6)), draw(st.integers(1, 8))
    Z = draw(hnp.arrays(np.float64, (C, m), elements=logit))
    labels = draw(hnp.arrays(np.int64, (m,), elements=st.integers(0, C - 1)))
    return Z, labels


def one_hot(labels: np.ndarray, C: int) -> np.ndarray:
    return np.eye(C)[labels].T


def textbook_softmax(Z: np.ndarray) -> np.ndarray:
    e = np.exp(Z - Z.max(axis=0))
    return e / e.sum(axis=0)


def exact_cross_entropy(Z: np.ndarray, Y: np.ndarray) -> float:
    """-1/m·Σ y·(z - log Σ e^z) in 50-digit decimal arithmetic (float64 has 16)."""
    with localcontext() as context:
        context.prec = 50
        total = Decimal(0)
        for z, y in zip(Z.T, Y.T):
            log_sum = sum((Decimal(zc) - Decimal(z.max())).exp() for zc in z).ln() + Decimal(
                z.max()
            )
            total -= sum(Decimal(yc) * (Decimal(zc) - log_sum) for zc, yc in zip(z, y))
        return float(total / Z.shape[1])


@given(class_logits_and_labels())
def test_cross_entropy_is_the_mean_negative_log_probability_of_the_label(ZL):
    Z, labels = ZL
    m = Z.shape[1]
    expected = -math.fsum(
        z[c] - math.log(math.fsum(math.exp(zc) for zc in z)) for z, c in zip(Z.T, labels)
    )
    loss = cross_entropy(Z, labels)
    assert loss.shape == ()
    assert loss.item() == pytest.approx(expected / m, rel=1e-12, abs=1e-15)


@given(class_logits_and_labels())
def test_cross_entropy_gradient_is_exactly_softmax_minus_y_over_m(ZL):
    Z, labels = ZL
    z = Tensor(Z, requires_grad=True)
    cross_entropy(z, labels).backward()
    assert np.array_equal(z.grad, (textbook_softmax(Z) - one_hot(labels, Z.shape[0])) / Z.shape[1])


@given(class_logits_and_labels())
def test_cross_entropy_index_one_hot_and_float_labels_give_the_same_loss_and_gradient(ZL):
    Z, labels = ZL
    C, m = Z.shape
    forms = [labels, labels.reshape(1, m), labels.astype(np.float64), one_hot(labels, C)]
    forms += [one_hot(labels, C).astype(bool), Tensor(one_hot(labels, C))]
    results = []
    for form in forms:
        z = Tensor(Z, requires_grad=True)
        loss = cross_entropy(z, form)
        loss.backward()
        results.append((loss.item(), z.grad))
    for loss, gradient in results[1:]:
        assert loss == results[0][0] and np.array_equal(gradient, results[0][1])


@st.composite
def class_logits_and_soft_targets(draw):
    """Logits (C, m) and free weights W (C, m): the targets are softmax(W), soft labels."""
    C, m = draw(st.integers(2, 5)), draw(st.integers(1, 6))
    Z = draw(hnp.arrays(np.float64, (C, m), elements=logits))
    W = draw(hnp.arrays(np.float64, (C, m), elements=st.floats(-3, 3)))
    return Z, W


def soft_targets(W):
    e = W.exp()
    return e / e.sum(axis=0, keepdims=True)


@given(class_logits_and_soft_targets())
def test_cross_entropy_with_soft_targets_matches_decimal_arithmetic(ZW):
    Z, W = ZW
    Y = textbook_softmax(W)
    assert cross_entropy(Z, Y).item() == pytest.approx(exact_cross_entropy(Z, Y), rel=1e-12)


@given(class_logits_and_soft_targets(), st.floats(-3, 3).filter(lambda u: abs(u) > 0.1))
def test_cross_entropy_passes_gradcheck_in_logits_and_targets_with_random_upstream(ZW, u):
    """The targets are softmax(W) of free weights W, so finite differences keep every column
    a probability distribution (cross_entropy checks that)."""
    Z, W = ZW
    assert gradcheck(lambda z, w: cross_entropy(z, soft_targets(w)), [Z, W], upstream=np.array(u))


@given(class_logits_and_soft_targets())
def test_cross_entropy_gradient_in_the_targets_is_minus_log_softmax_over_m(ZW):
    Z, W = ZW
    y = Tensor(textbook_softmax(W), requires_grad=True)
    cross_entropy(Z, y).backward()
    log_softmax = Z - Z.max(axis=0) - np.log(np.exp(Z - Z.max(axis=0)).sum(axis=0))
    np.testing.assert_allclose(y.grad, -log_softmax / Z.shape[1], rtol=1e-14, atol=1e-300)


@given(class_logits_and_labels())
def test_cross_entropy_second_derivative_is_the_softmax_jacobian_over_m(ZL):
    """d²loss/dz² contracted with a direction u: per column (p·u - p·(pᵀu))/m."""
    Z, labels = ZL
    m = Z.shape[1]
    z = Tensor(Z, requires_grad=True)
    (dz,) = grad(cross_entropy(z, labels), z, create_graph=True)
    u = np.random.default_rng(0).standard_normal(Z.shape)
    (ddz,) = grad((dz * u).sum(), z)
    p = textbook_softmax(Z)
    np.testing.assert_allclose(
        ddz.data, (p * u - p * (p * u).sum(axis=0)) / m, rtol=1e-10, atol=1e-14
    )


@given(class_logits_and_labels())
def test_cross_entropy_first_derivative_passes_gradcheck_with_random_upstream(ZL):
    """The recorded backward pass, differentiated by the engine, against central differences
    of the first derivative's value (softmax(z) - y)/m."""
    Z, labels = ZL
    C, m = Z.shape

    def gradient(z):
        if not z.requires_grad:  # gradcheck's finite differences run without a graph
            return Tensor((textbook_softmax(z.data) - one_hot(labels, C)) / m)
        (dz,) = grad(cross_entropy(z, labels), z, create_graph=True)
        return dz

    assert gradcheck(gradient, [Z])


@given(class_logits_and_labels(logit=st.floats(-1e3, 1e3)))
def test_cross_entropy_is_finite_and_exact_for_logits_up_to_1e3(ZL):
    Z, labels = ZL
    C, m = Z.shape
    z = Tensor(Z, requires_grad=True)
    loss = cross_entropy(z, labels)
    loss.backward()
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    # z - max(z) rounds to the unit roundoff of the logits' magnitude, 1e3·U per logit
    exact = exact_cross_entropy(Z, one_hot(labels, C))
    assert loss.item() == pytest.approx(exact, rel=1e-12, abs=8 * C * 1e3 * U)
    # The probabilities are accurate to a few U; their difference from y to absolute U/m.
    expected = (textbook_softmax(Z) - one_hot(labels, C)) / m
    np.testing.assert_allclose(z.grad, expected, rtol=1e-14, atol=4 * U / m)


def test_cross_entropy_at_1e3_where_a_plain_softmax_overflows():
    Z = np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 0.0]])
    labels = np.array([1, 1, 0])  # the first is confidently wrong: its loss is 2000
    with np.errstate(over="ignore", invalid="ignore"):
        naive = np.exp(Z) / np.exp(Z).sum(axis=0)
    assert np.isnan(naive).any()
    z = Tensor(Z, requires_grad=True)
    loss = cross_entropy(z, labels)
    loss.backward()
    assert loss.item() == pytest.approx((2000 + 0 + math.log(2)) / 3, rel=1e-15)
    np.testing.assert_array_equal(z.grad, np.array([[1, 0, -0.5], [-1, 0, 0.5]]) / 3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_at_the_largest_floats_has_finite_gradients(dtype):
    """Logits ±max: their difference overflows to -inf; a wrong class at -inf adds nothing,
    a label there makes the loss (too large for the dtype) inf, the gradient stays exact."""
    big = np.finfo(dtype).max
    Z = np.array([[big, -big], [-big, big]], dtype=dtype)
    z = Tensor(Z, requires_grad=True)
    loss = cross_entropy(z, np.array([0, 1]))  # both right and sure
    loss.backward()
    assert loss.item() == 0 and np.array_equal(z.grad, np.zeros((2, 2), dtype=dtype))
    z = Tensor(Z, requires_grad=True)
    loss = cross_entropy(z, np.array([1, 1]))  # the first one surely wrong
    loss.backward()
    assert loss.item() == np.inf
    np.testing.assert_array_equal(z.grad, np.array([[1, 0], [-1, 0]], dtype=dtype) / 2)


def test_cross_entropy_is_one_graph_node_and_index_labels_get_no_gradient():
    z = Tensor(np.zeros((3, 4)), requires_grad=True)
    loss = cross_entropy(z, np.array([0, 1, 2, 0]))
    assert isinstance(loss.grad_fn, CrossEntropy) and loss.grad_fn.parents[0] is z
    assert loss.grad_fn.parents[1] is None  # the labels: no gradient, no edge
    assert CrossEntropy.save_inputs and not CrossEntropy.save_out  # reads y, not the loss


def test_cross_entropy_float32_stays_float32():
    z = Tensor(np.array([[0.5, -0.5], [1.0, 2.0]], dtype=np.float32), requires_grad=True)
    loss = cross_entropy(z, np.array([1, 0]))
    loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32


def test_cross_entropy_leaves_the_callers_arrays_alone():
    Z, labels = np.array([[0.5, -0.5], [1.0, 2.0]]), np.array([1, 0])
    Z_copy, labels_copy = Z.copy(), labels.copy()
    z = Tensor(Z, requires_grad=True)
    cross_entropy(z, labels).backward()
    assert np.array_equal(Z, Z_copy) and np.array_equal(labels, labels_copy)


Z34 = np.zeros((3, 4))


@pytest.mark.parametrize(
    ("logits", "labels", "message"),
    [
        (Z34, [0, 1, 3, 0], r"labels range over \[0, 3\]; expected class indices 0\.\.2"),
        (Z34, [0, -1, 2, 0], r"labels range over \[-1, 2\]; expected class indices 0\.\.2"),
        (Z34, [0, 1.5, 2, 0], r"the label 1\.5 is not a whole number"),
        (Z34, [0, np.nan, 2, 0], "the labels hold NaN or infinity"),
        (Z34, [0, np.inf, 2, 0], "the labels hold NaN or infinity"),
        (
            Z34,
            np.zeros((4, 3)),
            r"but labels have shape \(4, 3\); expected class indices of shape",
        ),
        (
            Z34,
            [0, 1, 2],
            r"but labels have shape \(3,\); expected class indices of shape \(4,\)",
        ),
        (Z34, np.full((3, 4), np.nan), r"expected probabilities in \[0, 1\]"),
        (Z34, np.full((3, 4), -0.5), r"expected probabilities in \[0, 1\]"),
        (Z34, np.full((3, 4), 0.5), r"example 0 sums to 1\.5; expected each column"),
        (np.zeros(4), [0, 1, 2, 0], r"logits have shape \(4,\); expected \(C, m\) with C >= 2"),
        (np.zeros((1, 4)), [0, 0, 0, 0], "use binary_cross_entropy_with_logits"),
        (np.zeros((3, 0)), np.zeros(0), r"at least one example"),
    ],
)
def test_cross_entropy_errors_name_the_problem(logits, labels, message):
    with pytest.raises(ValueError, match=message) as error:
        cross_entropy(logits, np.asarray(labels))
    assert str(error.value).startswith("cross_entropy: ")


def test_cross_entropy_labels_of_a_non_number_dtype_are_a_type_error():
    with pytest.raises(TypeError, match="cross_entropy: labels have dtype <U1"):
        cross_entropy(Z34, np.array(["a", "b", "c", "a"]))


# ---------------------------------------------------------------------------------------------
# mse_loss
# ---------------------------------------------------------------------------------------------


@st.composite
def predictions_and_targets(draw):
    shape = draw(shapes)
    elements = st.floats(-10, 10)
    return draw(hnp.arrays(np.float64, shape, elements=elements)), draw(
        hnp.arrays(np.float64, shape, elements=elements)
    )


@given(predictions_and_targets())
def test_mse_is_the_mean_of_the_squared_differences(PT):
    P, T = PT
    expected = math.fsum((p - t) ** 2 for p, t in zip(P.ravel(), T.ravel())) / P.size
    assert mse_loss(P, T).item() == pytest.approx(expected, rel=1e-13, abs=1e-300)


@given(predictions_and_targets(), st.floats(-3, 3).filter(lambda u: abs(u) > 0.1))
def test_mse_passes_gradcheck_in_both_arguments_with_random_upstream(PT, u):
    assert gradcheck(mse_loss, list(PT), upstream=np.array(u))


@given(predictions_and_targets())
def test_mse_gradients_are_plus_and_minus_two_differences_over_n(PT):
    P, T = PT
    p, t = Tensor(P, requires_grad=True), Tensor(T, requires_grad=True)
    mse_loss(p, t).backward()
    # Below the smallest normal float (2.2e-308) precision is absolute: steps of 4.9e-324.
    subnormal = 4 * np.finfo(np.float64).smallest_subnormal
    np.testing.assert_allclose(p.grad, 2 * (P - T) / P.size, rtol=1e-15, atol=subnormal)
    np.testing.assert_allclose(t.grad, -2 * (P - T) / P.size, rtol=1e-15, atol=subnormal)


@given(predictions_and_targets())
def test_mse_second_derivative_is_two_over_n(PT):
    P, T = PT
    p = Tensor(P, requires_grad=True)
    (dp,) = grad(mse_loss(p, T), p, create_graph=True)
    u = np.random.default_rng(1).standard_normal(P.shape)
    (ddp,) = grad((dp * u).sum(), p)
    np.testing.assert_allclose(ddp.data, 2 * u / P.size, rtol=1e-15)


def test_mse_float32_stays_float32_and_int_targets_are_accepted():
    p = Tensor(np.array([[0.5, -0.5]], dtype=np.float32), requires_grad=True)
    loss = mse_loss(p, np.array([[1, 0]]))
    loss.backward()
    assert loss.dtype == np.float32 and p.grad.dtype == np.float32
    assert loss.item() == pytest.approx(0.25)


def test_mse_of_different_shapes_is_an_error_naming_both():
    with pytest.raises(ValueError, match=r"mse_loss: the prediction has shape \(1, 3\) but the"):
        mse_loss(np.zeros((1, 3)), np.zeros(3))


def test_mse_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="mse_loss: the prediction is empty"):
        mse_loss(np.zeros((1, 0)), np.zeros((1, 0)))


# --- PyTorch's losses and options, against PyTorch (course layout: torch gets transposes) ----


@st.composite
def logits_and_labels(draw):
    C, m = draw(st.integers(2, 4)), draw(st.integers(1, 5))
    logits = draw(hnp.arrays(np.float64, (C, m), elements=st.floats(-3, 3)))
    labels = np.array(draw(st.lists(st.integers(0, C - 1), min_size=m, max_size=m)))
    ignored = np.array(draw(st.lists(st.booleans(), min_size=m, max_size=m)))
    weight = draw(hnp.arrays(np.float64, (C,), elements=st.floats(0.5, 2)))
    return logits, labels, ignored, weight


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=logits_and_labels(), use_weight=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_nll_loss_and_cross_entropy_options_as_torch(reduction, case, use_weight, seed):
    logits, labels, ignored, weight = case
    if reduction == "mean" and ignored.all():
        ignored[0] = False  # torch's weighted mean of nothing is 0/0
    labels = np.where(ignored, 7, labels)
    options = {"weight": weight if use_weight else None, "ignore_index": 7}
    t_options = {**options, "weight": torch.tensor(weight) if use_weight else None}
    t_labels = torch.tensor(labels)
    for ours, theirs, prepare in [
        (nll_loss, torch.nn.functional.nll_loss, lambda z: z.log_softmax(axis=0)),
        (cross_entropy, torch.nn.functional.cross_entropy, lambda z: z),
    ]:
        assert_matches_torch(
            lambda z, ours=ours, prepare=prepare: ours(
                prepare(z), labels, reduction=reduction, **options
            ),
            lambda z, theirs=theirs: theirs(
                z.T if theirs is torch.nn.functional.cross_entropy else z.T.log_softmax(1),
                t_labels,
                reduction=reduction,
                **t_options,
            ),
            [logits],
            seed,
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=logits_and_labels(), seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_with_probabilities_weight_and_reduction_as_torch(reduction, case, seed):
    logits, _, _, weight = case
    targets = np.exp(logits[::-1]) / np.exp(logits[::-1]).sum(axis=0)
    assert_matches_torch(
        lambda z, y: cross_entropy(z, y, weight=weight, reduction=reduction),
        lambda z, y: torch.nn.functional.cross_entropy(
            z.T, y.T, weight=torch.tensor(weight), reduction=reduction
        ),
        [logits, targets],
        seed,
    )


def pairs_away_from_the_kink(beta):
    """prediction and target whose differences are >= 0.01 from 0 and from ±beta."""
    steps = st.integers(-200, 200).filter(
        lambda k: k != 0 and abs(abs(k) * 0.01 - beta) >= 0.01 - 1e-12
    )
    shape = st.tuples(st.integers(1, 3), st.integers(1, 4))
    return shape.flatmap(
        lambda s: st.tuples(
            hnp.arrays(np.float64, s, elements=st.floats(-2, 2)),
            hnp.arrays(np.int64, s, elements=steps).map(lambda k: k * 0.01),
        )
    ).map(lambda pd: (pd[0], pd[0] - pd[1]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=pairs_away_from_the_kink(0.7), seed=st.integers(0, 2**32 - 1))
def test_regression_losses_as_torch(reduction, case, seed):
    F = torch.nn.functional
    for ours, theirs in [
        (mse_loss, F.mse_loss),
        (l1_loss, F.l1_loss),
        (partial(huber_loss, delta=0.7), partial(F.huber_loss, delta=0.7)),
        (partial(smooth_l1_loss, beta=0.7), partial(F.smooth_l1_loss, beta=0.7)),
        (partial(smooth_l1_loss, beta=0.0), partial(F.smooth_l1_loss, beta=0.0)),
    ]:
        assert_matches_torch(
            partial(ours, reduction=reduction), partial(theirs, reduction=reduction), case, seed
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.filterwarnings("ignore::UserWarning")  # torch: its "mean" will change; .T of 0-d
@given(case=logits_and_labels(), log_target=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_kl_div_as_torch(reduction, case, log_target, seed):
    logits, _, ignored, _ = case
    target = np.exp(logits[::-1]) / np.exp(logits[::-1]).sum(axis=0)
    target = np.where(ignored, 0.0, target)  # zeros: terms of 0
    if log_target:
        target = np.log(target + 0.1)
    log_probs = logits - np.log(np.exp(logits).sum(axis=0))
    assert_matches_torch(
        lambda x, y: kl_div(x, y, reduction=reduction, log_target=log_target),
        lambda x, y: (
            torch.nn.functional.kl_div(x.T, y.T, reduction=reduction, log_target=log_target).T
        ),
        [log_probs, target],
        seed,
        differentiable=[True, log_target or not ignored.any()],
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: mse_loss([1.0], [1.0], reduction="avg"), "mse_loss: reduction='avg'"),
        (lambda: nll_loss([[0.0], [0.0]], [2]), r"nll_loss: labels range over \[2, 2\]"),
        (lambda: nll_loss([[0.0], [0.0]], [0], weight=[1.0]), r"nll_loss: weight has shape"),
        (lambda: huber_loss([1.0], [1.0], delta=0), "huber_loss: delta=0"),
    ],
)
def test_bad_loss_options_are_errors_naming_the_loss(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- label smoothing --------------------------------------------------------------------------

smoothing = st.floats(0, 1)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(
    case=logits_and_labels(),
    use_weight=st.booleans(),
    use_ignore=st.booleans(),
    epsilon=smoothing,
    seed=st.integers(0, 2**32 - 1),
)
def test_cross_entropy_label_smoothing_with_index_labels_as_torch(
    reduction, case, use_weight, use_ignore, epsilon, seed
):
    logits, labels, ignored, weight = case
    if not use_ignore:
        ignored[:] = False
    elif reduction == "mean" and ignored.all():
        ignored[0] = False  # torch's weighted mean of nothing is 0/0
    labels = np.where(ignored, 7, labels)
    weight = weight if use_weight else None
    assert_matches_torch(
        lambda z: cross_entropy(z, labels, weight, 7, reduction=reduction, label_smoothing=epsilon),
        lambda z: torch.nn.functional.cross_entropy(
            z.T,
            torch.tensor(labels),
            None if weight is None else torch.tensor(weight),
            ignore_index=7,
            reduction=reduction,
            label_smoothing=epsilon,
        ),
        [logits],
        seed,
    )


@given(case=logits_and_labels(), epsilon=smoothing, seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_label_smoothing_in_the_fused_node_as_torch(case, epsilon, seed):
    """No weight, no ignore_index, "mean": the one-node path, labels as indices or one-hot."""
    logits, labels, _, _ = case
    one_hot = np.eye(logits.shape[0])[labels].T
    for ours in (labels, one_hot):
        assert_matches_torch(
            lambda z, ours=ours: cross_entropy(z, ours, label_smoothing=epsilon),
            lambda z: torch.nn.functional.cross_entropy(
                z.T, torch.tensor(labels), label_smoothing=epsilon
            ),
            [logits],
            seed,
        )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@given(case=logits_and_labels(), epsilon=smoothing, seed=st.integers(0, 2**32 - 1))
def test_cross_entropy_label_smoothing_with_probabilities_as_torch(reduction, case, epsilon, seed):
    logits, _, _, weight = case
    targets = np.exp(logits[::-1]) / np.exp(logits[::-1]).sum(axis=0)
    assert_matches_torch(
        lambda z, y: cross_entropy(
            z, y, weight=weight, reduction=reduction, label_smoothing=epsilon
        ),
        lambda z, y: torch.nn.functional.cross_entropy(
            z.T, y.T, weight=torch.tensor(weight), reduction=reduction, label_smoothing=epsilon
        ),
        [logits, targets],
        seed,
    )


def smoothed(Y, epsilon):
    return Y * (1 - epsilon) + epsilon / 2


@pytest.mark.parametrize("loss", ["with_logits", "course"])
@given(ZY=logits_and_targets(labels=st.sampled_from([0.0, 1.0])), epsilon=smoothing)
def test_binary_label_smoothing_is_the_loss_of_the_smoothed_targets(loss, ZY, epsilon):
    """The formula y' = y(1 − ε) + ε/2, term by term in Python's math, and torch's
    binary_cross_entropy_with_logits given the smoothed targets."""
    Z, Y = ZY
    y_smooth = smoothed(Y, epsilon)
    expected = (
        -sum(
            y * math.log(stable_sigmoid(z)) + (1 - y) * math.log(stable_sigmoid(-z))
            for z, y in zip(Z.ravel(), y_smooth.ravel())
        )
        / Z.shape[-1]
    )
    if loss == "course":
        ours = binary_cross_entropy(Tensor(Z).sigmoid(), Y, label_smoothing=epsilon)
    else:
        ours = binary_cross_entropy_with_logits(Z, Y, label_smoothing=epsilon)
    torch_sum = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(Z), torch.tensor(y_smooth), reduction="sum"
    )
    assert ours.item() == pytest.approx(expected, rel=1e-9)
    assert ours.item() == pytest.approx(torch_sum.item() / Z.shape[-1], rel=1e-9)


@given(ZY=logits_and_targets(labels=st.sampled_from([0.0, 1.0])), epsilon=smoothing)
def test_binary_label_smoothing_gradients_as_torch_with_smoothed_targets(ZY, epsilon):
    Z, Y = ZY
    seed = int(abs(Z).sum() * 1e6) % 2**32
    assert_matches_torch(
        lambda z: binary_cross_entropy_with_logits(z, Y, label_smoothing=epsilon),
        lambda z: (
            torch.nn.functional.binary_cross_entropy_with_logits(
                z, torch.tensor(smoothed(Y, epsilon)), reduction="sum"
            )
            / Z.shape[-1]
        ),
        [Z],
        seed,
    )
    z = Tensor(Z, requires_grad=True)
    binary_cross_entropy_with_logits(z, Y, label_smoothing=epsilon).backward()
    expected = (stable_sigmoid(Z) - smoothed(Y, epsilon)) / Z.shape[-1]
    np.testing.assert_allclose(z.grad, expected, rtol=1e-14, atol=1e-17)


@given(ZY=logits_and_targets(labels=inner_labels), epsilon=smoothing)
def test_binary_label_smoothing_passes_gradcheck_in_z_and_y(ZY, epsilon):
    assert gradcheck(partial(binary_cross_entropy_with_logits, label_smoothing=epsilon), list(ZY))


def test_smoothed_binary_loss_is_lowest_at_the_finite_logit_log_of_2_minus_eps_over_eps():
    epsilon = 0.2
    best = np.log((2 - epsilon) / epsilon)
    z = Tensor([[best, -best]], requires_grad=True)
    binary_cross_entropy_with_logits(z, [[1, 0]], label_smoothing=epsilon).backward()
    np.testing.assert_allclose(z.grad, 0.0, atol=1e-16)


@pytest.mark.parametrize(
    "loss",
    [
        lambda eps: cross_entropy([[0.0], [1.0]], [0], label_smoothing=eps),
        lambda eps: binary_cross_entropy_with_logits([[0.0]], [[1.0]], label_smoothing=eps),
        lambda eps: binary_cross_entropy([[0.5]], [[1.0]], label_smoothing=eps),
    ],
)
@pytest.mark.parametrize(
    ("bad", "error"),
    [(-0.1, ValueError), (1.5, ValueError), (np.nan, ValueError), (True, TypeError)],
)
def test_label_smoothing_outside_0_1_is_an_error_naming_it(loss, bad, error):
    with pytest.raises(error, match=r"label_smoothing=.*expected a number in \[0, 1\]"):
        loss(bad)

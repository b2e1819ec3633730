"""Autodiff equals the hand-written reference: the centre of the project.

For random course networks (tinygrad_reg.testing.networks: depth 1-4, widths 1-30, m 1-64,
λ in [0, 5], penalty none/l2/l1/elastic, kink-free by construction) the cost, every dW and db,
and the intermediate dZ and dA computed by tinygrad_reg's autodiff (MLP + the stable fused loss
+ the fused penalty) equal those of reference.py, in float64, to a relative 1e-10.

Comparisons are elementwise: |autodiff - reference| <= 1e-10·(|reference| + max|reference|).
The second term is there because dW and db are sums over examples: rounding error of a sum is
relative to the size of its terms, not to the sum, which can cancel to nearly 0. A wrong
gradient is off by far more than either term.

The same holds for softmax networks over C classes (networks(multiclass=True): C in 2..5, Y
one-hot (C, m)) with the fused cross_entropy against the reference's softmax output and
categorical cross-entropy: the section "Softmax networks" below.

The reference's dZ_l and dA_l are the course's: m times ∂cost/∂Z_l (the course applies the 1/m
when forming dW and db), so they are compared with m·Z_l.grad.
"""

from __future__ import annotations

import math
from decimal import Decimal, localcontext

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_reg import Tensor, linear
from tinygrad_reg import reference as R
from tinygrad_reg.nn import MLP, Dropout
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits, cross_entropy
from tinygrad_reg.nn.regularizers import penalty
from tinygrad_reg.testing import Network, gradient_check_n, networks
from tinygrad_reg.testing.compare import autodiff_gradients
from tinygrad_reg.testing.gradcheck import gradcheck

RTOL = 1e-10
U = np.finfo(np.float64).eps / 2  # unit roundoff


def assert_close(actual: np.ndarray, expected: np.ndarray, rtol: float = RTOL, what: str = ""):
    scale = float(np.abs(expected).max(initial=0.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


# ---------------------------------------------------------------------------------------------
# The two sides
# ---------------------------------------------------------------------------------------------


def course_loss(Z, Y: np.ndarray):
    """The fused loss matching the reference's output: binary for one row, else K classes."""
    return cross_entropy(Z, Y) if Y.shape[0] > 1 else binary_cross_entropy_with_logits(Z, Y)


def autodiff_side(net: Network, dropout: bool) -> tuple[float, dict, MLP]:
    """The cost and gradients by autodiff: course names (dW1, db1, dZ1, dA1, ...) → arrays,
    with dZ and dA scaled by m as the course's are."""
    keep_prob = net.keep_prob if dropout else 1.0
    model = MLP.from_parameters(net.parameters, keep_prob=keep_prob, rng=_masks(net))
    cost, gradients = autodiff_gradients(model, net.X, net.Y, net.penalty, net.lambd)
    return cost, gradients, model


def reference_side(net: Network, dropout: bool) -> tuple[float, dict, tuple]:
    X, Y, parameters = net.X, net.Y, net.parameters
    if dropout:
        A_L, cache = R.forward_propagation_with_dropout(X, parameters, net.keep_prob, _masks(net))
        gradients = R.backward_propagation_with_dropout(
            X, Y, cache, net.keep_prob, net.lambd, net.penalty
        )
    else:
        A_L, cache = R.forward_propagation(X, parameters)
        gradients = R.backward_propagation_with_regularization(X, Y, cache, net.lambd, net.penalty)
    cost = R.compute_cost_with_regularization(A_L, Y, parameters, net.lambd, net.penalty)
    return cost, gradients, cache


def _masks(net: Network) -> np.random.RandomState:
    return np.random.RandomState(net.seed)


def assert_same_cost_and_gradients(net: Network, dropout: bool) -> tuple[MLP, tuple]:
    cost, gradients, model = autodiff_side(net, dropout)
    expected_cost, expected, cache = reference_side(net, dropout)
    assert_close(cost, expected_cost, what="cost")
    assert sorted(gradients) == sorted(expected)  # every dW, db, dZ, dA
    for name in expected:
        assert_close(gradients[name], expected[name], what=name)
    return model, cache


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------


@given(networks())
def test_cost_and_every_gradient_equal_the_reference(net):
    assert_same_cost_and_gradients(net, dropout=False)


@given(networks(dropout=True))
def test_with_dropout_the_same_masks_give_the_same_gradients(net):
    model, cache = assert_same_cost_and_gradients(net, dropout=True)
    dropouts = [layer for layer in model.layers if isinstance(layer, Dropout)]
    if net.keep_prob < 1:
        L = len(net.layer_dims) - 1
        assert len(dropouts) == L - 1
        for l, layer in enumerate(dropouts, start=1):
            assert np.array_equal(layer.mask, cache[5 * (l - 1) + 1])  # D_l


def test_at_the_relu_kink_both_sides_use_relu_prime_of_0_equal_0():
    rng = np.random.RandomState(0)
    parameters = R.initialize_parameters([3, 4, 2, 1], seed=1)
    X = rng.randn(3, 5)
    X[:, 2] = 0.0  # with b1 = 0, Z1[:, 2] is exactly 0: every unit sits on the kink
    parameters["b2"] = np.array([[0.5], [-0.3]])  # so that some gradient reaches A1[:, 2]
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0]])
    net = Network(parameters, X, Y, lambd=0.0, penalty="none", keep_prob=1.0, seed=0)
    _, cache = assert_same_cost_and_gradients(net, dropout=False)
    assert np.all(cache[0][:, 2] == 0)  # Z1 on the kink
    _, gradients, _ = autodiff_side(net, dropout=False)
    expected = R.backward_propagation(X, Y, cache)
    assert np.all(expected["dZ1"][:, 2] == 0) and np.all(gradients["dZ1"][:, 2] == 0)
    assert np.any(expected["dA1"][:, 2] != 0)  # a gradient did arrive, and relu' stopped it


def test_at_the_l1_kink_both_sides_use_sign_of_0_equal_0():
    parameters = R.initialize_parameters([3, 4, 1], seed=2)
    parameters["W2"][0, 1] = 0.0
    rng = np.random.RandomState(1)
    X, Y = rng.randn(3, 6), np.array([[1.0, 0.0, 0.0, 1.0, 1.0, 0.0]])
    net = Network(parameters, X, Y, lambd=0.7, penalty="l1", keep_prob=1.0, seed=0)
    assert_same_cost_and_gradients(net, dropout=False)
    _, gradients, _ = autodiff_side(net, dropout=False)
    _, cache = R.forward_propagation(X, parameters)
    without_penalty = R.backward_propagation(X, Y, cache)["dW2"][0, 1]
    with_penalty = R.backward_propagation_with_regularization(X, Y, cache, 0.7, "l1")
    assert with_penalty["dW2"][0, 1] == without_penalty  # λ/m·sign(0) = 0 added
    assert gradients["dW2"][0, 1] == pytest.approx(without_penalty, rel=RTOL)


# ---------------------------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------------------------

STEPS, LEARNING_RATE = 10, 0.1


@pytest.mark.parametrize("multiclass", [False, True], ids=["binary", "softmax"])
@pytest.mark.parametrize("kind", ["none", "l2", "l1", "dropout"])
@given(data=st.data())
def test_gradient_descent_gives_the_same_parameters(kind, multiclass, data):
    dropout = kind == "dropout"
    penalties = ("none",) if dropout else (kind,)
    net = data.draw(networks(penalties=penalties, dropout=dropout, multiclass=multiclass))
    X, Y, m = net.X, net.Y, net.X.shape[1]

    parameters, masks = net.parameters, _masks(net)
    for _ in range(STEPS):
        if dropout:
            _, cache = R.forward_propagation_with_dropout(X, parameters, net.keep_prob, masks)
            grads = R.backward_propagation_with_dropout(X, Y, cache, net.keep_prob)
        else:
            _, cache = R.forward_propagation(X, parameters)
            grads = R.backward_propagation_with_regularization(X, Y, cache, net.lambd, net.penalty)
        parameters = R.update_parameters(parameters, grads, LEARNING_RATE)

    model = MLP.from_parameters(net.parameters, keep_prob=net.keep_prob, rng=_masks(net))
    for _ in range(STEPS):
        model.zero_grad()
        cost = course_loss(model(X), Y) + penalty(net.penalty, model, net.lambd, m)
        cost.backward()
        for p in model.parameters():
            p.data = p.data - LEARNING_RATE * p.grad

    trained = model.to_parameters()
    for name in parameters:
        assert_close(trained[name], parameters[name], rtol=1e-9, what=name)
    L = len(net.layer_dims) - 1
    assert not np.array_equal(trained[f"b{L}"], net.parameters[f"b{L}"])  # it did train


# ---------------------------------------------------------------------------------------------
# Both sides pass gradient checks
# ---------------------------------------------------------------------------------------------

small_networks = networks(max_depth=3, max_width=5, max_examples=8)


def reference_cost_function(net: Network, dropout: bool):
    def cost(parameters):
        if dropout:
            A_L, _ = R.forward_propagation_with_dropout(
                net.X, parameters, net.keep_prob, _masks(net)
            )
        else:
            A_L, _ = R.forward_propagation(net.X, parameters)
        return R.compute_cost_with_regularization(A_L, net.Y, parameters, net.lambd, net.penalty)

    return cost


@given(small_networks)
def test_the_reference_passes_the_courses_gradient_check(net):
    _, gradients, _ = reference_side(net, dropout=False)
    cost = reference_cost_function(net, dropout=False)
    assert gradient_check_n(cost, net.parameters, gradients) < 1e-6


@given(networks(max_depth=3, max_width=5, max_examples=8, dropout=True))
def test_the_reference_with_dropout_passes_the_courses_gradient_check(net):
    _, gradients, _ = reference_side(net, dropout=True)
    cost = reference_cost_function(net, dropout=True)
    assert gradient_check_n(cost, net.parameters, gradients) < 1e-6


def autodiff_cost_function(net: Network, dropout: bool):
    """The network as a function of W1, b1, ..., WL, bL (Tensors), for gradcheck."""
    m = net.X.shape[1]

    def cost(*flat):
        weights, biases = flat[0::2], flat[1::2]
        masks = _masks(net)  # the same masks at every evaluation
        A = Tensor(net.X)
        for l, (W, b) in enumerate(zip(weights, biases), start=1):
            A = linear(A, W, b)
            if l < len(weights):
                A = A.relu()
                if dropout:
                    A = Dropout(keep_prob=net.keep_prob, rng=masks)(A)
        loss = course_loss(A, net.Y)
        return loss + penalty(net.penalty, list(weights), net.lambd, m)

    return cost


def in_course_order(parameters: dict) -> list[np.ndarray]:
    L = len(parameters) // 2
    return [parameters[f"{kind}{l}"] for l in range(1, L + 1) for kind in "Wb"]


@given(small_networks)
def test_autodiff_passes_gradcheck(net):
    assert gradcheck(autodiff_cost_function(net, dropout=False), in_course_order(net.parameters))


@given(networks(max_depth=3, max_width=5, max_examples=8, dropout=True))
def test_autodiff_with_dropout_passes_gradcheck(net):
    assert gradcheck(autodiff_cost_function(net, dropout=True), in_course_order(net.parameters))


# ---------------------------------------------------------------------------------------------
# Softmax networks: C classes, the same proofs
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["none", "l2", "l1", "elastic"])
@given(data=st.data())
def test_softmax_network_cost_and_every_gradient_equal_the_reference(kind, data):
    net = data.draw(networks(multiclass=True, penalties=(kind,)))
    assert net.Y.shape[0] == net.layer_dims[-1] >= 2
    assert_same_cost_and_gradients(net, dropout=False)


@given(networks(multiclass=True, dropout=True))
def test_softmax_network_with_dropout_gives_the_same_gradients(net):
    assert_same_cost_and_gradients(net, dropout=True)


small_softmax_networks = networks(max_depth=3, max_width=5, max_examples=8, multiclass=True)


@given(small_softmax_networks)
def test_the_softmax_reference_passes_the_courses_gradient_check(net):
    _, gradients, _ = reference_side(net, dropout=False)
    cost = reference_cost_function(net, dropout=False)
    assert gradient_check_n(cost, net.parameters, gradients) < 1e-6


@given(small_softmax_networks)
def test_softmax_autodiff_passes_gradcheck(net):
    assert gradcheck(autodiff_cost_function(net, dropout=False), in_course_order(net.parameters))


def test_softmax_reference_predicts_the_most_probable_class_and_agrees_with_mlp():
    parameters = R.initialize_parameters([2, 5, 3], seed=4)
    X = np.random.RandomState(2).randn(2, 40)
    A_L, _ = R.forward_propagation(X, parameters)
    assert A_L.shape == (3, 40)
    np.testing.assert_allclose(A_L.sum(axis=0), 1.0, rtol=1e-15)
    predicted = R.predict(X, parameters)
    assert predicted.shape == (1, 40) and set(np.unique(predicted)) <= {0, 1, 2}
    assert np.array_equal(predicted[0], A_L.argmax(axis=0))
    assert np.array_equal(MLP.from_parameters(parameters).predict(X), predicted)


# ---------------------------------------------------------------------------------------------
# The stable loss against the course's formula
# ---------------------------------------------------------------------------------------------


def exact_loss_and_gradient(z: float, y: float, m: int) -> tuple[float, float]:
    """-log σ(z) = log(1 + e^-z) for y = 1, -log(1 - σ(z)) = log(1 + e^z) for y = 0, and
    σ(z) - y, in 60-digit decimal arithmetic (float64 has 16)."""
    with localcontext() as context:
        context.prec = 60
        sign = 1 - 2 * int(y)  # +1 for y = 0, -1 for y = 1
        e = (sign * Decimal(z)).exp()
        # log(1 + e) = e - e²/2 + ...: the series where 1 + e would drop e's digits
        loss = (1 + e).ln() if e > Decimal("1e-20") else e - e * e / 2
        gradient = sign * e / (1 + e) / m  # σ(z) = e^z/(1 + e^z), σ(z) - 1 = -e^-z/(1 + e^-z)
        return float(loss), float(gradient)


logits_and_labels = st.integers(1, 16).flatmap(
    lambda m: st.tuples(
        hnp.arrays(np.float64, (1, m), elements=st.floats(-1e3, 1e3)),
        hnp.arrays(np.float64, (1, m), elements=st.sampled_from([0.0, 1.0])),
    )
)


@given(logits_and_labels)
def test_stable_loss_is_finite_and_exact_for_logits_up_to_1e3(ZY):
    Z, Y = ZY
    m = Z.shape[1]
    z = Tensor(Z, requires_grad=True)
    loss = binary_cross_entropy_with_logits(z, Y)
    loss.backward()
    exact = [exact_loss_and_gradient(zi, yi, m) for zi, yi in zip(Z[0], Y[0])]
    exact_loss = math.fsum(loss_i for loss_i, _ in exact) / m
    exact_gradient = np.array([[gradient for _, gradient in exact]])
    assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))
    assert loss.item() == pytest.approx(exact_loss, rel=1e-12, abs=1e-300)
    # σ(z) - y loses relative precision where σ(z) rounds near y, never absolute precision.
    np.testing.assert_allclose(z.grad, exact_gradient, rtol=1e-12, atol=4 * U / m)


@given(
    hnp.arrays(np.float64, 16, elements=st.floats(-1e3, 1e3)),
    hnp.arrays(np.float64, 16, elements=st.sampled_from([0.0, 1.0])),
)
def test_stable_loss_equals_the_courses_formula_wherever_that_is_finite(z, y):
    """The course's formula log(1 - σ(z)) for y = 0 magnifies the rounding of σ(z) near 1 by
    σ/(1 - σ); each example is compared within that, its own rounding error."""
    for zi, yi in zip(z, y):
        Z, Y = np.array([[zi]]), np.array([[yi]])
        A = R.sigmoid(Z)
        naive = R.compute_cost(A, Y)
        if not np.isfinite(naive):
            continue
        stable = binary_cross_entropy_with_logits(Tensor(Z), Y).item()
        a = A.item()
        magnification = (1 - yi) * a / (1 - a) if a < 1 else 0.0
        assert abs(stable - naive) <= 8 * U * (1 + abs(naive) + magnification), (zi, yi)


def test_where_the_courses_formula_saturates_the_stable_loss_stays_finite():
    Z = np.array([[40.0, -40.0, 1e3, -1e3]])
    Y = np.array([[0.0, 1.0, 0.0, 1.0]])  # confidently wrong: the loss is about |z|
    assert R.compute_cost(R.sigmoid(Z), Y) == np.inf
    z = Tensor(Z, requires_grad=True)
    loss = binary_cross_entropy_with_logits(z, Y)
    loss.backward()
    assert loss.item() == pytest.approx((40 + 40 + 1e3 + 1e3) / 4, rel=1e-12)
    np.testing.assert_allclose(z.grad, np.array([[1.0, -1.0, 1.0, -1.0]]) / 4, rtol=1e-12)

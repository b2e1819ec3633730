"""The hand-written reference: its structures (the course's), its formulas and its errors.

That its gradients are right is proven in test_parity.py (gradient_check_n, and agreement with
autodiff); here each piece is checked against the math written out independently.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg import reference as R
from tinygrad_reg.testing import networks

small_networks = networks(max_depth=4, max_width=6, max_examples=6)


def data(layer_dims: list[int], m: int, seed: int = 0):
    rng = np.random.RandomState(seed)
    X = rng.randn(layer_dims[0], m)
    Y = (rng.rand(1, m) < 0.5).astype(float)
    return X, Y


# --- parameters ------------------------------------------------------------------------------


def test_initialize_parameters_is_the_courses_scheme():
    parameters = R.initialize_parameters([4, 3, 2, 1], seed=5)
    rng = np.random.RandomState(5)
    assert list(parameters) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for l, (n, n_prev) in enumerate([(3, 4), (2, 3), (1, 2)], start=1):
        np.testing.assert_array_equal(parameters[f"W{l}"], rng.randn(n, n_prev) / np.sqrt(n_prev))
        np.testing.assert_array_equal(parameters[f"b{l}"], np.zeros((n, 1)))


@pytest.mark.parametrize("layer_dims", [[3], [3, 0, 1], [2, 1.5, 1]])
def test_initialize_parameters_rejects_bad_layer_dims(layer_dims):
    with pytest.raises(ValueError, match="initialize_parameters: layer_dims"):
        R.initialize_parameters(layer_dims)


def test_layer_dims_of_reads_the_shapes_and_names_what_is_wrong():
    parameters = R.initialize_parameters([5, 4, 1])
    assert R.layer_dims_of(parameters) == [5, 4, 1]
    with pytest.raises(ValueError, match=r"got keys \['W1', 'W2', 'b1'\]"):
        R.layer_dims_of({k: v for k, v in parameters.items() if k != "b2"})
    with pytest.raises(ValueError, match=r"W2 has shape \(1, 3\)"):
        R.layer_dims_of({**parameters, "W2": np.zeros((1, 3))})
    with pytest.raises(ValueError, match=r"b1 has shape \(4,\)"):
        R.layer_dims_of({**parameters, "b1": np.zeros(4)})


def test_update_parameters_takes_a_step_and_leaves_the_inputs_alone():
    parameters = R.initialize_parameters([3, 2, 1])
    grads = {"d" + k: np.full_like(v, 0.5) for k, v in parameters.items()}
    before = {k: v.copy() for k, v in parameters.items()}
    updated = R.update_parameters(parameters, grads, learning_rate=0.1)
    for key in parameters:
        np.testing.assert_array_equal(updated[key], before[key] - 0.05)
        np.testing.assert_array_equal(parameters[key], before[key])
    with pytest.raises(ValueError, match="update_parameters: grads has no db2"):
        R.update_parameters(parameters, {k: v for k, v in grads.items() if k != "db2"}, 0.1)


# --- forward ---------------------------------------------------------------------------------


def test_forward_propagation_has_the_courses_12_tuple_cache():
    parameters = R.initialize_parameters([3, 4, 2, 1], seed=1)
    X, _ = data([3, 4, 2, 1], m=5)
    A3, cache = R.forward_propagation(X, parameters)
    Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3_cached, W3, b3 = cache
    assert W1 is parameters["W1"] and b1 is parameters["b1"] and b3 is parameters["b3"]
    np.testing.assert_array_equal(Z1, parameters["W1"] @ X + parameters["b1"])
    np.testing.assert_array_equal(A1, np.maximum(Z1, 0))
    np.testing.assert_array_equal(Z2, W2 @ A1 + b2)
    np.testing.assert_array_equal(A2, np.maximum(Z2, 0))
    np.testing.assert_array_equal(Z3, W3 @ A2 + b3)
    np.testing.assert_allclose(A3, 1 / (1 + np.exp(-Z3)), rtol=1e-15)
    assert A3_cached is A3


@pytest.mark.parametrize("layer_dims", [[3, 1], [3, 5, 1], [2, 4, 4, 3, 3, 1]])
def test_forward_propagation_works_for_any_depth(layer_dims):
    parameters = R.initialize_parameters(layer_dims)
    X, _ = data(layer_dims, m=7)
    A_L, cache = R.forward_propagation(X, parameters)
    L = len(layer_dims) - 1
    assert len(cache) == 4 * L and A_L.shape == (1, 7)
    A = X
    for l in range(1, L + 1):  # the cache's Z, then activation, layer after layer
        Z = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        A = np.maximum(Z, 0) if l < L else 1 / (1 + np.exp(-Z))
        np.testing.assert_allclose(cache[4 * (l - 1)], Z, rtol=1e-15)
    np.testing.assert_allclose(A_L, A, rtol=1e-15)


def test_dropout_draws_its_masks_layer_by_layer_from_the_given_rng():
    parameters = R.initialize_parameters([3, 4, 5, 1], seed=1)
    X, _ = data([3, 4, 5, 1], m=6)
    keep_prob = 0.6
    _A3, cache = R.forward_propagation_with_dropout(
        X, parameters, keep_prob, np.random.RandomState(9)
    )
    assert len(cache) == 14  # the course's (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3)
    Z1, D1, A1, _, _, Z2, D2, A2, W2, b2, Z3, _, W3, b3 = cache
    rng = np.random.RandomState(9)
    np.testing.assert_array_equal(D1, rng.rand(4, 6) < keep_prob)
    np.testing.assert_array_equal(D2, rng.rand(5, 6) < keep_prob)
    np.testing.assert_array_equal(A1, np.maximum(Z1, 0) * D1 / keep_prob)
    np.testing.assert_array_equal(Z2, W2 @ A1 + b2)
    np.testing.assert_array_equal(A2, np.maximum(Z2, 0) * D2 / keep_prob)
    np.testing.assert_array_equal(Z3, W3 @ A2 + b3)
    assert 0 < D1.sum() < D1.size  # some units dropped, some kept


@given(small_networks)
def test_dropout_with_keep_prob_1_is_the_plain_network(net):
    A, cache = R.forward_propagation(net.X, net.parameters)
    A_d, cache_d = R.forward_propagation_with_dropout(
        net.X, net.parameters, 1.0, np.random.RandomState(0)
    )
    np.testing.assert_array_equal(A_d, A)
    plain = R.backward_propagation(net.X, net.Y, cache)
    dropped = R.backward_propagation_with_dropout(net.X, net.Y, cache_d, 1.0)
    assert sorted(plain) == sorted(dropped)
    for key in plain:
        np.testing.assert_array_equal(dropped[key], plain[key])


def test_predict_thresholds_the_probabilities_at_one_half():
    parameters = R.initialize_parameters([3, 4, 1], seed=2)
    X, _ = data([3, 4, 1], m=50)
    A, _ = R.forward_propagation(X, parameters)
    predictions = R.predict(X, parameters)
    assert predictions.shape == (1, 50) and set(np.unique(predictions)) <= {0, 1}
    np.testing.assert_array_equal(predictions == 1, A > 0.5)


# --- cost ------------------------------------------------------------------------------------


@given(
    st.lists(st.tuples(st.floats(0.01, 0.99), st.sampled_from([0.0, 1.0])), min_size=1, max_size=9)
)
def test_compute_cost_is_the_mean_cross_entropy(pairs):
    A = np.array([[a for a, _ in pairs]])
    Y = np.array([[y for _, y in pairs]])
    expected = -sum(y * math.log(a) + (1 - y) * math.log(1 - a) for a, y in pairs) / len(pairs)
    assert R.compute_cost(A, Y) == pytest.approx(expected, rel=1e-12)


def test_compute_cost_skips_the_0_log_0_of_a_right_saturated_output():
    A, Y = np.array([[1.0, 0.0, 0.5]]), np.array([[1.0, 0.0, 1.0]])
    assert R.compute_cost(A, Y) == pytest.approx(math.log(2) / 3, rel=1e-15)
    assert R.compute_cost(np.array([[0.0]]), np.array([[1.0]])) == np.inf  # saturated, wrong


def test_compute_cost_rejects_y_of_another_shape():
    with pytest.raises(ValueError, match=r"compute_cost: Y has shape \(3,\).*\(1, 3\)"):
        R.compute_cost(np.full((1, 3), 0.5), np.ones(3))
    with pytest.raises(ValueError, match=r"compute_cost: Y has shape \(3,\).*\(3,\)"):
        R.compute_cost(np.full(3, 0.5), np.ones(3))  # course layout only: (1, m)


@given(small_networks)
def test_regularized_cost_adds_the_penalty_of_the_weights_only(net):
    A, _ = R.forward_propagation(net.X, net.parameters)
    cost = R.compute_cost(A, net.Y)
    m, lam = net.X.shape[1], net.lambd
    weights = [v for k, v in net.parameters.items() if k.startswith("W")]
    squares = sum(float((W**2).sum()) for W in weights)
    absolutes = sum(float(np.abs(W).sum()) for W in weights)
    expected = {
        "none": cost,
        "l2": cost + lam / (2 * m) * squares,
        "l1": cost + lam / m * absolutes,
        "elastic": cost + lam / m * absolutes + lam / (2 * m) * squares,
    }
    for kind, value in expected.items():
        got = R.compute_cost_with_regularization(A, net.Y, net.parameters, lam, kind)
        assert got == pytest.approx(value, rel=1e-12)
    # a different bias changes nothing in the penalty
    moved = {k: (v + 1.0 if k.startswith("b") else v) for k, v in net.parameters.items()}
    moved_cost = R.compute_cost_with_regularization(A, net.Y, moved, lam, net.penalty)
    assert moved_cost == R.compute_cost_with_regularization(
        A, net.Y, net.parameters, lam, net.penalty
    )


def test_elastic_takes_a_pair_of_lambdas():
    parameters = R.initialize_parameters([3, 2, 1])
    X, Y = data([3, 2, 1], m=4)
    A, _ = R.forward_propagation(X, parameters)
    l1 = R.compute_cost_with_regularization(A, Y, parameters, 0.3, "l1")
    l2 = R.compute_cost_with_regularization(A, Y, parameters, 0.7, "l2")
    both = R.compute_cost_with_regularization(A, Y, parameters, (0.3, 0.7), "elastic")
    assert both == pytest.approx(l1 + l2 - R.compute_cost(A, Y), rel=1e-14)


@pytest.mark.parametrize(
    ("lambd", "penalty", "message"),
    [
        (0.1, "L2", "unknown penalty 'L2'; expected one of 'none', 'l2', 'l1', 'elastic'"),
        (-1.0, "l2", "expected finite λ >= 0"),
        (float("nan"), "l1", "expected finite λ >= 0"),
        ((0.1, 0.2), "l2", "only for penalty='elastic'"),
    ],
)
def test_bad_penalty_arguments_are_named(lambd, penalty, message):
    parameters = R.initialize_parameters([3, 2, 1])
    X, Y = data([3, 2, 1], m=4)
    A, cache = R.forward_propagation(X, parameters)
    with pytest.raises(ValueError, match=f"compute_cost_with_regularization: .*{message}"):
        R.compute_cost_with_regularization(A, Y, parameters, lambd, penalty)
    with pytest.raises(ValueError, match=f"backward_propagation_with_regularization: .*{message}"):
        R.backward_propagation_with_regularization(X, Y, cache, lambd, penalty)


# --- backward --------------------------------------------------------------------------------


def test_backward_propagation_has_the_courses_keys_and_formulas():
    parameters = R.initialize_parameters([3, 4, 2, 1], seed=1)
    X, Y = data([3, 4, 2, 1], m=5)
    _, cache = R.forward_propagation(X, parameters)
    Z1, _A1, _W1, _, Z2, A2, W2, _, _, A3, W3, _ = cache
    g = R.backward_propagation(X, Y, cache)
    expected_keys = ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]
    assert list(g) == expected_keys
    m = 5
    np.testing.assert_array_equal(g["dZ3"], A3 - Y)
    np.testing.assert_allclose(g["dW3"], (A3 - Y) @ A2.T / m, rtol=1e-14)
    np.testing.assert_allclose(g["db3"], (A3 - Y).sum(axis=1, keepdims=True) / m, rtol=1e-14)
    np.testing.assert_allclose(g["dA2"], W3.T @ g["dZ3"], rtol=1e-14)
    np.testing.assert_array_equal(g["dZ2"], g["dA2"] * (Z2 > 0))
    np.testing.assert_allclose(g["dA1"], W2.T @ g["dZ2"], rtol=1e-14)
    np.testing.assert_array_equal(g["dZ1"], g["dA1"] * (Z1 > 0))
    np.testing.assert_allclose(g["dW1"], g["dZ1"] @ X.T / m, rtol=1e-14)


@given(small_networks)
def test_regularized_backward_adds_the_penalty_gradient_to_weights_only(net):
    _, cache = R.forward_propagation(net.X, net.parameters)
    plain = R.backward_propagation(net.X, net.Y, cache)
    m, lam = net.X.shape[1], net.lambd
    for kind in R.PENALTIES:
        g = R.backward_propagation_with_regularization(net.X, net.Y, cache, lam, kind)
        for key, value in net.parameters.items():
            extra = 0.0
            if key.startswith("W") and kind in ("l2", "elastic"):
                extra = extra + lam / m * value
            if key.startswith("W") and kind in ("l1", "elastic"):
                extra = extra + lam / m * np.sign(value)
            np.testing.assert_allclose(g["d" + key], plain["d" + key] + extra, rtol=1e-13)


def test_l1_gradient_uses_sign_of_0_equal_0():
    parameters = R.initialize_parameters([3, 2, 1], seed=4)
    parameters["W1"][1, 2] = 0.0
    X, Y = data([3, 2, 1], m=4)
    _, cache = R.forward_propagation(X, parameters)
    plain = R.backward_propagation(X, Y, cache)
    g = R.backward_propagation_with_regularization(X, Y, cache, 2.0, "l1")
    assert g["dW1"][1, 2] == plain["dW1"][1, 2]
    assert g["dW1"][0, 0] == plain["dW1"][0, 0] + 2.0 / 4 * np.sign(parameters["W1"][0, 0])


def test_dropout_backward_masks_and_scales_like_the_forward():
    parameters = R.initialize_parameters([3, 4, 5, 1], seed=1)
    X, Y = data([3, 4, 5, 1], m=6)
    keep_prob = 0.6
    _, cache = R.forward_propagation_with_dropout(
        X, parameters, keep_prob, np.random.RandomState(2)
    )
    _Z1, D1, A1, _, _, Z2, D2, _A2, W2, _, _, A3, W3, _ = cache
    g = R.backward_propagation_with_dropout(X, Y, cache, keep_prob)
    np.testing.assert_allclose(g["dA2"], W3.T @ (A3 - Y) * D2 / keep_prob, rtol=1e-14)
    np.testing.assert_array_equal(g["dZ2"], g["dA2"] * (Z2 > 0))
    np.testing.assert_allclose(g["dA1"], W2.T @ g["dZ2"] * D1 / keep_prob, rtol=1e-14)
    np.testing.assert_allclose(g["dW2"], g["dZ2"] @ A1.T / 6, rtol=1e-14)
    assert np.all(g["dA1"][~D1] == 0) and np.all(g["dA2"][~D2] == 0)


@pytest.mark.parametrize("keep_prob", [0.0, -0.5, 1.5])
def test_dropout_rejects_keep_prob_outside_0_1(keep_prob):
    parameters = R.initialize_parameters([3, 2, 1])
    X, _ = data([3, 2, 1], m=4)
    with pytest.raises(ValueError, match="forward_propagation_with_dropout: keep_prob="):
        R.forward_propagation_with_dropout(X, parameters, keep_prob, np.random.RandomState(0))


def test_shape_errors_name_the_function_and_the_shapes():
    parameters = R.initialize_parameters([3, 2, 1])
    X, Y = data([3, 2, 1], m=4)
    with pytest.raises(ValueError, match=r"forward_propagation: X has shape \(4, 3\).*\(3, m\)"):
        R.forward_propagation(X.T, parameters)
    _, cache = R.forward_propagation(X, parameters)
    with pytest.raises(ValueError, match=r"backward_propagation: Y has shape \(4,\)"):
        R.backward_propagation(X, Y.ravel(), cache)
    with pytest.raises(ValueError, match=r"backward_propagation: X has shape \(3, 5\)"):
        R.backward_propagation(np.zeros((3, 5)), Y, cache)
    with pytest.raises(ValueError, match="backward_propagation: the cache has 7 entries"):
        R.backward_propagation(X, Y, cache[:7])
    _, dropout_cache = R.forward_propagation_with_dropout(
        X, R.initialize_parameters([3, 2, 2, 1]), 0.5, np.random.RandomState(0)
    )
    with pytest.raises(ValueError, match="backward_propagation: the cache has 14 entries"):
        R.backward_propagation(X, Y, dropout_cache)


def test_model_refuses_a_bad_log_every_and_parameters_of_another_network():
    X, Y = np.ones((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    with pytest.raises(ValueError, match="log_every"):
        R.model(X, Y, [2, 3, 1], num_iterations=2, log_every=0)
    small = R.initialize_parameters([2, 4, 1])
    with pytest.raises(ValueError, match=r"\[2, 4, 1\], not \[2, 20, 3, 1\]"):
        R.model(X, Y, [2, 20, 3, 1], num_iterations=2, parameters=small)


# --- softmax networks: C >= 2 output units -------------------------------------------------------


@given(st.integers(2, 5), st.integers(1, 8), st.integers(0, 2**32 - 1))
def test_softmax_columns_are_probabilities_and_shift_invariant(C, m, seed):
    Z = 5 * np.random.RandomState(seed).randn(C, m)
    A = R.softmax(Z)
    expected = np.exp(Z) / np.exp(Z).sum(axis=0)  # the definition, fine for |Z| this small
    np.testing.assert_allclose(A, expected, rtol=1e-14)
    np.testing.assert_allclose(R.softmax(Z + 1e3), A, rtol=1e-12)  # would overflow unshifted


def test_output_activation_is_sigmoid_for_one_unit_and_softmax_for_more():
    Z1, Z3 = np.array([[0.5, -2.0]]), np.array([[0.5, -2.0], [1.0, 0.0], [0.0, 3.0]])
    assert np.array_equal(R.output_activation(Z1), R.sigmoid(Z1))
    assert np.array_equal(R.output_activation(Z3), R.softmax(Z3))


def test_convert_to_one_hot_is_the_courses_and_checks_the_labels():
    Y = np.array([[2, 0, 1, 2]])
    expected = np.array([[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]], dtype=float)
    assert np.array_equal(R.convert_to_one_hot(Y, 3), expected)
    assert np.array_equal(R.convert_to_one_hot(Y.ravel().astype(float), 3), expected)
    for bad in ([[0, 3]], [[-1, 0]], [[0.5, 1]]):
        with pytest.raises(ValueError, match="convert_to_one_hot: labels in"):
            R.convert_to_one_hot(np.array(bad), 3)


def test_softmax_network_forward_cost_and_predict():
    parameters = R.initialize_parameters([2, 4, 3], seed=1)
    X = np.random.RandomState(0).randn(2, 5)
    labels = np.array([[0, 2, 1, 1, 0]])
    Y = R.convert_to_one_hot(labels, 3)
    A_L, cache = R.forward_propagation(X, parameters)
    Z_L = cache[-4]
    assert np.array_equal(A_L, R.softmax(Z_L))
    expected = -sum(math.log(A_L[c, i]) for i, c in enumerate(labels[0])) / 5
    assert R.compute_cost(A_L, Y) == pytest.approx(expected, rel=1e-14)
    assert np.array_equal(R.predict(X, parameters), A_L.argmax(axis=0).reshape(1, 5))
    gradients = R.backward_propagation(X, Y, cache)
    assert np.array_equal(gradients["dZ2"], A_L - Y)  # softmax + cross-entropy: A - Y


def test_softmax_cost_skips_0_log_0_and_is_infinite_when_surely_wrong():
    A_L = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert R.compute_cost(A_L, np.array([[1.0, 0.0], [0.0, 1.0]])) == 0.0
    assert R.compute_cost(A_L, np.array([[0.0, 0.0], [1.0, 1.0]])) == np.inf


@pytest.mark.parametrize("penalty", ["none", "l2", "l1"])
def test_softmax_model_trains_on_three_separable_classes(penalty):
    rng = np.random.RandomState(0)
    labels = rng.randint(0, 3, 60)
    centres = np.array([[2.0, -2.0, 0.0], [0.0, 0.0, 2.5]])
    X = centres[:, labels] + 0.3 * rng.randn(2, 60)
    Y = R.convert_to_one_hot(labels, 3)
    parameters, costs = R.model(
        X, Y, [2, 5, 3], num_iterations=300, lambd=0.1, penalty=penalty, log_every=100
    )
    assert costs[-1] < costs[0] / 5
    assert np.array_equal(R.predict(X, parameters)[0], labels)

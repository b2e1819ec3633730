"""The course network by hand: numpy forward and backward passes, no autodiff.

LINEAR→RELU→...→LINEAR→RELU→LINEAR→SIGMOID in the course layout: X is (n_0, m), one column
per example; W_l is (n_l, n_{l-1}) and b_l is (n_l, 1). With n_L = C >= 2 output units the
same network classifies C classes: the output is LINEAR→SOFTMAX, Y holds one one-hot column
per example (``convert_to_one_hot``), and the cost is the categorical cross-entropy. Every
function below serves both; the number of output units decides. The names and structures follow the
course's regularization assignment so the two can be read side by side: ``parameters`` is the
dict {"W1", "b1", ..., "WL", "bL"}; for 3 layers the cache is the course's 12-tuple
(Z1, A1, W1, b1, Z2, A2, W2, b2, Z3, A3, W3, b3), and the same pattern continues for any depth.

This file is the yardstick: the tests prove that tinygrad_reg's automatic gradients equal the
ones computed here.

Sigmoid with binary cross-entropy and softmax with categorical cross-entropy have the same
gradient at the top, ∂cost/∂Z_L = (A_L - Y)/m, so one backward pass serves both.

The course's gradients dict holds dZ_l = A_L - Y at the top (and dA_l, dZ_l below it) *without*
the 1/m of the mean: the 1/m is applied when forming dW_l and db_l. So dZ_l and dA_l here are
m times ∂cost/∂Z_l and ∂cost/∂A_l, while dW_l and db_l are exactly ∂cost/∂W_l and ∂cost/∂b_l.

Penalties (over the weights W_l only; biases are never penalized):

- "l2":      cost += λ/(2m)·Σ_l ΣW_l²,    dW_l += λ/m·W_l
- "l1":      cost += λ/m·Σ_l Σ|W_l|,      dW_l += λ/m·sign(W_l), with sign(0) = 0
- "elastic": both; ``lambd`` is one λ for both parts or a pair (λ1, λ2)
- "none":    nothing added
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

PENALTIES = ("none", "l2", "l1", "elastic")

Parameters = dict[str, np.ndarray]
Cache = tuple[np.ndarray, ...]
#: λ: one strength, or a pair (λ1, λ2) for the elastic net
Strength = float | tuple[float, float]


# ---------------------------------------------------------------------------------------------
# Activations
# ---------------------------------------------------------------------------------------------


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """σ(Z) = 1 / (1 + e^-Z), as the course writes it."""
    with np.errstate(over="ignore"):  # e^-Z = inf for Z < -709 gives 1/inf = 0, the limit
        return 1 / (1 + np.exp(-Z))


def relu(Z: np.ndarray) -> np.ndarray:
    """max(0, Z)."""
    return np.maximum(0, Z)


def softmax(Z: np.ndarray) -> np.ndarray:
    """e^Z / Σ_classes e^Z, column by column (classes on axis 0). Each column's largest logit
    is subtracted first: the result is the same, and e^(Z - max) <= 1 cannot overflow."""
    e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def output_activation(Z_L: np.ndarray) -> np.ndarray:
    """The output layer's activation: sigmoid for one output unit (the probability of label 1),
    softmax over the units for C >= 2 (the probability of each class)."""
    return sigmoid(Z_L) if Z_L.shape[0] == 1 else softmax(Z_L)


def convert_to_one_hot(Y: np.ndarray, C: int) -> np.ndarray:
    """Class indices 0..C-1, of shape (m,) or (1, m), as one-hot columns (C, m)."""
    labels = np.asarray(Y).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= C or np.any(labels % 1 != 0)):
        raise ValueError(
            f"convert_to_one_hot: labels in [{labels.min()}, {labels.max()}]; expected whole "
            f"numbers 0..{C - 1} for C = {C} classes."
        )
    return np.eye(C)[labels.astype(np.int64)].T


# ---------------------------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------------------------


def initialize_parameters(layer_dims: list[int], seed: int = 3) -> Parameters:
    """W_l = randn(n_l, n_{l-1}) / √n_{l-1} and b_l = 0, drawn layer by layer from
    ``np.random.RandomState(seed)`` (the course's scheme)."""
    if len(layer_dims) < 2 or any(int(n) != n or n < 1 for n in layer_dims):
        raise ValueError(
            f"initialize_parameters: layer_dims={list(layer_dims)}; expected at least two "
            "positive integers [n_0 (features), n_1, ..., n_L]."
        )
    rng = np.random.RandomState(seed)
    parameters = {}
    for l in range(1, len(layer_dims)):
        n, n_prev = layer_dims[l], layer_dims[l - 1]
        parameters["W" + str(l)] = rng.randn(n, n_prev) / np.sqrt(n_prev)
        parameters["b" + str(l)] = np.zeros((n, 1))
    return parameters


def layer_dims_of(parameters: Parameters, where: str = "parameters") -> list[int]:
    """[n_0, n_1, ..., n_L] read from the shapes of W1, b1, ..., WL, bL, after checking that the
    keys are exactly those and the shapes chain (W_l is (n_l, n_{l-1}), b_l is (n_l, 1))."""
    L = sum(1 for key in parameters if key.startswith("W"))
    expected = [f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"]
    if L == 0 or sorted(parameters) != sorted(expected):
        raise ValueError(
            f"{where}: got keys {sorted(parameters)}; expected exactly W1, b1, ..., WL, bL "
            f"(for {max(L, 1)} layers: {expected or ['W1', 'b1']})."
        )
    dims = [np.shape(parameters["W1"])[-1]]
    for l in range(1, L + 1):
        W, b = np.shape(parameters[f"W{l}"]), np.shape(parameters[f"b{l}"])
        if len(W) != 2 or W[1] != dims[-1] or b != (W[0], 1):
            raise ValueError(
                f"{where}: W{l} has shape {W} and b{l} has shape {b}; expected W{l} of shape "
                f"(n_{l}, {dims[-1]}) (it multiplies the {dims[-1]} rows coming from layer "
                f"{l - 1}) and b{l} of shape (n_{l}, 1)."
            )
        dims.append(W[0])
    return dims


def _check_X(X: np.ndarray, parameters: Parameters, where: str) -> int:
    """The number of layers L, after checking that X fits W1."""
    dims = layer_dims_of(parameters, where)
    if np.ndim(X) != 2 or X.shape[0] != dims[0]:
        raise ValueError(
            f"{where}: X has shape {np.shape(X)}; expected ({dims[0]}, m), one column per "
            f"example (W1 has shape {parameters['W1'].shape})."
        )
    return len(dims) - 1


def _check_Y(A_L: np.ndarray, Y: np.ndarray, where: str) -> None:
    if np.shape(Y) != np.shape(A_L) or np.ndim(Y) != 2:
        raise ValueError(
            f"{where}: Y has shape {np.shape(Y)} but the output has shape {np.shape(A_L)}; "
            "expected the same shape, (1, m) or one-hot (C, m) (convert_to_one_hot makes it "
            "from class indices). (A (m,) Y would broadcast to (m, m) silently.)"
        )


def update_parameters(parameters: Parameters, grads: dict, learning_rate: float) -> Parameters:
    """One gradient descent step, W_l ← W_l - α·dW_l and b_l ← b_l - α·db_l, as a new dict."""
    missing = [f"d{key}" for key in parameters if f"d{key}" not in grads]
    if missing:
        raise ValueError(f"update_parameters: grads has no {', '.join(missing)}.")
    return {key: value - learning_rate * grads["d" + key] for key, value in parameters.items()}


# ---------------------------------------------------------------------------------------------
# Forward
# ---------------------------------------------------------------------------------------------


def forward_propagation(X: np.ndarray, parameters: Parameters) -> tuple[np.ndarray, Cache]:
    """LINEAR→RELU for layers 1..L-1, LINEAR→SIGMOID for layer L (LINEAR→SOFTMAX if it has
    C >= 2 units).

    Returns A_L (the probabilities, (1, m) or (C, m)) and the cache
    (Z1, A1, W1, b1, ..., ZL, AL, WL, bL).
    """
    L = _check_X(X, parameters, "forward_propagation")
    A: np.ndarray = X
    cache: Cache = ()
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        A = relu(Z) if l < L else output_activation(Z)
        cache += (Z, A, W, b)
    return A, cache


def forward_propagation_with_dropout(
    X: np.ndarray, parameters: Parameters, keep_prob: float, rng: np.random.RandomState
) -> tuple[np.ndarray, Cache]:
    """forward_propagation with inverted dropout after every hidden activation.

    For each hidden layer, in order: D_l = rng.rand(*A_l.shape) < keep_prob (keep each unit with
    probability keep_prob), A_l = A_l·D_l / keep_prob (scaling up keeps the expected value of A_l
    unchanged, so nothing changes at test time). The output layer is never dropped.

    The cache holds (Z_l, D_l, A_l, W_l, b_l) per hidden layer and (Z_L, A_L, W_L, b_L) for the
    output: for 3 layers, the course's (Z1, D1, A1, W1, b1, Z2, D2, A2, W2, b2, Z3, A3, W3, b3).
    """
    L = _check_X(X, parameters, "forward_propagation_with_dropout")
    _check_keep_prob(keep_prob, "forward_propagation_with_dropout")
    A: np.ndarray = X
    cache: Cache = ()
    for l in range(1, L + 1):
        W, b = parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A) + b
        if l == L:
            A = output_activation(Z)
            cache += (Z, A, W, b)
        else:
            A = relu(Z)
            D = rng.rand(A.shape[0], A.shape[1]) < keep_prob
            A = A * D  # shut down the dropped units
            A = A / keep_prob  # keep the expected value of A unchanged
            cache += (Z, D, A, W, b)
    return A, cache


def _check_keep_prob(keep_prob: float, where: str) -> None:
    if not 0 < keep_prob <= 1:
        raise ValueError(f"{where}: keep_prob={keep_prob}; expected 0 < keep_prob <= 1.")


# ---------------------------------------------------------------------------------------------
# Cost
# ---------------------------------------------------------------------------------------------


def compute_cost(A_L: np.ndarray, Y: np.ndarray) -> float:
    """Cross-entropy cost, -1/m·Σ[y·log(a) + (1-y)·log(1-a)], computed as the course does;
    for C >= 2 softmax outputs the categorical cross-entropy -1/m·Σ_examples Σ_classes y·log(a).

    ``nansum`` skips the 0·log(0) = NaN terms of a saturated output that is right (a = 1 with
    y = 1, or a = 0 with y = 0): their limit is 0. A saturated output that is wrong gives an
    infinite cost.
    """
    _check_Y(A_L, Y, "compute_cost")
    m = Y.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) and 0·∞, handled by nansum
        if A_L.shape[0] == 1:
            logprobs = np.multiply(-np.log(A_L), Y) + np.multiply(-np.log(1 - A_L), 1 - Y)
        else:
            logprobs = np.multiply(-np.log(A_L), Y)
    return float(1.0 / m * np.nansum(logprobs))


def _penalty_strengths(lambd: Strength, penalty: str, where: str) -> tuple[float, float]:
    """(λ1, λ2): the strengths of the L1 and L2 parts of ``penalty``."""
    if penalty not in PENALTIES:
        raise ValueError(
            f"{where}: unknown penalty {penalty!r}; expected one of "
            + ", ".join(repr(p) for p in PENALTIES)
            + "."
        )
    if penalty == "elastic" and isinstance(lambd, (tuple, list)):
        l1, l2 = lambd
    elif isinstance(lambd, (tuple, list)):
        raise ValueError(f"{where}: a pair of λ (l1, l2) is only for penalty='elastic'.")
    else:
        l1 = l2 = lambd
    if not (np.isfinite(l1) and np.isfinite(l2) and l1 >= 0 and l2 >= 0):
        raise ValueError(f"{where}: lambd={lambd!r}; expected finite λ >= 0.")
    return (l1 if penalty in ("l1", "elastic") else 0.0), (
        l2 if penalty in ("l2", "elastic") else 0.0
    )


def compute_cost_with_regularization(
    A_L: np.ndarray, Y: np.ndarray, parameters: Parameters, lambd: Strength, penalty: str = "l2"
) -> float:
    """compute_cost plus the penalty on the weights: λ/(2m)·ΣW² (l2), λ/m·Σ|W| (l1), both
    (elastic) or nothing (none). Biases are not penalized."""
    l1, l2 = _penalty_strengths(lambd, penalty, "compute_cost_with_regularization")
    cross_entropy_cost = compute_cost(A_L, Y)
    m = Y.shape[1]
    L = len(layer_dims_of(parameters, "compute_cost_with_regularization")) - 1
    weights = [parameters["W" + str(l)] for l in range(1, L + 1)]
    L1_regularization_cost = l1 / m * sum(np.sum(np.abs(W)) for W in weights)
    L2_regularization_cost = l2 / (2 * m) * sum(np.sum(np.square(W)) for W in weights)
    return float(cross_entropy_cost + L1_regularization_cost + L2_regularization_cost)


# ---------------------------------------------------------------------------------------------
# Backward
# ---------------------------------------------------------------------------------------------


def _layers(cache: Cache, dropout: bool, where: str) -> list[tuple]:
    """The cache cut into one (Z, D, A, W, b) per layer; D is None where nothing was dropped."""
    hidden = 5 if dropout else 4  # entries per hidden layer: (Z, D, A, W, b) or (Z, A, W, b)
    if len(cache) < 4 or (len(cache) - 4) % hidden:
        raise ValueError(
            f"{where}: the cache has {len(cache)} entries; expected {hidden}·(L-1) + 4 for L "
            "layers, as returned by forward_propagation"
            + (
                "_with_dropout."
                if dropout
                else " (use backward_propagation_with_dropout for a dropout cache)."
            )
        )
    layers: list[tuple] = []
    for start in range(0, len(cache) - 4, hidden):
        if dropout:
            layers.append(cache[start : start + 5])
        else:
            Z, A, W, b = cache[start : start + 4]
            layers.append((Z, None, A, W, b))
    Z, A, W, b = cache[-4:]
    layers.append((Z, None, A, W, b))
    return layers


def _backward(
    X: np.ndarray, Y: np.ndarray, layers: list[tuple], keep_prob: float, where: str
) -> dict:
    """Backprop through the layers; the three public backward functions share it."""
    A_L, W1 = layers[-1][2], layers[0][3]
    if np.ndim(X) != 2 or X.shape != (W1.shape[1], A_L.shape[1]):
        raise ValueError(
            f"{where}: X has shape {np.shape(X)}; expected {(W1.shape[1], A_L.shape[1])}, the "
            "X the cache was computed from."
        )
    _check_Y(A_L, Y, where)
    m = X.shape[1]
    L = len(layers)
    gradients = {}
    dZ = A_L - Y  # sigmoid or softmax + cross-entropy: ∂cost/∂Z_L = (A_L - Y)/m; 1/m below
    for l in range(L, 0, -1):
        _, _, _, W, _ = layers[l - 1]
        A_prev = layers[l - 2][2] if l > 1 else X
        gradients["dZ" + str(l)] = dZ
        gradients["dW" + str(l)] = 1.0 / m * np.dot(dZ, A_prev.T)
        gradients["db" + str(l)] = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
        if l == 1:
            break
        Z_prev, D_prev, _, _, _ = layers[l - 2]
        dA = np.dot(W.T, dZ)
        if D_prev is not None:
            dA = dA * D_prev  # the units shut down in the forward pass get no gradient
            dA = dA / keep_prob  # the same scaling as in the forward pass
        gradients["dA" + str(l - 1)] = dA
        dZ = np.multiply(dA, np.int64(Z_prev > 0))  # relu'(Z) = 1 where Z > 0, else 0
    return gradients


def _add_penalty_gradient(
    gradients: dict, layers: list[tuple], m: int, lambd, penalty: str, where: str
) -> dict:
    l1, l2 = _penalty_strengths(lambd, penalty, where)
    for l, (_, _, _, W, _) in enumerate(layers, start=1):
        if l1:
            gradients["dW" + str(l)] = gradients["dW" + str(l)] + l1 / m * np.sign(W)
        if l2:
            gradients["dW" + str(l)] = gradients["dW" + str(l)] + l2 / m * W
    return gradients


def backward_propagation(X: np.ndarray, Y: np.ndarray, cache: Cache) -> dict:
    """Gradients of compute_cost: dZ_L = A_L - Y, then for l = L..1
    dW_l = 1/m·dZ_l·A_{l-1}ᵀ, db_l = 1/m·Σ_examples dZ_l, dA_{l-1} = W_lᵀ·dZ_l,
    dZ_{l-1} = dA_{l-1}·relu'(Z_{l-1}) (relu'(0) = 0)."""
    where = "backward_propagation"
    return _backward(X, Y, _layers(cache, False, where), 1.0, where)


def backward_propagation_with_regularization(
    X: np.ndarray, Y: np.ndarray, cache: Cache, lambd: Strength, penalty: str = "l2"
) -> dict:
    """backward_propagation plus the penalty's gradient on each weight:
    dW_l += λ/m·W_l (l2), dW_l += λ/m·sign(W_l) (l1, sign(0) = 0), both (elastic)."""
    where = "backward_propagation_with_regularization"
    layers = _layers(cache, False, where)
    gradients = _backward(X, Y, layers, 1.0, where)
    return _add_penalty_gradient(gradients, layers, X.shape[1], lambd, penalty, where)


def backward_propagation_with_dropout(
    X: np.ndarray,
    Y: np.ndarray,
    cache: Cache,
    keep_prob: float,
    lambd: Strength = 0.0,
    penalty: str = "none",
) -> dict:
    """backward_propagation through the dropout masks: dA_l = dA_l·D_l / keep_prob, the same
    mask and scaling as the forward pass. The course keeps dropout and penalties apart; pass
    ``lambd`` and ``penalty`` to combine them (the penalty gradient simply adds on)."""
    where = "backward_propagation_with_dropout"
    _check_keep_prob(keep_prob, where)
    layers = _layers(cache, True, where)
    gradients = _backward(X, Y, layers, keep_prob, where)
    return _add_penalty_gradient(gradients, layers, X.shape[1], lambd, penalty, where)


# ---------------------------------------------------------------------------------------------
# Training: the course's model()
# ---------------------------------------------------------------------------------------------


def model(
    X: np.ndarray,
    Y: np.ndarray,
    layer_dims: list[int],
    learning_rate: float = 0.3,
    num_iterations: int = 30_000,
    lambd: Strength = 0.0,
    penalty: str = "l2",
    keep_prob: float = 1.0,
    rng: np.random.RandomState | None = None,
    seed: int = 3,
    mask_seed: int | None = None,
    parameters: Parameters | None = None,
    log_every: int = 1000,
    on_log: Callable[[int, float, Parameters], object] | None = None,
) -> tuple[Parameters, list[float]]:
    """Full-batch gradient descent with the functions above, as the course's ``model()``.

    Starts from ``parameters`` (default ``initialize_parameters(layer_dims, seed)``); with
    keep_prob < 1, inverted dropout draws its masks from ``rng`` (default RandomState(seed)),
    fresh masks every iteration; with ``mask_seed`` set, the course's schedule instead: every
    iteration draws from a new RandomState(mask_seed), as the course's ``np.random.seed(1)``
    at the top of its forward pass does, so the masks are the same in every iteration.
    Returns the final parameters and the costs at iterations 0, log_every, ... and the last;
    ``on_log(iteration, cost, parameters_after_the_update)`` is called at each of those.
    """
    if not (isinstance(log_every, (int, np.integer)) and log_every >= 1):
        raise ValueError(f"model: log_every={log_every!r}; expected an integer >= 1.")
    if parameters is None:
        parameters = initialize_parameters(layer_dims, seed)
    elif layer_dims_of(parameters, "model") != list(layer_dims):
        raise ValueError(
            f"model: the parameters are for layer_dims {layer_dims_of(parameters, 'model')}, "
            f"not {list(layer_dims)}."
        )
    rng = np.random.RandomState(seed) if rng is None else rng
    costs = []
    for i in range(num_iterations):
        if keep_prob < 1:
            if mask_seed is not None:
                rng = np.random.RandomState(mask_seed)
            A_L, cache = forward_propagation_with_dropout(X, parameters, keep_prob, rng)
        else:
            A_L, cache = forward_propagation(X, parameters)
        cost = compute_cost_with_regularization(A_L, Y, parameters, lambd, penalty)
        if keep_prob < 1:
            grads = backward_propagation_with_dropout(X, Y, cache, keep_prob, lambd, penalty)
        else:
            grads = backward_propagation_with_regularization(X, Y, cache, lambd, penalty)
        parameters = update_parameters(parameters, grads, learning_rate)
        if i % log_every == 0 or i == num_iterations - 1:
            costs.append(cost)
            if on_log is not None:
                on_log(i, cost, parameters)
    return parameters, costs


# ---------------------------------------------------------------------------------------------
# Prediction
# ---------------------------------------------------------------------------------------------


def predict(X: np.ndarray, parameters: Parameters) -> np.ndarray:
    """0/1 labels (1, m): 1 where the predicted probability A_L is above 0.5. For C >= 2
    softmax outputs, class indices (1, m): the most probable class of each example."""
    A_L, _ = forward_propagation(X, parameters)
    if A_L.shape[0] > 1:
        return np.argmax(A_L, axis=0).reshape(1, -1).astype(np.int64)
    return (A_L > 0.5).astype(np.int64)

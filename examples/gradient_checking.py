"""Gradient checking, the course's way: flatten the parameters, nudge each one, compare.

With every parameter flattened into one vector θ (W1, b1, W2, b2, ..., each row by row:
``parameters_to_vector``), the central difference

    gradapprox_i = (J(θ + ε·e_i) − J(θ − ε·e_i)) / 2ε

approximates ∂J/∂θ_i with an error of order ε². The backprop gradient g is right when

    difference = ||g − gradapprox|| / (||g|| + ||gradapprox||)   is below about 1e-7.

1. The engine's gradient of the course network's L2-regularized cost passes.
2. A planted bug: the L2 penalty's gradient rule forgets the 2 in d(W²)/dW = 2W. The check
   catches it, and checking each parameter on its own points at the culprits: every W is
   wrong, every b is right (biases are not penalized).

J here is computed by the course's numpy forward pass (``reference``), a witness that does
not share any code with the engine's backward pass.

Run:  python examples/gradient_checking.py          (about a second)
"""

import numpy as np

from tinygrad_reg import binary_cross_entropy_with_logits, datasets, l2_penalty
from tinygrad_reg import reference as ref
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.regularizers import SumOfSquares
from tinygrad_reg.testing.gradcheck import (
    gradient_check_n,
    parameters_to_vector,
    vector_to_parameters,
)

LAMBD, EPSILON = 0.7, 1e-7
data = datasets.load()
X, Y = data.train_X, data.train_Y
parameters = ref.initialize_parameters([2, 20, 3, 1], seed=3)


def J(theta: np.ndarray) -> float:
    """The course's cost with the L2 penalty, at the parameters flattened in theta."""
    params = vector_to_parameters(theta, like=parameters)
    A3, _ = ref.forward_propagation(X, params)
    return ref.compute_cost_with_regularization(A3, Y, params, LAMBD, "l2")


def engine_gradients() -> dict:
    """The engine's ∂J/∂θ: forward with Tensors, then backward()."""
    model = MLP.from_parameters(parameters)
    cost = binary_cross_entropy_with_logits(model(X), Y) + l2_penalty(model, LAMBD, X.shape[1])
    cost.backward()
    return {name: p.grad for name, p in model.named_parameters()}


def gradient_check(gradients: dict) -> float:
    theta = parameters_to_vector(parameters)
    grad = parameters_to_vector(gradients)
    gradapprox = np.zeros_like(theta)
    for i in range(theta.size):
        theta_plus, theta_minus = theta.copy(), theta.copy()
        theta_plus[i] += EPSILON
        theta_minus[i] -= EPSILON
        gradapprox[i] = (J(theta_plus) - J(theta_minus)) / (2 * EPSILON)

    difference = np.linalg.norm(grad - gradapprox) / (
        np.linalg.norm(grad) + np.linalg.norm(gradapprox)
    )
    # The same, one parameter at a time: which gradient is off?
    pieces = vector_to_parameters(gradapprox, like=parameters)
    for name in parameters:
        g, approx = gradients[name], pieces[name]
        d = np.linalg.norm(g - approx) / (np.linalg.norm(g) + np.linalg.norm(approx))
        print(f"    d{name:<3} {d:.1e}  {'ok' if d < 1e-7 else '<-- wrong'}")
    return float(difference)


theta_size = parameters_to_vector(parameters).size
print(f"1. The engine's gradients of the L2-regularized cost ({theta_size} parameters):")
difference = gradient_check(engine_gradients())
print(f"   difference = {difference:.1e}: {'correct' if difference < 1e-7 else 'WRONG'}")
assert difference < 1e-7


def forgot_the_two(self, g, out, *weights):
    """d/dW_i = g·c_i·W_i   (the planted bug: d(W²)/dW is 2W, not W)"""
    return tuple(g * c * w for c, w in zip(self.coefficients, weights))


correct_rule = SumOfSquares.backward
SumOfSquares.backward = forgot_the_two
try:
    print("\n2. The same with a bug planted in the L2 penalty's gradient rule:")
    buggy = engine_gradients()
    difference = gradient_check(buggy)
finally:
    SumOfSquares.backward = correct_rule
print(f"   difference = {difference:.1e}: {'correct' if difference < 1e-7 else 'WRONG'}")
assert difference > 1e-4

# tinygrad_reg.testing.gradient_check_n is this loop in one call.
one_call = gradient_check_n(lambda params: J(parameters_to_vector(params)), parameters, buggy)
print(f"   gradient_check_n on the buggy gradients: {one_call:.1e} (the same check)")
print("\nThe gradient check caught the planted bug.")

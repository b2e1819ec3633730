"""The course network with L2 regularization, by hand and by autodiff, side by side.

The network [2, 20, 3, 1] (LINEAR→RELU→LINEAR→RELU→LINEAR→SIGMOID) with the course's init
(seed 3) and the L2-regularized cost

    J = -1/m·Σ[y·log(a) + (1-y)·log(1-a)] + λ/(2m)·Σ_l ΣW_l²,   λ = 0.7.

1. At the start: the cost and every gradient, from ``tinygrad_reg.reference`` (the course's
   hand-written numpy backprop, with dW_l += λ/m·W_l) and from the engine (an MLP, the fused
   loss and ``l2_penalty``; the gradients come from ``backward()``).
2. Training: plain gradient descent, lr 0.3, both ways from the same start; the costs stay
   equal, and so do the final parameters and accuracies.

Run:  python examples/course_network_l2.py          (3000 iterations, a few seconds)
      TINYGRAD_REG_QUICK=1 python examples/course_network_l2.py     (300 iterations)
"""

import os

import numpy as np

from tinygrad_reg import binary_cross_entropy_with_logits, datasets, l2_penalty
from tinygrad_reg import reference as ref
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import SGD
from tinygrad_reg.train.evaluate import accuracy

LAYER_DIMS, LAMBD, LR = [2, 20, 3, 1], 0.7, 0.3
ITERATIONS = 300 if os.environ.get("TINYGRAD_REG_QUICK") else 3000

data = datasets.load()
X, Y = data.train_X, data.train_Y
m = X.shape[1]

# --- 1. one forward and backward pass, both ways ------------------------------------------
parameters = ref.initialize_parameters(LAYER_DIMS, seed=3)
model = MLP.from_parameters(parameters)  # the same numbers, as Tensors

A3, cache = ref.forward_propagation(X, parameters)
cost_by_hand = ref.compute_cost_with_regularization(A3, Y, parameters, LAMBD, "l2")
grads_by_hand = ref.backward_propagation_with_regularization(X, Y, cache, LAMBD, "l2")

cost = binary_cross_entropy_with_logits(model(X), Y) + l2_penalty(model, LAMBD, m)
cost.backward()

print(f"cost at the start: by hand {cost_by_hand:.15f}, autodiff {cost.item():.15f}")
print("gradient   shape      max |by hand - autodiff|")
for name, p in model.named_parameters():
    difference = np.max(np.abs(grads_by_hand["d" + name] - p.grad))
    print(f"d{name:<8} {p.shape!s:<10} {difference:.1e}")
    assert difference < 1e-12, name

# --- 2. train both ways from the same start ---------------------------------------------
optimizer = SGD(model.parameters(), lr=LR)
print(f"\n{'iteration':>9}  {'cost by hand':>18}  {'cost autodiff':>18}")
for i in range(ITERATIONS):
    # by hand: the course's model() loop
    A3, cache = ref.forward_propagation(X, parameters)
    cost_by_hand = ref.compute_cost_with_regularization(A3, Y, parameters, LAMBD, "l2")
    grads = ref.backward_propagation_with_regularization(X, Y, cache, LAMBD, "l2")
    parameters = ref.update_parameters(parameters, grads, LR)
    # autodiff: the same step, the gradients left to backward()
    cost = binary_cross_entropy_with_logits(model(X), Y) + l2_penalty(model, LAMBD, m)
    model.zero_grad()
    cost.backward()
    optimizer.step()
    if i % (ITERATIONS // 5) == 0 or i == ITERATIONS - 1:
        print(f"{i:>9}  {cost_by_hand:>18.12f}  {cost.item():>18.12f}")

gap = max(np.max(np.abs(parameters[k] - v)) for k, v in model.to_parameters().items())
print(f"\nafter {ITERATIONS} iterations: max |parameter by hand - autodiff| = {gap:.1e}")
for split, (X_s, Y_s) in {"train": (X, Y), "test": (data.test_X, data.test_Y)}.items():
    by_hand = np.mean(ref.predict(X_s, parameters) == Y_s)
    print(f"{split} accuracy: by hand {by_hand:.1%}, autodiff {accuracy(model, X_s, Y_s):.1%}")
assert gap < 1e-8
print("autodiff == hand-written backprop, with L2")

"""Three classes: the interleaved spiral, softmax cross-entropy, and what L2 and dropout do.

The network is the course's, with one output per class: LINEAR→RELU→LINEAR→RELU→LINEAR, and
softmax over the three outputs gives each class's probability. The loss is the cross-entropy
of the softmax, computed in one stable node (losses.cross_entropy); its gradient at the
outputs is (softmax(Z) − Y)/m, the multiclass twin of the course's (σ(Z) − Y)/m.

1. The gradient: autodiff equals the hand-written softmax network of reference.py.
2. Training [2, 50, 50, 3] on 150 spiral points, three ways (none, L2, dropout), with the
   train and test accuracy of each; L2 does best on the test set.
3. The decision regions of the three models, as a picture (if matplotlib is installed).

Run:  python examples/multiclass_spiral.py                          (8 000 iterations, ~30 s)
      python examples/multiclass_spiral.py --seed 3               (another draw of the data)
      TINYGRAD_REG_QUICK=1 python examples/multiclass_spiral.py     (800 iterations)
      python examples/multiclass_spiral.py --out pictures           (the PNG's folder)
"""

import argparse
import os

import numpy as np

from tinygrad_reg import cross_entropy, datasets, l2_penalty
from tinygrad_reg import reference as ref
from tinygrad_reg.app import plots
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import SGD
from tinygrad_reg.train.evaluate import accuracy
from tinygrad_reg.train.loop import fit

ITERATIONS = 800 if os.environ.get("TINYGRAD_REG_QUICK") else 8_000
LAYER_DIMS = [2, 50, 50, 3]
LEARNING_RATE = 0.5
LAMBD = 0.5
KEEP_PROB = 0.7

parser = argparse.ArgumentParser(description="Three classes on the spiral: none, L2, dropout.")
parser.add_argument("--seed", type=int, default=0, help="the dataset's seed (default 0)")
parser.add_argument(
    "--out", default="tinygrad_reg_out", help="folder for the PNG (default tinygrad_reg_out)"
)
arguments = parser.parse_args()
seed = arguments.seed

data = datasets.load("spiral", seed=seed)  # 3 classes; 150 training and 600 test examples
X, labels = data.train_X, data.train_Y  # labels: class indices 0, 1, 2 as a row (1, m)
m = X.shape[1]
print(f"Spiral (seed {seed}): {m} training and {data.test_X.shape[1]} test examples, 3 classes")

# --- 1. the gradient, both ways --------------------------------------------------------------
parameters = ref.initialize_parameters(LAYER_DIMS, seed=3)
model = MLP.from_parameters(parameters)
cost = cross_entropy(model(X), labels) + l2_penalty(model, LAMBD, m)
cost.backward()

Y = ref.convert_to_one_hot(labels, 3)  # the reference wants one-hot columns (3, m)
A3, cache = ref.forward_propagation(X, parameters)  # A3 = softmax(Z3)
grads = ref.backward_propagation_with_regularization(X, Y, cache, LAMBD, "l2")
expected_cost = ref.compute_cost_with_regularization(A3, Y, parameters, LAMBD, "l2")
gap = max(np.max(np.abs(grads["d" + name] - p.grad)) for name, p in model.named_parameters())
print(f"cost: autodiff {cost.item():.12f}, hand-written {expected_cost:.12f}")
print(f"max |hand-written − autodiff| over all gradients, with L2: {gap:.1e}")
assert gap < 1e-12

# --- 2. training, three ways ------------------------------------------------------------------
print(f"\n{LAYER_DIMS}, gradient descent lr {LEARNING_RATE}, {ITERATIONS} iterations:")
runs = {
    "no regularization": ({}, 1.0),
    f"L2, λ = {LAMBD}": ({"penalty": "l2", "lambd": LAMBD}, 1.0),
    f"dropout, keep {KEEP_PROB}": ({}, KEEP_PROB),
}
models = {}
for name, (penalty, keep_prob) in runs.items():
    model = MLP(LAYER_DIMS, seed=3, keep_prob=keep_prob)
    optimizer = SGD(model.parameters(), lr=LEARNING_RATE)
    # The labels have three values and the model three outputs: fit uses cross_entropy.
    fit(model, X, labels, optimizer=optimizer, iterations=ITERATIONS, progress=False, **penalty)
    train, test = accuracy(model, X, labels), accuracy(model, data.test_X, data.test_Y)
    models[name] = (model, train, test)
    print(f"  {name:<20} train {train:.1%}  test {test:.1%}")

best = max(models, key=lambda name: models[name][2])
print(f"Best on the test set: {best}.")

# --- 3. the decision regions ------------------------------------------------------------------
if plots.available():
    os.makedirs(arguments.out, exist_ok=True)
    panels = [
        plots.Panel(f"{name}: train {train:.0%}, test {test:.0%}", model)
        for name, (model, train, test) in models.items()
    ]
    path = plots.decision_boundaries(
        os.path.join(arguments.out, "multiclass_spiral.png"),
        panels,
        X,
        labels,
        title="Three classes on the spiral",
    )
    print(f"Decision regions: {path}")
else:
    print(f"(For the decision-region picture, install matplotlib: {plots.INSTALL_HINT})")

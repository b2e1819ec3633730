"""Inverted dropout: what it does to activations, its gradient, and what it does to training.

During training each hidden unit is kept with probability keep_prob and the kept ones are
divided by keep_prob:  A ← A·D / keep_prob,  D = (rand(A.shape) < keep_prob). The division
keeps the expected value of every activation unchanged, so at test time nothing is dropped
and nothing needs rescaling. Backward goes through the same mask: dA ← dA·D / keep_prob.

1. The mask and the scaling: on average the output equals the input; in eval mode dropout
   is the identity.
2. The gradient: the engine's, through nn.Dropout, equals the course's hand-written
   backward_propagation_with_dropout when both draw their masks from identically seeded
   RandomStates (same numbers, same order: layer by layer).
3. Training with and without dropout. A network wide enough to learn the field's flipped
   labels by heart, [2, 40, 20, 1], with keep_prob 0.7: a full run (8 000 iterations) printed
   no dropout:   train 93.8%  test 83.5%
   keep_prob 0.7 train 92.6%  test 86.0%
   (dropout gives up a little training accuracy for 2.5 points of test accuracy). The
   course's [2, 20, 3, 1] with keep_prob 0.86 needs 30 000 iterations to show it (test
   82.0% without, 85.5% with, in one run of this session).

Run:  python examples/dropout.py                          (8 000 iterations, a few seconds)
      TINYGRAD_REG_QUICK=1 python examples/dropout.py     (800 iterations)
"""

import os

import numpy as np

from tinygrad_reg import binary_cross_entropy_with_logits, datasets
from tinygrad_reg import reference as ref
from tinygrad_reg.nn import MLP, Dropout
from tinygrad_reg.train.evaluate import accuracy
from tinygrad_reg.train.loop import fit

ITERATIONS = 800 if os.environ.get("TINYGRAD_REG_QUICK") else 8_000
KEEP_PROB = 0.86

# --- 1. the mask and the scaling -----------------------------------------------------------
dropout = Dropout(keep_prob=KEEP_PROB, rng=np.random.RandomState(0))
A = np.full((4, 6), 2.0)
print(f"A is all 2.0; one pass through Dropout(keep_prob={KEEP_PROB}):")
print(dropout(A).numpy().round(3))
means = np.mean([dropout(A).numpy().mean() for _ in range(2000)])
print(f"mean output over 2000 passes: {means:.3f} (the input's mean: 2.000)")
dropout.eval()
print(f"in eval mode the output is the input: {np.array_equal(dropout(A).numpy(), A)}")

# --- 2. the gradient through the masks, both ways -------------------------------------------
data = datasets.load()
X, Y = data.train_X, data.train_Y
parameters = ref.initialize_parameters([2, 20, 3, 1], seed=3)
model = MLP.from_parameters(parameters, keep_prob=KEEP_PROB, rng=np.random.RandomState(1))
binary_cross_entropy_with_logits(model(X), Y).backward()

masks = np.random.RandomState(1)  # the same seed: the same units dropped
A3, cache = ref.forward_propagation_with_dropout(X, parameters, KEEP_PROB, masks)
grads = ref.backward_propagation_with_dropout(X, Y, cache, KEEP_PROB)
gap = max(np.max(np.abs(grads["d" + name] - p.grad)) for name, p in model.named_parameters())
print(f"\nmax |hand-written − autodiff| over all gradients, through the same masks: {gap:.1e}")
assert gap < 1e-12

# --- 3. training with and without dropout ---------------------------------------------------
WIDE, WIDE_KEEP_PROB = [2, 40, 20, 1], 0.7
print(f"\nA wider network {WIDE}, lr 0.3, {ITERATIONS} iterations:")
for keep_prob in (1.0, WIDE_KEEP_PROB):
    model = MLP(WIDE, seed=3, keep_prob=keep_prob)
    fit(model, X, Y, iterations=ITERATIONS, progress=False)
    train, test = accuracy(model, X, Y), accuracy(model, data.test_X, data.test_Y)
    label = "no dropout" if keep_prob == 1 else f"keep_prob {keep_prob}"
    print(
        f"  {label:<14} train {train:.1%}  test {test:.1%}  (gap {100 * (train - test):.1f} points)"
    )
print("Dropout trains a different thinned network each step, so no unit can rely on another.")

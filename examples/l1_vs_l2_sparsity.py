"""Why L1 makes weights exactly zero and L2 only makes them small.

The two penalties pull on a weight w differently (m examples, learning rate α):

    L2:  J += λ/(2m)·w²   gradient λ/m·w        step  w ← w − α·λ/m·w    (shrinks by a factor)
    L1:  J += λ/m·|w|     gradient λ/m·sign(w)  step  w ← w − α·λ/m·sign(w)  (a fixed amount)

A weight the data does not need feels only the penalty. Under L2 it shrinks geometrically and
never reaches 0; under L1 it walks to 0 in a finite number of steps and then hops around it
by at most α·λ/m. Part 1 shows this on one lonely weight, part 2 on the course network.

Run:  python examples/l1_vs_l2_sparsity.py               (6 000 iterations, a few seconds)
      TINYGRAD_REG_QUICK=1 python examples/l1_vs_l2_sparsity.py      (1 000 iterations)
"""

import itertools
import os

import numpy as np

from tinygrad_reg import Tensor, datasets, l1_penalty, l2_penalty
from tinygrad_reg.nn import MLP
from tinygrad_reg.train.evaluate import accuracy
from tinygrad_reg.train.loop import fit

ITERATIONS = 1_000 if os.environ.get("TINYGRAD_REG_QUICK") else 6_000
LAMBD, LR = 0.7, 0.3

# --- 1. one weight, penalty only ----------------------------------------------------------
m = 200
print(f"A weight of 0.5 that only the penalty pulls on (λ = {LAMBD}, m = {m}, α = {LR}):")
print(f"{'step':>6}  {'under L2':>12}  {'under L1':>12}")
w2, w1 = Tensor(0.5, requires_grad=True), Tensor(0.5, requires_grad=True)
for step in range(1001):
    if step % 200 == 0:
        print(f"{step:>6}  {w2.item():>12.6f}  {w1.item():>12.6f}")
    for w, penalty in ((w2, l2_penalty), (w1, l1_penalty)):
        w.grad = None
        penalty([w], LAMBD, m).backward()
        w.data = w.data - LR * w.grad
nudge = LR * LAMBD / m  # what one L1 step moves a weight by
print(f"L1 reached 0 after ~{0.5 / nudge:.0f} steps of {nudge:.2e}; now it hops around 0.")

# --- 2. the course network ---------------------------------------------------------------
data = datasets.load()
print(f"\nThe course network [2, 20, 3, 1], {ITERATIONS} iterations, λ = {LAMBD}:")
weights = {}
for name in ("l2", "l1"):
    model = MLP([2, 20, 3, 1], seed=3)
    X, Y = data.train_X, data.train_Y
    fit(model, X, Y, penalty=name, lambd=LAMBD, iterations=ITERATIONS, progress=False)
    weights[name] = np.concatenate([model.linears[i].W.data.ravel() for i in range(3)])
    dead = int(np.sum(np.all(np.abs(model.linears[0].W.data) < 1e-2, axis=1)))
    print(
        f"  {name.upper()}: test accuracy {accuracy(model, data.test_X, data.test_Y):.1%}; "
        f"{dead} of 20 first-layer units have all their input weights below 0.01"
    )

print(f"\n  fraction of the {weights['l1'].size} weights with |w| below a threshold")
print(f"  {'threshold':>10}  {'L2':>6}  {'L1':>6}")
for threshold in (1e-1, 1e-2, 1e-3):
    near_zero = {k: np.mean(np.abs(w) < threshold) for k, w in weights.items()}
    print(f"  {threshold:>10g}  {near_zero['l2']:>6.0%}  {near_zero['l1']:>6.0%}")

print("\n  how many weights per order of magnitude of |w| (# = 2 weights):")
print(f"  {'|w| in':<15} {'L2':<34} L1")
edges = [0, 1e-4, 1e-3, 1e-2, 1e-1, 1, np.inf]
for lo, hi in itertools.pairwise(edges):
    bars = []
    for w in weights.values():
        count = int(np.sum((np.abs(w) >= lo) & (np.abs(w) < hi)))
        bars.append(f"{count:>3} {'#' * ((count + 1) // 2)}")
    print(f"  {f'[{lo:g}, {hi:g})':<15} {bars[0]:<34} {bars[1]}")
assert np.mean(np.abs(weights["l1"]) < 1e-2) > np.mean(np.abs(weights["l2"]) < 1e-2)
print("\nL1 zeroes many more weights than L2.")

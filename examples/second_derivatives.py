"""Second derivatives: differentiate the gradient itself.

``grad(f, x, create_graph=True)`` records the backward pass as a graph of ops, so its result
can be differentiated again. The same gradient rules serve both passes.

Run: python examples/second_derivatives.py
"""

import numpy as np

from tinygrad_reg import Tensor, grad

# f(x) = x³ − 2x  →  f'(x) = 3x² − 2,  f''(x) = 6x
x = Tensor(1.5, requires_grad=True)
f = x**3 - 2 * x
(df,) = grad(f, x, create_graph=True)
(d2f,) = grad(df, x)
print(f"f'(1.5)  = {df.item():.6f}   (3x² − 2 = {3 * 1.5**2 - 2:.6f})")
print(f"f''(1.5) = {d2f.item():.6f}   (6x = {6 * 1.5:.6f})")

# Newton's method uses both: x ← x − f'(x)/f''(x) finds where f' = 0 (a minimum of f).
x_value = 1.5
for step in range(5):
    x = Tensor(x_value, requires_grad=True)
    (df,) = grad(x**3 - 2 * x, x, create_graph=True)
    (d2f,) = grad(df, x)
    x_value -= df.item() / d2f.item()
    print(f"Newton step {step + 1}: x = {x_value:.12f}")
print(f"exact minimum at sqrt(2/3) = {np.sqrt(2 / 3):.12f}")

# A Hessian-vector product H·v of L(w) = Σ tanh(A @ w)², checked by finite differences of
# the gradient: H·v ≈ (∇L(w + εv) − ∇L(w − εv)) / 2ε.
rng = np.random.default_rng(0)
A, w0, v = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal(3)


def gradient(w_value, create_graph=False):
    w = Tensor(w_value, requires_grad=True)
    (g,) = grad(((A @ w).tanh() ** 2).sum(), w, create_graph=create_graph)
    return w, g


w, g = gradient(w0, create_graph=True)
(hv,) = grad((g * v).sum(), w)  # d(∇L·v)/dw = H·v
eps = 1e-6
numeric = (gradient(w0 + eps * v)[1].data - gradient(w0 - eps * v)[1].data) / (2 * eps)
print("H·v (engine)            ", np.round(hv.data, 8))
print("H·v (finite differences)", np.round(numeric, 8))
assert np.allclose(hv.data, numeric, rtol=1e-6, atol=1e-8)

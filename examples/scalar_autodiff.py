"""Backpropagation by hand on one neuron, then the same with the engine.

    z = w·x + b,   a = tanh(z),   L = (a − y)²

The chain rule, applied from the loss back to the inputs (that is all reverse mode is):

    dL/da = 2(a − y)
    dL/dz = dL/da · (1 − a²)          tanh' = 1 − tanh²
    dL/dw = dL/dz · x,   dL/db = dL/dz,   dL/dx = dL/dz · w

Run: python examples/scalar_autodiff.py
"""

import math

from tinygrad_reg import Tensor, explain_backward

x_value, w_value, b_value, y_value = 1.5, -0.8, 0.3, 0.25

# --- by hand -----------------------------------------------------------------------------
z = w_value * x_value + b_value
a = math.tanh(z)
loss = (a - y_value) ** 2
dL_da = 2 * (a - y_value)
dL_dz = dL_da * (1 - a * a)
by_hand = {"w": dL_dz * x_value, "b": dL_dz, "x": dL_dz * w_value}

# --- with the engine ---------------------------------------------------------------------
x = Tensor(x_value, requires_grad=True)
w = Tensor(w_value, requires_grad=True)
b = Tensor(b_value, requires_grad=True)
engine_loss = ((w * x + b).tanh() - y_value) ** 2
engine_loss.backward()
engine = {"w": w.grad.item(), "b": b.grad.item(), "x": x.grad.item()}

print(f"loss: by hand {loss:.12f}, engine {engine_loss.item():.12f}")
for name in ("w", "b", "x"):
    print(f"dL/d{name}: by hand {by_hand[name]:+.12f}   engine {engine[name]:+.12f}")
    assert math.isclose(by_hand[name], engine[name], rel_tol=1e-12), name
print("\nThe engine applied the same chain rule, one op at a time:")
w.name, b.name, x.name = "w", "b", "x"
z = w * x + b
a = z.tanh()
error = a - y_value
named_loss = error**2
z.name, a.name, error.name, named_loss.name = "z", "a", "a-y", "L"
explain_backward(named_loss)

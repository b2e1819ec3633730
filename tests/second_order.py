"""A second-derivative check for tests (private to tests/): Hessian-vector products recorded by
``grad(..., create_graph=True)`` against central differences of first derivatives."""

import numpy as np

from tinygrad_reg import Tensor, grad


def assert_second_order(f, inputs, seed, eps=1e-6, rtol=1e-5, atol=1e-7):
    """With random w (of f's output shape) and directions v_i (of each input's shape), the
    derivative of s(x) = Σ_i <∇_i Σ(w·f(x)), v_i> recorded by create_graph=True must equal
    (g(x + eps·v) - g(x - eps·v)) / 2eps, where g is the ordinary first-order gradient.

    The error of the central difference is O(eps²·f''') plus rounding O(1e-16/eps) = 1e-10,
    far below the tolerances for values of order 1."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(f(*[Tensor(x) for x in inputs]).shape)
    v = [rng.standard_normal(np.shape(x)) for x in inputs]

    def first_gradients(points, create_graph):
        leaves = [Tensor(p, requires_grad=True) for p in points]
        gs = grad((f(*leaves) * w).sum(), leaves, create_graph=create_graph, allow_unused=True)
        return leaves, [
            Tensor(np.zeros(np.shape(p))) if g is None else g for g, p in zip(gs, points)
        ]

    leaves, gs = first_gradients(inputs, create_graph=True)
    s = sum((g * d).sum() for g, d in zip(gs, v))
    if s.requires_grad:
        analytic = [
            np.zeros(x.shape) if h is None else h.data
            for h, x in zip(grad(s, leaves, allow_unused=True), leaves)
        ]
    else:  # f is linear in every input: its second derivatives are 0
        analytic = [np.zeros(x.shape) for x in leaves]
    plus = first_gradients([x + eps * d for x, d in zip(inputs, v)], create_graph=False)[1]
    minus = first_gradients([x - eps * d for x, d in zip(inputs, v)], create_graph=False)[1]
    for a, p, m in zip(analytic, plus, minus):
        np.testing.assert_allclose(a, (p.data - m.data) / (2 * eps), rtol=rtol, atol=atol)

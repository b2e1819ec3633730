"""The orthogonality penalty λ·Σ_W ‖W Wᵀ − I‖²_F (nn/regularizers.py): its value and its first
and second derivatives against PyTorch's autograd on the same formula (``create_graph=True``),
finite differences, the weights it selects, and training with it through ``fit``.

Tolerance: both sides compute the same float64 sums of products in a different order. An entry
that sums k products has a rounding error of at most about k·ε times the sum of the products'
magnitudes, which is what the same formula gives on |W| (``bound``); k is at most the number of
entries of W, times a few for the chained products. Subnormal results add an absolute error of
a few times the subnormal spacing.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_reg import Tensor, grad
from tinygrad_reg.nn import MLP, Conv2d, Flatten, Linear, Sequential
from tinygrad_reg.nn.regularizers import Orthogonality, orthogonality_penalty, penalty
from tinygrad_reg.optim import SGD
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck
from tinygrad_reg.train.loop import fit

EPS = np.finfo(np.float64).eps
matrix_shapes = st.tuples(st.integers(1, 6), st.integers(1, 6))
conv_shapes = st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 2), st.integers(1, 2))
shapes = st.one_of(matrix_shapes, conv_shapes)
entries = st.floats(-2.0, 2.0, allow_nan=False)
lambdas = st.floats(0.01, 3.0)


@st.composite
def weight_lists(draw):
    """One to three weights of drawn shapes (matrices and conv weights), float64."""
    return [
        draw(arrays(np.float64, draw(shapes), elements=entries))
        for _ in range(draw(st.integers(1, 3)))
    ]


def torch_penalty(weights, lam, gram="smaller"):
    """λ·Σ ‖G − I‖²_F in torch; G is W Wᵀ always, or the smaller of W Wᵀ and Wᵀ W."""
    total = 0
    for w in weights:
        a = w.reshape(w.shape[0], -1)
        wide = a.shape[0] <= a.shape[1]
        g = a @ a.T if gram == "always W Wᵀ" or wide else a.T @ a
        total = total + ((g - torch.eye(len(g), dtype=g.dtype)) ** 2).sum()
    return lam * total


def bound(weights, lam):
    """The rounding scale: k·ε times the penalty's gradient formula on |W|."""
    scale = 0.0
    for w in weights:
        a = np.abs(w.reshape(w.shape[0], -1))
        scale = max(scale, 4 * lam * (np.abs(a @ a.T @ a) + a).max() * 4 * a.size)
    # below the normal range (entries near 1e-310) rounding is absolute, at the subnormal spacing
    return 8 * EPS * scale + 16 * np.finfo(np.float64).smallest_subnormal


@given(weight_lists(), lambdas)
def test_value_gradient_and_second_derivative_equal_torch(weights, lam):
    ours = [Tensor(w, requires_grad=True) for w in weights]
    theirs = [torch.tensor(w, requires_grad=True) for w in weights]
    value, expected = orthogonality_penalty(ours, lam), torch_penalty(theirs, lam)
    tol = bound(weights, lam)
    np.testing.assert_allclose(value.item(), expected.item(), rtol=1e-12, atol=tol)
    first = grad(value, ours, create_graph=True)
    first_torch = torch.autograd.grad(expected, theirs, create_graph=True)
    for g, t in zip(first, first_torch):
        np.testing.assert_allclose(g.data, t.detach().numpy(), rtol=1e-12, atol=tol)
    # second order: the Hessian-vector product, with random non-uniform directions V
    rng = np.random.default_rng(len(weights))
    directions = [rng.standard_normal(w.shape) for w in weights]
    ours_hv = grad(sum((g * v).sum() for g, v in zip(first, directions)), ours)
    torch_dot = sum((g * torch.tensor(v)).sum() for g, v in zip(first_torch, directions))
    theirs_hv = torch.autograd.grad(torch_dot, theirs)
    for h, t, v in zip(ours_hv, theirs_hv, directions):
        np.testing.assert_allclose(
            h.data, t.numpy(), rtol=1e-12, atol=tol * (1 + np.abs(v).max()) * 3
        )


@given(arrays(np.float64, shapes, elements=entries), lambdas)
def test_w_wt_and_wt_w_differ_by_a_constant_so_the_gradient_is_the_same(w, lam):
    theirs = torch.tensor(w, requires_grad=True)
    always_wwt = torch_penalty([theirs], lam, gram="always W Wᵀ")
    ours = Tensor(w, requires_grad=True)
    value = orthogonality_penalty([ours], lam)
    value.backward()
    n_out, n_in = w.shape[0], w[0].size
    tol = bound([w], lam)
    # W Wᵀ (n_out × n_out) has n_out − n_in zero eigenvalues more than Wᵀ W when W is tall
    np.testing.assert_allclose(
        always_wwt.item(), value.item() + lam * max(0, n_out - n_in), rtol=1e-12, atol=tol
    )
    (expected,) = torch.autograd.grad(always_wwt, theirs)
    np.testing.assert_allclose(ours.grad.data, expected.numpy(), rtol=1e-12, atol=tol)


@given(weight_lists(), lambdas)
def test_passes_gradcheck_and_gradgradcheck(weights, lam):
    def make(*ws):
        return orthogonality_penalty(list(ws), lam)

    assert gradcheck(make, weights)
    assert gradgradcheck(make, weights)


@given(st.integers(1, 5), st.integers(0, 4), st.integers(0, 2**31 - 1))
def test_it_is_zero_exactly_at_semi_orthogonal_matrices(n, extra, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n + extra, n)))
    for w in (q, q.T):  # tall with orthonormal columns, wide with orthonormal rows
        assert orthogonality_penalty([Tensor(w)], 1.0).item() < 100 * EPS * w.size


def test_a_module_penalizes_its_weights_as_matrices_and_never_biases_in_one_node():
    rng = np.random.default_rng(0)
    model = Sequential(Conv2d(2, 3, 2, rng=rng), Flatten(), Linear(12, 4, rng=rng))
    value = orthogonality_penalty(model, 0.5)
    conv, linear = model[0].weight, model[2].W
    assert isinstance(value.grad_fn, Orthogonality)
    assert [id(p) for p in value.grad_fn.parents] == [id(conv), id(linear)]
    a, b = conv.data.reshape(3, -1), linear.data
    expected = 0.5 * (np.sum((a @ a.T - np.eye(3)) ** 2) + np.sum((b @ b.T - np.eye(4)) ** 2))
    np.testing.assert_allclose(value.item(), expected, rtol=1e-13)
    value.backward()
    assert model[0].bias.grad is None and model[2].b.grad is None
    assert conv.grad is not None and linear.grad is not None


def test_a_vector_is_refused_naming_its_shape():
    with pytest.raises(ValueError, match=r"orthogonality_penalty: .*shape \(3,\).*not a matrix"):
        orthogonality_penalty([Tensor(np.ones(3))], 0.1)


def test_float32_weights_give_a_float32_penalty_and_gradient():
    w = Tensor(np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32), True)
    value = orthogonality_penalty([w], 0.1)
    value.backward()
    assert value.dtype == np.float32 and w.grad.dtype == np.float32


def test_fit_with_the_penalty_by_name_equals_fit_with_it_as_a_function():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((2, 30)), (rng.random((1, 30)) > 0.5).astype(float)
    by_name, by_function = MLP([2, 5, 3, 1], seed=1), MLP([2, 5, 3, 1], seed=1)
    fit(by_name, X, Y, penalty="orthogonality", lambd=0.05, iterations=20, progress=False)
    fit(
        by_function,
        X,
        Y,
        penalty=lambda model, m: orthogonality_penalty(model, 0.05),
        iterations=20,
        progress=False,
    )
    for (_, a), (_, b) in zip(by_name.named_parameters(), by_function.named_parameters()):
        np.testing.assert_array_equal(a.data, b.data)  # the same arithmetic: bit for bit
    assert penalty("orthogonality", by_name, 0.05, m=30).item() == pytest.approx(
        orthogonality_penalty(by_name, 0.05).item(), rel=0
    )


def test_training_on_the_penalty_alone_drives_the_singular_values_to_1():
    model = MLP([3, 6, 2, 1], seed=0)
    X, Y = np.zeros((3, 4)), np.zeros((1, 4))
    before = orthogonality_penalty(model, 1.0).item()
    fit(
        model,
        X,
        Y,
        loss=lambda Z, Y: (Z * 0).sum(),
        penalty=lambda model, m: orthogonality_penalty(model, 1.0),
        optimizer=SGD(model.parameters(), lr=0.02),
        iterations=2000,
        progress=False,
    )
    for layer in model.linears:
        sigma = np.linalg.svd(layer.W.data, compute_uv=False)
        np.testing.assert_allclose(sigma, 1.0, atol=1e-3)
    assert orthogonality_penalty(model, 1.0).item() < 1e-6 * before


def test_the_nn_package_offers_the_penalty_and_the_noise_and_dropconnect_layers():
    import tinygrad_reg.nn as nn
    from tinygrad_reg.nn import dropconnect, noise, regularizers

    assert nn.orthogonality_penalty is regularizers.orthogonality_penalty
    assert nn.DropConnectLinear is dropconnect.DropConnectLinear
    assert (nn.GaussianNoise, nn.WeightNoiseLinear) == (
        noise.GaussianNoise,
        noise.WeightNoiseLinear,
    )
    assert {"orthogonality_penalty", "DropConnectLinear", "GaussianNoise"} <= set(nn.__all__)

"""Gradient penalties: double backprop (‖∂ℓ_i/∂x_i‖²) and the Jacobian penalty (‖∂f/∂x_i‖_F²),
compared with PyTorch on values and on gradients with respect to every parameter, and checked
by finite differences; the fit wrapper.

PyTorch's side does not use the one-pass shortcut: it takes the full Jacobian of all the
per-example losses (or outputs) with respect to all of X (``torch.autograd.functional.jacobian``
with ``create_graph=True``) and keeps each example's own block, so the comparison also checks
that no example's loss depends on another example's input.

Tolerance: both sides compute the same float64 quantities through a different order of
operations; the networks are kink-free and well-conditioned (``testing.networks``), so the
differences are a few roundings times modest condition numbers, far below 1e-9 of the largest
entry (``close``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg import Tensor, datasets, enable_grad, grad, no_grad
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.gradient_penalty import (
    GradientPenalized,
    input_gradient_penalty,
    jacobian_penalty,
)
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits, cross_entropy
from tinygrad_reg.testing import networks
from tinygrad_reg.testing.gradcheck import gradcheck
from tinygrad_reg.train.loop import fit

RTOL = 1e-9
small_networks = networks(max_depth=3, max_width=6, max_examples=12)
hidden_units = st.sampled_from(["relu", "tanh"])
lambdas = st.floats(0.01, 3.0)


def close(ours, theirs, what=""):
    theirs = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    scale = float(np.abs(theirs).max(initial=0.0))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=RTOL * scale, err_msg=what)


def course_loss(Z, Y):
    return cross_entropy(Z, Y) if Y.shape[0] > 1 else binary_cross_entropy_with_logits(Z, Y)


def torch_forward(parameters, X, hidden):
    A, L = X, len(parameters) // 2
    for l in range(1, L + 1):
        A = parameters[f"W{l}"] @ A + parameters[f"b{l}"]
        if l < L:
            A = torch.relu(A) if hidden == "relu" else torch.tanh(A)
    return A


def torch_example_losses(Z, Y):
    """ℓ_i for each example: (m,)."""
    if Y.shape[0] > 1:
        return -(Y * torch.log_softmax(Z, dim=0)).sum(dim=0)
    return torch.nn.functional.binary_cross_entropy_with_logits(Z, Y, reduction="none")[0]


def torch_side(net, hidden, lam, kind):
    """(penalty, gradients of loss + penalty by parameter name), all by PyTorch."""
    parameters = {k: torch.tensor(v, requires_grad=True) for k, v in net.parameters.items()}
    X, Y = torch.tensor(net.X, requires_grad=True), torch.tensor(net.Y)
    m = net.X.shape[1]
    loss = torch_example_losses(torch_forward(parameters, X, hidden), Y).mean()
    if kind == "input":
        f = lambda x: torch_example_losses(torch_forward(parameters, x, hidden), Y)  # noqa: E731
        J = torch.autograd.functional.jacobian(f, X, create_graph=True)  # (m, n, m)
        own = torch.stack([J[i, :, i] for i in range(m)])  # ∂ℓ_i/∂x_i, (m, n)
    else:
        f = lambda x: torch_forward(parameters, x, hidden)  # noqa: E731
        J = torch.autograd.functional.jacobian(f, X, create_graph=True)  # (K, m, n, m)
        own = torch.stack([J[:, i, :, i] for i in range(m)])  # ∂f(x_i)/∂x_i, (m, K, n)
    penalty = lam * (own**2).sum() / m
    names = list(parameters)
    gradients = torch.autograd.grad(loss + penalty, [parameters[k] for k in names])
    return penalty, dict(zip(names, gradients))


def our_side(net, hidden, lam, kind):
    model = MLP.from_parameters(net.parameters, hidden=hidden)
    X = Tensor(net.X, requires_grad=True)
    Z = model(X)
    loss = course_loss(Z, net.Y)
    if kind == "input":
        penalty = input_gradient_penalty(loss, X, lam)
    else:
        penalty = jacobian_penalty(Z, X, lam)
    (loss + penalty).backward()
    return penalty, {name: p.grad for name, p in model.named_parameters()}


@pytest.mark.parametrize("kind", ["input", "jacobian"])
@given(
    st.one_of(small_networks, networks(max_depth=3, max_width=6, max_examples=12, multiclass=True)),
    hidden_units,
    lambdas,
)
def test_the_penalty_and_the_parameters_gradients_equal_pytorchs(kind, net, hidden, lam):
    penalty, gradients = our_side(net, hidden, lam, kind)
    t_penalty, t_gradients = torch_side(net, hidden, lam, kind)
    close(penalty.item(), t_penalty.item(), "penalty")
    for name, g in gradients.items():
        close(g, t_gradients[name], name)


@pytest.mark.parametrize("kind", ["input", "jacobian"])
@given(networks(max_depth=2, max_width=4, max_examples=6), hidden_units, lambdas)
def test_gradcheck_of_loss_plus_penalty_with_respect_to_every_parameter(kind, net, hidden, lam):
    names = list(net.parameters)

    @enable_grad()  # the penalty differentiates, even in gradcheck's no_grad evaluations
    def cost(*arrays):
        model = MLP.from_parameters(dict(zip(names, [a.data for a in arrays])), hidden=hidden)
        # the parameters themselves, so gradcheck's leaves are the ones differentiated
        for layer, (W, b) in zip(model.linears, zip(arrays[::2], arrays[1::2])):
            layer.W, layer.b = W, b
        X = Tensor(net.X, requires_grad=True)
        Z = model(X)
        loss = course_loss(Z, net.Y)
        if kind == "input":
            return loss + input_gradient_penalty(loss, X, lam)
        return loss + jacobian_penalty(Z, X, lam)

    assert gradcheck(cost, [net.parameters[k] for k in names], upstream=None)


def test_for_one_linear_layer_the_jacobian_penalty_is_lambda_times_the_squared_weights():
    """f(x) = Wx + b has ∂f/∂x = W for every example: λ·‖W‖_F², whatever X."""
    rng = np.random.default_rng(0)
    W = Tensor(rng.standard_normal((3, 4)), requires_grad=True)
    X = Tensor(rng.standard_normal((4, 9)), requires_grad=True)
    penalty = jacobian_penalty(W @ X, X, 0.5)
    assert penalty.item() == pytest.approx(0.5 * np.sum(W.data**2), rel=1e-14)
    (dW,) = grad(penalty, W)
    np.testing.assert_allclose(dW.data, W.data, rtol=1e-14)  # d(0.5·ΣW²)/dW = W


def test_the_wrapper_adds_the_penalty_in_training_and_is_the_model_in_evaluation():
    data = datasets.load()
    X, Y = data.train_X[:, :50], data.train_Y[:, :50]
    model = MLP([2, 5, 1], seed=1, hidden="tanh")
    wrapped = GradientPenalized(model, 0.3, "input", loss=binary_cross_entropy_with_logits)
    assert wrapped.parameters() == model.parameters()
    Z = wrapped(X)
    total = wrapped.loss(Z, Y)
    x = Tensor(X, requires_grad=True)
    loss = binary_cross_entropy_with_logits(model(x), Y)
    assert total.item() == pytest.approx((loss + input_gradient_penalty(loss, x, 0.3)).item())
    wrapped.eval()
    np.testing.assert_array_equal(wrapped(X).data, model(X).data)
    assert (
        wrapped.loss(wrapped(X), Y).item() == binary_cross_entropy_with_logits(model(X), Y).item()
    )


@pytest.mark.parametrize("kind", ["input", "jacobian"])
def test_training_with_the_penalty_makes_the_input_gradients_smaller(kind):
    data = datasets.load()
    X, Y = data.train_X, data.train_Y

    def trained(lam):
        model = MLP([2, 20, 3, 1], seed=3)
        net = GradientPenalized(model, lam, kind, loss=binary_cross_entropy_with_logits)
        fit(net, X, Y, loss=net.loss, iterations=200, progress=False)
        x = Tensor(X, requires_grad=True)
        Z = model(x)
        if kind == "input":
            return input_gradient_penalty(binary_cross_entropy_with_logits(Z, Y), x, 1.0).item()
        return jacobian_penalty(Z, x, 1.0).item()

    assert trained(1.0) < 0.8 * trained(0.0)


def no_grad_penalty():
    X = Tensor(np.ones((2, 3)), requires_grad=True)
    with no_grad():
        loss = (X * X).mean()
    return input_gradient_penalty(loss, X, 1.0)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: input_gradient_penalty(Tensor(1.0), Tensor(np.ones((2, 3))), 1.0),
            "requires grad",
        ),
        (
            lambda: jacobian_penalty(
                Tensor(np.ones((1, 2))), Tensor(np.ones((2, 3)), requires_grad=True), 1.0
            ),
            r"expected \(K, 3\)",
        ),
        (
            lambda: input_gradient_penalty(
                Tensor(np.ones(2)), Tensor(np.ones((2, 3)), requires_grad=True), 1.0
            ),
            "expected one number",
        ),
        (lambda: no_grad_penalty(), "no graph back to X"),
        (lambda: GradientPenalized(MLP([2, 1]), 1.0, "hessian", loss=cross_entropy), "kind"),
        (lambda: GradientPenalized(MLP([2, 1]), -1.0, loss=cross_entropy), "λ"),
    ],
)
def test_bad_inputs_are_refused_saying_what_was_expected(call, message):
    with pytest.raises((ValueError, RuntimeError), match=message):
        call()

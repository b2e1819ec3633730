"""Penalties on the input gradient: double backpropagation and the Jacobian penalty.

    input_gradient_penalty   λ·(1/m)·Σ_i ‖∂ℓ_i/∂x_i‖²        (Drucker and LeCun's double backprop)
    jacobian_penalty         λ·(1/m)·Σ_i ‖∂f(x_i)/∂x_i‖_F²   (the Jacobian of the outputs)

x_i is example i (column i of X, course layout), ℓ_i its loss and f(x_i) its outputs (the
logits). Both penalties make the function flat around the training points: a small change
of an input changes the loss (or the outputs) little. This is what L2 does for a linear model
(∂(Wx)/∂x = W, so the Jacobian penalty of a linear layer is λ·‖W‖_F²), carried to any depth,
measured where the data is.

**Why second derivatives.** The penalty is itself a gradient, computed by a backward pass;
training on it needs its gradient with respect to the parameters, the derivative of that
backward pass. ``grad(..., create_graph=True)`` records the backward pass as a graph of ops,
and the ordinary ``backward`` of the penalty then differentiates it (PyTorch's
``torch.autograd.grad(create_graph=True)``, and the tests compare with it).

**One backward pass for all the examples.** Example i's loss depends on column i of X only
(no layer mixes examples: this holds for the course network and any stack of Linear layers,
activations and dropout, not for batch normalization in training mode). So the gradient of
the mean loss L = (1/m)·Σ_i ℓ_i with respect to X holds every example's gradient at once:
column i of ∂L/∂X is (1/m)·∂ℓ_i/∂x_i. The same holds for the Jacobian, one output unit at a
time: column i of ∂(Σ_i f_k(x_i))/∂X is row k of example i's Jacobian, so K outputs take K
backward passes, whatever m.

With ReLU hidden units the penalty's gradient sees ReLU's second derivative, 0 almost
everywhere: the penalty still trains the weights (∂ℓ/∂x is a product of weight matrices and
0/1 masks), but not through the curvature of the activations, which smooth ones (tanh) have.

``GradientPenalized`` wraps a model for ``fit``: its forward makes the input a leaf that
requires grad (in training mode), and its ``loss`` adds the penalty to your loss::

    net = GradientPenalized(MLP([2, 20, 3, 1]), lambd=0.1, kind="input", loss=loss_fn)
    fit(net, X, Y, loss=net.loss)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import grad, is_grad_enabled
from ..tensor import Tensor
from .modules import Module
from .regularizers import _checked_lambda

KINDS = ("input", "jacobian")


def _check_input(X: Any, where: str) -> int:
    if not (isinstance(X, Tensor) and X.requires_grad and X.ndim == 2):
        raise ValueError(
            f"{where}: X must be the model's input, a 2-D Tensor (n_features, m) that requires "
            f"grad; got {type(X).__name__}"
            + (
                f" of shape {X.shape}, requires_grad={X.requires_grad}"
                if isinstance(X, Tensor)
                else ""
            )
            + ". Make it with Tensor(X, requires_grad=True) before the forward pass."
        )
    return X.shape[1]


def _check_graph(y: Tensor, what: str, where: str) -> None:
    if not y.requires_grad:
        raise RuntimeError(
            f"{where}: {what} (shape {y.shape}) has no graph back to X, so its gradient with "
            "respect to X cannot be taken: was it computed under no_grad, or from X's values "
            "rather than the Tensor X? The penalty needs gradients on (enable_grad)."
        )


def input_gradient_penalty(loss: Tensor, X: Tensor, lambd: float) -> Tensor:
    """λ·(1/m)·Σ_i ‖∂ℓ_i/∂x_i‖², for ``loss`` the mean over the m columns of X of per-example
    losses ℓ_i (every loss of ``nn.losses`` is); differentiable (its graph holds the recorded
    backward pass). Since ∂ℓ_i/∂x_i = m·(column i of ∂loss/∂X), it equals λ·m·‖∂loss/∂X‖_F²."""
    m = _check_input(X, "input_gradient_penalty")
    lam = _checked_lambda(lambd, "the penalty", "input_gradient_penalty")
    if loss.size != 1:
        raise ValueError(
            f"input_gradient_penalty: loss has shape {loss.shape}; expected one number, the "
            "mean of the examples' losses."
        )
    _check_graph(loss, "the loss", "input_gradient_penalty")
    (dX,) = grad(loss, X, create_graph=True)
    return (lam * m) * (dX * dX).sum()


def jacobian_penalty(outputs: Tensor, X: Tensor, lambd: float) -> Tensor:
    """λ·(1/m)·Σ_i ‖∂f(x_i)/∂x_i‖_F² for ``outputs`` (K, m), column i the model's outputs for
    column i of X; one backward pass per output unit k, each giving row k of every example's
    Jacobian. Differentiable (its graph holds the recorded backward passes)."""
    m = _check_input(X, "jacobian_penalty")
    lam = _checked_lambda(lambd, "the penalty", "jacobian_penalty")
    if outputs.ndim != 2 or outputs.shape[1] != m:
        raise ValueError(
            f"jacobian_penalty: outputs have shape {outputs.shape}; expected (K, {m}), one "
            f"column per column of X {X.shape}."
        )
    _check_graph(outputs, "outputs", "jacobian_penalty")
    total = None
    for k in range(outputs.shape[0]):
        row_k = np.zeros(outputs.shape, dtype=outputs.dtype)
        row_k[k] = 1.0
        (dX,) = grad(outputs, X, grad_outputs=row_k, create_graph=True, retain_graph=True)
        squares = (dX * dX).sum()
        total = squares if total is None else total + squares
    return (lam / m) * total


class GradientPenalized(Module):
    """``model`` with a gradient penalty, for ``fit(net, X, Y, loss=net.loss)``.

    ``kind="input"``: ``loss(Z, Y) = base(Z, Y) + input_gradient_penalty(base(Z, Y), X, λ)``
    (double backprop); ``kind="jacobian"``: ``base(Z, Y) + jacobian_penalty(Z, X, λ)``. ``base``
    is ``loss``, e.g. ``nn.losses.binary_cross_entropy_with_logits``. In training mode with
    gradients on, ``forward`` makes its input a leaf that requires grad and keeps it for
    ``loss``; otherwise (evaluation, ``no_grad``) it is ``model`` itself and ``loss`` is
    ``base``. The parameters are ``model``'s (named "model.W1", ...).
    """

    def __init__(
        self,
        model: Module,
        lambd: float,
        kind: str = "input",
        loss: Callable[[Tensor, Tensor], Tensor] | None = None,
    ):
        if kind not in KINDS:
            raise ValueError(f"GradientPenalized: kind = {kind!r}; expected one of {list(KINDS)}.")
        if not callable(loss):
            raise TypeError(
                "GradientPenalized: loss must be the loss function to penalize, e.g. "
                "nn.losses.binary_cross_entropy_with_logits."
            )
        self.model = model
        self.lambd = _checked_lambda(lambd, "the penalty", "GradientPenalized")
        self.kind = kind
        self.base = loss
        # the last forward pass's input, in a list: a Tensor attribute that requires grad
        # would be taken for a parameter
        self.inputs: list[Tensor] = []

    def extra_repr(self) -> str:
        return f"lambd={self.lambd:g}, kind={self.kind!r}"

    def forward(self, X: Any) -> Tensor:
        self.inputs = []
        if not (self.training and is_grad_enabled() and self.lambd > 0):
            return self.model(X)
        self.inputs = [Tensor(X.data if isinstance(X, Tensor) else X, requires_grad=True)]
        return self.model(self.inputs[0])

    def loss(self, outputs: Tensor, Y: Any) -> Tensor:
        """The base loss, plus the penalty when the last forward pass kept its input."""
        base = self.base(outputs, Y)
        kept, self.inputs = self.inputs, []  # one penalty per forward pass
        if not kept:
            return base
        X = kept[0]
        if self.kind == "input":
            return base + input_gradient_penalty(base, X, self.lambd)
        return base + jacobian_penalty(outputs, X, self.lambd)

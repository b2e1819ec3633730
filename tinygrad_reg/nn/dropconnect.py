"""DropConnect: dropout on the weights of a layer instead of on its units' outputs.

``DropConnectLinear(in_features, out_features, keep_prob=...)`` is a ``Linear`` that, in
training mode, computes (W·M / keep_prob) @ x + b with a fresh mask M = (rng.random(W.shape) <
keep_prob) on every forward pass: each single weight, not each unit, is kept with probability
keep_prob (Wan et al., "Regularization of neural networks using DropConnect", 2013). Dropout
with mask d on the layer's input x is the special case where a whole column of M is kept or
dropped together (W·diag(d) @ x = W @ (d·x)); DropConnect draws every entry alone, so each
example's output sees a different thinned network of the weights.

The mask and its scaling are ``Dropout``'s own (``modules.DropMask`` applied to W instead of to
an activation): dividing by keep_prob keeps E[W·M / keep_prob] = W, so eval mode uses W
unchanged, the plain Linear. The gradient flows through the kept weights only:

    d/dW [(W·M / keep_prob) @ x] = (g @ xᵀ)·M / keep_prob,    d/dx = (W·M / keep_prob)ᵀ @ g

and b is never dropped. ``p=`` (PyTorch's way, the probability of dropping) or ``keep_prob=``
(the course's), keyword-only as in ``Dropout``; the masks come from ``rng`` (default: the
thread's generator, see ``manual_seed``), which also draws the initial W first. One mask is
drawn per forward pass and shared by the examples of the batch (the paper's per-example masks
cost a weight matrix per example); the last one is kept in ``mask``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import hooks
from ..factories import default_generator
from ..ops.linalg import linear
from ..tensor import Tensor
from .modules import MLP, DropMask, Linear, Rng, dropout_keep_prob


class DropConnectLinear(Linear):
    """A ``Linear`` computing (W·M / keep_prob) @ x + b in training mode, with a fresh mask
    M = (rng.random(W.shape) < keep_prob) each call; W @ x + b in eval mode.

    ``DropConnectLinear(2, 3, p=0.5)`` drops each weight with probability 0.5;
    ``keep_prob=0.5`` says the same the course's way. A bare third number is refused, as
    ``Dropout(0.5)`` is. ``init`` and ``dtype`` as ``Linear``; ``rng`` draws the initial W,
    then the masks, call after call. The last mask is kept in ``mask``.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        *positional: Any,
        p: float | None = None,
        keep_prob: float | None = None,
        init: str = "course",
        rng: Rng | None = None,
        dtype: Any = np.float64,
    ):
        self.keep_prob = dropout_keep_prob(
            "DropConnectLinear", positional, p, keep_prob, default=0.5
        )
        self._given = "keep_prob" if keep_prob is not None else "p"
        self.rng = default_generator() if rng is None else rng
        super().__init__(in_features, out_features, init=init, rng=self.rng, dtype=dtype)
        self.mask: np.ndarray | None = None

    def extra_repr(self) -> str:
        if self._given == "keep_prob":
            return f"{super().extra_repr()}, keep_prob={self.keep_prob:g}"
        return f"{super().extra_repr()}, p={1 - self.keep_prob:g}"

    def forward(self, x: Any) -> Tensor:
        x = self.checked_input(x)
        if hooks.recorder is not None:  # compile replays this path only while they are equal
            hooks.recorder.read_settings(self, ("training", "keep_prob"))
        if not self.training or self.keep_prob == 1:
            return linear(x, self.W, self.b)
        op = DropMask(self.keep_prob, self.rng)
        dropped_weights = op(self.W)
        self.mask = op.mask
        return linear(x, dropped_weights, self.b)


def replace_linears(model: MLP, layer_type: type[Linear], **settings: Any) -> MLP:
    """``model`` with each of its Linear layers replaced by a ``layer_type(..., **settings)``
    holding the same W and b Tensors, so its optimizer, its ``state_dict`` and the names W1, b1,
    ... are unchanged: ``replace_linears(MLP([2, 20, 3, 1]), DropConnectLinear, keep_prob=0.8)``
    is the course network with DropConnect on every layer (``WeightNoiseLinear, std=0.1``: with
    weight noise). Changes ``model`` in place and returns it."""
    replaced = {}
    for layer in model.linears:
        out_features, in_features = layer.W.shape
        new = layer_type(in_features, out_features, init="zeros", dtype=layer.W.dtype, **settings)
        new.W, new.b = layer.W, layer.b
        new.train(layer.training)
        replaced[id(layer)] = new
    model.linears = [replaced[id(layer)] for layer in model.linears]
    for i, module in enumerate(model.layers):
        model.layers[i] = replaced.get(id(module), module)
    return model

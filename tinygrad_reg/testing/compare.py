"""Autodiff beside the hand-written backprop, in one call: ``compare_gradients``.

The reference's gradients dict has the course's eleven entries for 3 layers (dZ3, dW3, db3,
dA2, dZ2, dW2, db2, dA1, dZ1, dW1, db1; the same pattern for any depth). Autodiff gives
∂cost/∂W_l and ∂cost/∂b_l as ``.grad`` of the parameters and ∂cost/∂Z_l, ∂cost/∂A_l through
``retain_grad`` on each layer's output. The convention for m: the course computes dZ_L = A_L - Y
without the 1/m of the mean (it applies 1/m when forming dW and db), so its dZ_l and dA_l are
m·∂cost/∂Z_l and m·∂cost/∂A_l; the autodiff side is scaled by m to match, and dW, db are
compared as they are. dA_l is the gradient with respect to A_l before dropout, as the course's
(its dropout multiplies dA_l by D_l / keep_prob afterwards).

::

    result = compare_gradients(parameters, X, Y, penalty="l2", lambd=0.7)
    print(result)                  # one line per entry: shapes and the largest difference
    result.largest_difference      # max over the entries of max |autodiff - reference|
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from ..nn.course_masks import CourseMasks
from ..nn.losses import binary_cross_entropy_with_logits, cross_entropy
from ..nn.modules import MLP, Linear, ReLU, Rng
from ..nn.regularizers import penalty as penalty_of
from ..tensor import Tensor
from . import reference as R


@dataclass
class GradientComparison:
    """The two sides of ``compare_gradients``: costs, the gradients dicts (the course's names,
    autodiff's dZ and dA scaled by m) and max |autodiff - reference| per entry."""

    cost: float
    reference_cost: float
    autodiff: dict[str, np.ndarray]
    reference: dict[str, np.ndarray]
    differences: dict[str, float]

    @property
    def largest_difference(self) -> float:
        return max(self.differences.values())

    def __str__(self) -> str:
        lines = [f"cost  autodiff {self.cost!r}  reference {self.reference_cost!r}"]
        for name, difference in self.differences.items():
            shape = str(self.reference[name].shape)
            lines.append(f"{name:<5} {shape:<10} max |autodiff - reference| = {difference:.3g}")
        return "\n".join(lines)


def compare_gradients(
    parameters: dict[str, np.ndarray] | MLP,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    penalty: str = "none",
    lambd: R.Strength = 0.0,
    keep_prob: float = 1.0,
    rng: Rng | None = None,
) -> GradientComparison:
    """One forward and backward pass of the course network by autodiff (``MLP``, the fused loss,
    ``nn.regularizers.penalty``) and by ``reference`` on the same parameters, data and masks.

    ``parameters``: a reference dict, or an ``MLP`` (its parameters, its keep_prob and a copy of
    its mask generator are used; the model is not changed). With keep_prob < 1 both sides draw
    their masks from copies of ``rng`` (default RandomState(1)); a ``CourseMasks`` gives the
    reference RandomState(its seed), the course's ``np.random.seed`` at the top of the pass.
    """
    if isinstance(parameters, MLP):
        dropouts = [layer.keep_prob for layer in parameters.layers if hasattr(layer, "keep_prob")]
        keep_prob = dropouts[0] if dropouts else 1.0
        rng = parameters.rng if rng is None else rng
        parameters = parameters.to_parameters()
    rng = np.random.RandomState(1) if rng is None else rng
    if keep_prob < 1:
        reference_masks = copy.deepcopy(rng)
        if isinstance(rng, CourseMasks):
            reference_masks = np.random.RandomState(rng.course_seed)
        A_L, cache = R.forward_propagation_with_dropout(X, parameters, keep_prob, reference_masks)
        expected = R.backward_propagation_with_dropout(X, Y, cache, keep_prob, lambd, penalty)
    else:
        A_L, cache = R.forward_propagation(X, parameters)
        expected = R.backward_propagation_with_regularization(X, Y, cache, lambd, penalty)
    expected_cost = R.compute_cost_with_regularization(A_L, Y, parameters, lambd, penalty)

    model = MLP.from_parameters(parameters, keep_prob=keep_prob, rng=copy.deepcopy(rng))
    cost, got = autodiff_gradients(model, X, Y, penalty, lambd)
    got = {name: got[name] for name in expected}  # in the reference's order
    differences = {name: float(np.max(np.abs(got[name] - expected[name]))) for name in expected}
    return GradientComparison(cost, expected_cost, got, expected, differences)


def autodiff_gradients(
    model: MLP, X: np.ndarray, Y: np.ndarray, penalty: str = "none", lambd: R.Strength = 0.0
) -> tuple[float, dict[str, np.ndarray]]:
    """(the cost, the course's gradients by autodiff): dW_l, db_l from ``.grad``, and dZ_l,
    dA_l from ``retain_grad`` on each layer's output, times m (the course's convention)."""
    m = X.shape[1]
    outputs, x, l = {}, Tensor(X), 0
    for layer in model.layers:
        x = layer(x)
        if isinstance(layer, Linear):
            l += 1
            outputs[f"dZ{l}"] = x.retain_grad()
        elif isinstance(layer, ReLU):
            outputs[f"dA{l}"] = x.retain_grad()  # before dropout, as the course's dA
    loss = cross_entropy(x, Y) if Y.shape[0] > 1 else binary_cross_entropy_with_logits(x, Y)
    cost = loss + penalty_of(penalty, model, lambd, m)
    cost.backward()
    gradients = {name: m * t.grad for name, t in outputs.items()}
    gradients.update({"d" + name: p.grad for name, p in model.named_parameters()})
    return cost.item(), gradients

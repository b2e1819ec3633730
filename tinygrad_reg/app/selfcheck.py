"""``tinygrad-reg check``: is this thing right? Autodiff against two independent witnesses.

On a few random course networks (several depths, widths, penalties, with and without dropout,
binary and multiclass, all seeded) every gradient dW_l, db_l of the cost

    J = cross-entropy(σ(Z_L), Y) + penalty(W)

(for a network with C >= 2 outputs, every third one: cross-entropy(softmax(Z_L), Y) with Y
one-hot columns)
computed by the engine is compared with

1. the hand-written backprop in ``reference.py`` (the course's formulas, same dropout masks);
2. central differences (J(θ + ε) − J(θ − ε)) / 2ε of the same cost, one parameter at a time.

The error is the course's gradient-check number ||g − ĝ|| / (||g|| + ||ĝ||), with g all of a
network's autodiff gradients and ĝ the other side's, split per parameter: the row for W1 is
||dW1 − dŴ1|| / (||g|| + ||ĝ||) (the squares of the rows add up to the square of the whole).
Relative to the whole gradient rather than to dW1 alone, because a tiny gradient (a bias
feeding mostly dead units, ~1e-4) has a central-difference error (~1e-10, rounding/ε) that is
large next to itself but says nothing about a bug.

Autodiff and the reference do the same arithmetic in a different order, so they agree to
rounding (~1e-16); central differences have an error of order ε² plus rounding/ε, so ~1e-9 is
normal. A wrong gradient rule gives errors far above both tolerances.

Only numpy is needed (no hypothesis): this runs on the base install.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from ..nn.losses import binary_cross_entropy_with_logits, cross_entropy
from ..nn.modules import MLP
from ..nn.regularizers import penalty as penalty_of
from ..tensor import Tensor
from ..testing import reference
from ..testing.gradcheck import numerical_gradient

#: Largest relative error accepted against the hand-written reference (rounding only).
REFERENCE_TOLERANCE = 1e-10
#: Largest relative error accepted against central differences with step EPSILON.
FINITE_DIFFERENCE_TOLERANCE = 1e-7  # the course: "below about 1e-7 the backprop is right"
EPSILON = 1e-6
#: A network with a hidden pre-activation (relu) or, under L1, a weight (|w|) closer than this
#: to the kink at 0 is redrawn: a finite-difference step must not cross a kink.
KINK_MARGIN = 1e-3


@dataclass(frozen=True)
class Network:
    """One random network with its data; dropout masks come from RandomState(mask_seed)."""

    parameters: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    penalty: str
    lambd: float
    keep_prob: float
    mask_seed: int

    def describe(self) -> str:
        dims = reference.layer_dims_of(self.parameters)
        regularization = (
            "no penalty" if self.penalty == "none" else f"{self.penalty} λ={self.lambd:.2f}"
        )
        dropout = f", keep_prob={self.keep_prob:.2f}" if self.keep_prob < 1 else ""
        softmax = ", softmax" if dims[-1] > 1 else ""
        return f"{dims}{softmax}, m={self.X.shape[1]}, {regularization}{dropout}"


# --- the three ways to get the gradient --------------------------------------------------------


def autodiff_cost(model: MLP, X: np.ndarray, Y: np.ndarray, penalty: str, lambd: float) -> Tensor:
    """J = mean cross-entropy of σ(model(X)) (softmax for C >= 2 outputs) against Y + the
    penalty on the weights."""
    Z = model(Tensor(X))
    cost = cross_entropy(Z, Y) if Z.shape[0] > 1 else binary_cross_entropy_with_logits(Z, Y)
    if penalty == "none":
        return cost
    return cost + penalty_of(penalty, model, lambd, X.shape[1])


def autodiff_gradients(network: Network) -> dict[str, np.ndarray]:
    """∂J/∂θ for every parameter θ (keys W1, b1, ...) from the engine's backward pass."""
    masks = np.random.RandomState(network.mask_seed)
    model = MLP.from_parameters(network.parameters, keep_prob=network.keep_prob, rng=masks)
    autodiff_cost(model, network.X, network.Y, network.penalty, network.lambd).backward()
    # No gradient at all counts as 0, which the comparison then shows as wrong.
    return {
        name: np.zeros(p.shape) if p.grad is None else p.grad
        for name, p in model.named_parameters()
    }


def reference_gradients(network: Network) -> dict[str, np.ndarray]:
    """∂J/∂θ from the hand-written backprop, with the same dropout masks (keys W1, b1, ...)."""
    n = network
    if n.keep_prob < 1:
        masks = np.random.RandomState(n.mask_seed)
        _, cache = reference.forward_propagation_with_dropout(n.X, n.parameters, n.keep_prob, masks)
        grads = reference.backward_propagation_with_dropout(
            n.X, n.Y, cache, n.keep_prob, n.lambd, n.penalty
        )
    else:
        _, cache = reference.forward_propagation(n.X, n.parameters)
        grads = reference.backward_propagation_with_regularization(
            n.X, n.Y, cache, n.lambd, n.penalty
        )
    return {name: grads["d" + name] for name in n.parameters}


def finite_difference_gradients(network: Network) -> dict[str, np.ndarray]:
    """∂J/∂θ by central differences of the engine's cost. The mask stream is re-seeded before
    every evaluation, so all of them drop the same units."""
    n = network
    names = list(n.parameters)
    masks = np.random.RandomState()

    def cost(*tensors: Tensor) -> Tensor:
        masks.seed(n.mask_seed)
        values = {name: t.data for name, t in zip(names, tensors)}
        model = MLP.from_parameters(values, keep_prob=n.keep_prob, rng=masks)
        return autodiff_cost(model, n.X, n.Y, n.penalty, n.lambd)

    numerical = numerical_gradient(cost, [n.parameters[name] for name in names], eps=EPSILON)
    return dict(zip(names, numerical))


# --- random networks --------------------------------------------------------------------------

PENALTY_CYCLE = ("l2", "none", "l1", "elastic")


def random_network(index: int, seed: int) -> Network:
    """Network number ``index`` of the run seeded with ``seed``: depth 1 to 4 and penalties
    in turn, dropout on every other one, 2 to 4 classes (softmax) on every third one,
    widths/m/λ/keep_prob and all arrays drawn from RandomState. Draws that land near a kink are
    redrawn (see KINK_MARGIN)."""
    rng = np.random.RandomState([seed, index])
    depth = 1 + index % 4
    penalty = PENALTY_CYCLE[index % len(PENALTY_CYCLE)]
    keep_prob = float(rng.uniform(0.5, 0.95)) if index % 2 else 1.0
    outputs = int(rng.randint(2, 5)) if index % 3 == 2 else 1
    while True:
        hidden = [int(w) for w in rng.randint(1, 9, size=depth - 1)]
        dims = [int(rng.randint(1, 6)), *hidden, outputs]
        m = int(rng.randint(1, 17))
        parameters = {}
        for l in range(1, depth + 1):
            parameters[f"W{l}"] = rng.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
            parameters[f"b{l}"] = 0.1 * rng.randn(dims[l], 1)
        X = rng.randn(dims[0], m)
        if outputs == 1:
            Y = (rng.rand(1, m) < 0.5).astype(np.float64)
        else:
            Y = reference.convert_to_one_hot(rng.randint(0, outputs, m), outputs)
        lambd = float(rng.uniform(0.1, 3.0)) if penalty != "none" else 0.0
        network = Network(parameters, X, Y, penalty, lambd, keep_prob, int(rng.randint(2**31)))
        if _distance_to_kink(network) > KINK_MARGIN:
            return network


def _distance_to_kink(network: Network) -> float:
    """How close a hidden pre-activation Z (relu) or, with an L1 part, a weight (|w|) is to 0."""
    n = network
    masks = np.random.RandomState(n.mask_seed)
    _, cache = reference.forward_propagation_with_dropout(n.X, n.parameters, n.keep_prob, masks)
    depth = len(n.parameters) // 2
    hidden_Z = [cache[5 * l] for l in range(depth - 1)]  # (Z, D, A, W, b) per hidden layer
    closest = min((float(np.abs(Z).min()) for Z in hidden_Z), default=np.inf)
    if n.penalty in ("l1", "elastic"):
        weights = [n.parameters[f"W{l}"] for l in range(1, depth + 1)]
        closest = min(closest, min(float(np.abs(W).min()) for W in weights))
    return closest


# --- the check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NetworkErrors:
    """Per parameter name: relative error of autodiff vs the reference and vs central
    differences."""

    network: Network
    vs_reference: dict[str, float]
    vs_finite_differences: dict[str, float]


def check_network(network: Network) -> NetworkErrors:
    """The relative errors of every autodiff gradient of ``network``."""
    autodiff = autodiff_gradients(network)
    return NetworkErrors(
        network,
        split_difference(autodiff, reference_gradients(network)),
        split_difference(autodiff, finite_difference_gradients(network)),
    )


def split_difference(g: dict[str, np.ndarray], other: dict[str, np.ndarray]) -> dict[str, float]:
    """||g_θ − other_θ|| / (||g|| + ||other||) for each parameter θ, the norms in the
    denominator over all parameters together; 0 where both are 0 everywhere."""
    scale = np.sqrt(sum(np.vdot(v, v) for v in g.values()))
    scale += np.sqrt(sum(np.vdot(v, v) for v in other.values()))
    if scale == 0:
        return {name: 0.0 for name in g}
    return {name: float(np.linalg.norm(g[name] - other[name]) / scale) for name in g}


def run_check(networks: int = 8, seed: int = 0, stream: TextIO | None = None) -> bool:
    """Check ``networks`` random networks, print the report to ``stream`` (default stdout);
    True if every error is within its tolerance."""
    out = sys.stdout if stream is None else stream
    results = [check_network(random_network(i, seed)) for i in range(networks)]

    print(f"Checked {networks} random networks (seed {seed}):", file=out)
    for i, r in enumerate(results, start=1):
        worst_ref = max(r.vs_reference.values())
        worst_fd = max(r.vs_finite_differences.values())
        print(
            f"  {i:2}. {r.network.describe():<56} worst {worst_ref:.1e} / {worst_fd:.1e}",
            file=out,
        )

    names = _course_order({name for r in results for name in r.vs_reference})
    header = f"{'gradient':<10}{'vs reference':>16}{'vs finite diff.':>18}  {'networks':>8}"
    print(
        "\nLargest error over the networks, ||dθ − dθ'|| / (||g|| + ||g'||): autodiff's gradient"
        "\nof θ against the other's, relative to all of the network's gradients g, g'.",
        file=out,
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    passed = True
    for name in names:
        having = [r for r in results if name in r.vs_reference]
        ref_error = max(r.vs_reference[name] for r in having)
        fd_error = max(r.vs_finite_differences[name] for r in having)
        ok = ref_error <= REFERENCE_TOLERANCE and fd_error <= FINITE_DIFFERENCE_TOLERANCE
        passed = passed and ok
        print(
            f"{'d' + name:<10}{ref_error:>16.2e}{fd_error:>18.2e}  {len(having):>8}"
            + ("" if ok else "  FAIL"),
            file=out,
        )
    print(
        f"\nTolerances: {REFERENCE_TOLERANCE:.0e} vs the hand-written reference (the same math, "
        f"so only rounding),\n{FINITE_DIFFERENCE_TOLERANCE:.0e} vs central differences "
        f"(step {EPSILON:.0e}).",
        file=out,
    )
    verdict = "PASS: autodiff agrees with both" if passed else "FAIL: some gradient is wrong"
    print(verdict, file=out)
    return passed


def _course_order(names: set[str]) -> list[str]:
    """W1, b1, W2, b2, ..."""
    return sorted(names, key=lambda name: (int(name[1:]), name[0] != "W"))

"""Weight penalties: L2, L1, elastic net and orthogonality, each one graph node over all
penalized tensors.

    l2_penalty            λ/(2m)·Σ_W ΣW²                  ∂/∂W = λ/m·W
    l1_penalty            λ/m·Σ_W Σ|W|                    ∂/∂W = λ/m·sign(W), sign(0) = 0
    elastic_net_penalty   λ1/m·Σ_W Σ|W| + λ2/(2m)·Σ_W ΣW²  ∂/∂W = λ1/m·sign(W) + λ2/m·W
    orthogonality_penalty λ·Σ_W ‖W Wᵀ − I‖²_F              ∂/∂W = 4λ·(W Wᵀ − I)·W

m is the number of training examples, so the first three keep the same weight against the
mean cross-entropy whatever the dataset size (the course's convention). The orthogonality
penalty has no m: it asks for a shape of W (its singular values all 1), not for small weights,
and the course has no version of it to follow.

**Orthogonality, W Wᵀ or Wᵀ W.** W (n_out, n_in) is taken as a matrix, a conv weight
(out, in, kh, kw) as (out, in·kh·kw), one filter a row. A wide W (n_out <= n_in) can have
orthonormal rows, W Wᵀ = I (n_out × n_out); a tall one can only have orthonormal columns,
Wᵀ W = I (n_in × n_in). With σ_j the singular values, ‖W Wᵀ − I‖²_F = Σ_j (σ_j² − 1)² plus 1
for each of the max(0, n_out − n_in) zero eigenvalues W Wᵀ is bound to have, and Wᵀ W is the
same with n_in and n_out swapped: the two differ by a constant, so they have the same gradient,
4·(W Wᵀ − I)·W = 4·W·(Wᵀ W − I). The penalty uses the smaller of the two Gram matrices
(W Wᵀ for a wide W, Wᵀ W for a tall one): it is then 0 exactly at the semi-orthogonal
matrices, and the product is the cheaper one.

What is penalized: ``params`` is a Module, a dict name → Tensor or a list of Tensors.
- By default, the weights only (``named_weights``): in a Module, each layer says which of its
  parameters are weights (``Module.weight_names``: Linear's W, Conv2d's and Embedding's
  ``weight``; none of a LayerNorm's or BatchNorm's); in a dict, the names whose last part
  starts with "W" (the course's W1, W2, ...) or is "weight". Biases and normalization scales
  and shifts are left alone: a bias does not multiply an input, so shrinking it does not make
  the function less sensitive to its inputs (which is what fights overfitting), and a norm's
  scale is undone by the next layer's weights; that is the usual "no decay on biases and
  norms" recipe. A dict cannot tell a BatchNorm's ``weight`` from a Conv2d's: pass the Module.
- ``lambd`` may be a dict name → λ: then exactly the named parameters are penalized, each with
  its own λ (biases too, if named).
- A plain list of Tensors means "exactly these", all with the one ``lambd``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..ops.helpers import sign
from ..tensor import Tensor
from .modules import Module

Params = Module | dict[str, Tensor] | list[Tensor] | tuple[Tensor, ...]
Lambda = float | dict[str, float]


class WeightedSum(Function):
    """Σ_i c_i·term(W_i) over any number of tensors W_i, with one coefficient c_i each: the
    shape of every penalty below, each one node however many weights it covers."""

    save_inputs, save_out = True, False

    __slots__ = ("coefficients",)

    def __init__(self, coefficients: list[float]):
        self.coefficients = coefficients

    def term(self, w: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, *weights: np.ndarray) -> np.ndarray:
        total = 0.0
        for c, w in zip(self.coefficients, weights):
            total = total + c * self.term(w)
        return total  # a 0-d array (or 0.0 for no weights: Function makes it an array)


class SumOfSquares(WeightedSum):
    """Σ_i c_i·ΣW_i²"""

    __slots__ = ()

    def term(self, w: np.ndarray) -> np.ndarray:
        return np.vdot(w, w)

    def backward(self, g: Any, out: Any, *weights: Any) -> tuple[Any, ...]:
        """d/dW_i = 2·g·c_i·W_i"""
        return tuple(g * (2 * c) * w for c, w in zip(self.coefficients, weights))


class SumOfAbs(WeightedSum):
    """Σ_i c_i·Σ|W_i|"""

    __slots__ = ()

    def term(self, w: np.ndarray) -> np.ndarray:
        return np.abs(w).sum()

    def backward(self, g: Any, out: Any, *weights: Any) -> tuple[Any, ...]:
        """d/dW_i = g·c_i·sign(W_i), with sign(0) = 0"""
        return tuple(g * c * sign(w) for c, w in zip(self.coefficients, weights))


class ElasticNet(Function):
    """Σ_i a_i·Σ|W_i| + c_i·ΣW_i²: SumOfAbs and SumOfSquares in one node"""

    save_inputs, save_out = True, False

    __slots__ = ("l1", "l2")

    def __init__(self, l1_coefficients: list[float], l2_coefficients: list[float]):
        self.l1, self.l2 = SumOfAbs(l1_coefficients), SumOfSquares(l2_coefficients)

    def forward(self, *weights: np.ndarray) -> np.ndarray:
        return self.l1.forward(*weights) + self.l2.forward(*weights)

    def backward(self, g: Any, out: Any, *weights: Any) -> tuple[Any, ...]:
        """d/dW_i = g·(a_i·sign(W_i) + 2·c_i·W_i)"""
        l1 = self.l1.backward(g, out, *weights)
        l2 = self.l2.backward(g, out, *weights)
        return tuple(a + b for a, b in zip(l1, l2))


def _as_matrix(w: Any) -> Any:
    """W as a matrix (n_out, everything else): a conv filter is one row."""
    return w.reshape(w.shape[0], -1)


class Orthogonality(WeightedSum):
    """Σ_i c_i·‖G_i − I‖²_F, G_i the smaller Gram matrix of W_i (W Wᵀ wide, Wᵀ W tall)"""

    __slots__ = ()

    def term(self, w: np.ndarray) -> np.ndarray:
        matrix = _as_matrix(w)
        wide = matrix.shape[0] <= matrix.shape[1]
        gram = matrix @ matrix.T if wide else matrix.T @ matrix
        off = gram - np.eye(len(gram), dtype=gram.dtype)
        return np.vdot(off, off)

    def backward(self, g: Any, out: Any, *weights: Any) -> tuple[Any, ...]:
        """d/dW_i = 4·g·c_i·(W Wᵀ − I)·W = 4·g·c_i·W·(Wᵀ W − I)"""
        gradients = []
        for c, w in zip(self.coefficients, weights):
            a = _as_matrix(w)
            wide = a.shape[0] <= a.shape[1]
            product = (a @ a.T) @ a if wide else a @ (a.T @ a)
            gradients.append((g * (4 * c) * (product - a)).reshape(w.shape))
        return tuple(gradients)


def is_weight(name: str) -> bool:
    """The rule by name (a dict of parameters, or a module that does not set ``weight_names``):
    "W1", "W", "layers.0.W", "0.weight" are weights; "b1", "0.b", "0.bias" are not."""
    last = name.rsplit(".", 1)[-1]
    return last.startswith("W") or last == "weight"


def _weight_ids(module: Module) -> set[int]:
    """The ids of the weights of ``module`` and its sub-modules, each as its owner declares."""
    declared = module.weight_names
    ids = {
        id(value)
        for name, value in vars(module).items()
        if isinstance(value, Tensor) and (is_weight(name) if declared is None else name in declared)
    }
    for _, child in module.named_children():
        ids |= _weight_ids(child)
    return ids


def named_weights(params: Module | dict[str, Tensor]) -> list[tuple[str, Tensor]]:
    """The (name, tensor) pairs of the weights: of a Module, those its layers declare in
    ``weight_names`` (by name where a layer does not say); of a dict, by ``is_weight``."""
    if isinstance(params, Module):
        ids = _weight_ids(params)
        return [(name, p) for name, p in params.named_parameters() if id(p) in ids]
    return [(name, p) for name, p in params.items() if is_weight(name)]


def param_groups_without_decay(
    model: Module | dict[str, Tensor], weight_decay: float
) -> list[dict[str, Any]]:
    """Two optimizer parameter groups: the weights (``named_weights``) with ``weight_decay``,
    and the rest (biases, normalization scales and shifts) with ``weight_decay`` 0, the usual
    "no decay on biases and norms" recipe. Pass them to any optimizer:
    ``AdamW(param_groups_without_decay(model, 0.01), lr=1e-3)``. An empty group is left out
    (a model without biases gives one group)."""
    where = "param_groups_without_decay"
    if not isinstance(model, (Module, dict)):
        raise TypeError(
            f"{where}: model must be a Module or a dict name → Tensor (names tell weights from "
            f"biases); got {type(model).__name__}."
        )
    decay = _checked_lambda(weight_decay, "the weights' decay", where)
    everything = model.named_parameters() if isinstance(model, Module) else list(model.items())
    weights = {id(p) for _, p in named_weights(model)}
    groups = [
        {"params": [p for _, p in everything if id(p) in weights], "weight_decay": decay},
        {"params": [p for _, p in everything if id(p) not in weights], "weight_decay": 0.0},
    ]
    return [group for group in groups if group["params"]]


#: A weight counts as "~0" below this magnitude. L1's subgradient steps make a weight that
#: should be 0 hop around 0 by lr·λ/m (~1e-3 in the demo) instead of sitting on it.
ZERO_THRESHOLD = 0.01


def weights_of(model: Module) -> np.ndarray:
    """All weight matrices as one flat array (biases left out, as the penalties do)."""
    return np.concatenate([p.data.ravel() for _, p in named_weights(model)])


def near_zero_fraction(model: Module, threshold: float = ZERO_THRESHOLD) -> float:
    """The fraction of the model's weights with |w| < threshold: what L1 drives to ~0."""
    return float(np.mean(np.abs(weights_of(model)) < threshold))


def _selected(params: Params, lambd: Lambda, where: str) -> tuple[list[Tensor], list[float]]:
    """The tensors to penalize and the λ of each."""
    if isinstance(params, Module):
        named = params.named_parameters()
    elif isinstance(params, dict):
        named = list(params.items())
    elif isinstance(params, (list, tuple)):
        if isinstance(lambd, dict):
            raise TypeError(
                f"{where}: a dict of λ needs named parameters (a Module or a dict name → Tensor); "
                "got a list."
            )
        named = [(f"params[{i}]", t) for i, t in enumerate(params)]
    else:
        raise TypeError(
            f"{where}: params must be a Module, a dict name → Tensor or a list of Tensors; "
            f"got {type(params).__name__}."
        )
    if isinstance(lambd, dict):
        unknown = [name for name in lambd if name not in dict(named)]
        if unknown:
            raise ValueError(
                f"{where}: λ given for {unknown}, which are not among the parameters "
                f"{[name for name, _ in named]}."
            )
        chosen = [(name, t) for name, t in named if name in lambd]
        lambdas = [_checked_lambda(lambd[name], name, where) for name, _ in chosen]
    else:
        exactly_these = isinstance(params, (list, tuple))
        chosen = named if exactly_these else named_weights(params)  # type: ignore[arg-type]
        lambdas = [_checked_lambda(lambd, "every parameter", where)] * len(chosen)
    if not chosen:
        raise ValueError(
            f"{where}: nothing to penalize (by default the weights: see named_weights); pass "
            "a dict of λ or a list of Tensors to choose."
        )
    for name, t in chosen:
        if not isinstance(t, Tensor):
            raise TypeError(f"{where}: {name} is a {type(t).__name__}; expected a Tensor.")
    return [t for _, t in chosen], lambdas


def _checked_lambda(lam: Any, name: str, where: str) -> float:
    if not (isinstance(lam, (int, float, np.integer, np.floating)) and 0 <= lam < np.inf):
        raise ValueError(f"{where}: λ for {name} is {lam!r}; expected a finite number >= 0.")
    return float(lam)


def _check_m(m: int, where: str) -> None:
    if not (isinstance(m, (int, np.integer)) and m >= 1):
        raise ValueError(f"{where}: m={m!r}; expected the number of examples, an integer >= 1.")


def l2_penalty(params: Params, lambd: Lambda, m: int) -> Tensor:
    """λ/(2m)·Σ_W ΣW² (weights only by default); its gradient is λ/m·W. One graph node."""
    _check_m(m, "l2_penalty")
    tensors, lambdas = _selected(params, lambd, "l2_penalty")
    return SumOfSquares([lam / (2 * m) for lam in lambdas])(*tensors)


def l1_penalty(params: Params, lambd: Lambda, m: int) -> Tensor:
    """λ/m·Σ_W Σ|W| (weights only by default); its gradient is λ/m·sign(W), 0 at W = 0.
    One graph node."""
    _check_m(m, "l1_penalty")
    tensors, lambdas = _selected(params, lambd, "l1_penalty")
    return SumOfAbs([lam / m for lam in lambdas])(*tensors)


def elastic_net_penalty(params: Params, l1: Lambda, l2: Lambda, m: int) -> Tensor:
    """λ1/m·Σ_W Σ|W| + λ2/(2m)·Σ_W ΣW²; its gradient is λ1/m·sign(W) + λ2/m·W. One graph node.

    ``l1`` and ``l2`` each select as ``lambd`` does; a tensor selected by only one of them gets
    only that part."""
    _check_m(m, "elastic_net_penalty")
    l1_tensors, l1_lambdas = _selected(params, l1, "elastic_net_penalty")
    l2_tensors, l2_lambdas = _selected(params, l2, "elastic_net_penalty")
    # each tensor once, told apart by identity (== compares values)
    tensors = list({id(t): t for t in l1_tensors + l2_tensors}.values())
    a = dict(zip(map(id, l1_tensors), l1_lambdas))
    c = dict(zip(map(id, l2_tensors), l2_lambdas))
    return ElasticNet(
        [a.get(id(t), 0.0) / m for t in tensors],
        [c.get(id(t), 0.0) / (2 * m) for t in tensors],
    )(*tensors)


def orthogonality_penalty(params: Params, lambd: Lambda) -> Tensor:
    """λ·Σ_W ‖W Wᵀ − I‖²_F (weights only by default; the smaller Gram matrix, see the module's
    docstring); its gradient is 4λ·(W Wᵀ − I)·W. One graph node. Every selected tensor must
    have 2 or more dimensions (a conv weight is taken as (out, in·kh·kw))."""
    tensors, lambdas = _selected(params, lambd, "orthogonality_penalty")
    for t in tensors:
        if t.ndim < 2:
            raise ValueError(
                f"orthogonality_penalty: a tensor of shape {t.shape} is not a matrix; W Wᵀ "
                "needs 2 or more dimensions (leave biases out: see named_weights)."
            )
    return Orthogonality(lambdas)(*tensors)


PENALTIES = ("none", "l2", "l1", "elastic", "orthogonality")


def penalty(kind: str, params: Params, lambd: Lambda | tuple[Lambda, Lambda], m: int) -> Tensor:
    """The penalty named ``kind``: "none" (a constant 0), "l2", "l1", "elastic" (``lambd`` is
    one λ for both parts or a pair (λ1, λ2)) or "orthogonality" (which does not use m)."""
    if kind == "none":  # a constant 0 of the parameters' dtype (float64 would promote float32)
        if isinstance(params, Module):
            params = params.parameters()
        tensors = list(params.values()) if isinstance(params, dict) else list(params)
        return Tensor(np.zeros((), dtype=tensors[0].dtype if tensors else np.float64))
    if kind == "l2":
        return l2_penalty(params, lambd, m)  # type: ignore[arg-type]
    if kind == "l1":
        return l1_penalty(params, lambd, m)  # type: ignore[arg-type]
    if kind == "elastic":
        if isinstance(lambd, (tuple, list)) and len(lambd) != 2:
            raise ValueError(
                f"penalty: elastic lambd = {lambd!r} has {len(lambd)} values; expected one λ for "
                "both parts or a pair (λ1, λ2)."
            )
        l1, l2 = lambd if isinstance(lambd, (tuple, list)) else (lambd, lambd)
        return elastic_net_penalty(params, l1, l2, m)
    if kind == "orthogonality":
        return orthogonality_penalty(params, lambd)  # type: ignore[arg-type]
    raise ValueError(f"penalty: unknown kind {kind!r}; expected one of {', '.join(PENALTIES)}.")

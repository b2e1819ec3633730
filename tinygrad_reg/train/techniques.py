"""The techniques the sweep sweeps: what each one's value means and how a run is built from it.

``TECHNIQUES`` has one ``Technique`` per name of ``sweep(penalty=...)`` and ``sweep --penalty``:
the penalties added to the cost (L2, L1, elastic net, orthogonality), dropout and DropConnect
(keep_prob), group lasso by its proximal step, the spectral-norm constraint (its bound c), the
gradient penalties, label smoothing on the loss, and Gaussian noise on the inputs or on the
weights. Each entry says how the demo's network is changed for a value (a model keyword, a
wrapper, layers swapped, fit's keywords) and which values are valid;
``regularization_path.py`` trains and measures the runs.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..nn.dropconnect import DropConnectLinear, replace_linears
from ..nn.gradient_penalty import GradientPenalized
from ..nn.modules import MLP, Linear, Module, Sequential
from ..nn.noise import GaussianNoise, WeightNoiseLinear
from ..optim.proximal import ProximalSGD
from .loop import DEFAULT_LR, auto_loss

#: The demo's learning rate, the course's (app/demo.py trains with it too).
LEARNING_RATE = DEFAULT_LR


def log_grid(low_exponent: float, high_exponent: float) -> tuple[float, ...]:
    """0 (no regularization), then 10^e for e from ``low_exponent`` to ``high_exponent`` in
    steps of 0.5 (two values per decade), to 3 significant digits:
    log_grid(-1, 1.5) = (0, 0.1, 0.316, 1, 3.16, 10, 31.6)."""
    exponents = np.arange(low_exponent, high_exponent + 0.25, 0.5)
    return (0.0, *(float(f"{10**e:.3g}") for e in exponents))


Keywords = dict[str, Any]


@dataclass(frozen=True)
class Technique:
    """One technique the sweep sweeps: what its value means and how a run is built from it.

    A run is ``model = MLP(layer_dims, seed=seed, **model_keywords(value))``, then
    ``fit(module, X, Y, optimizer=SGD(lr=0.3), **fit_keywords(value, module, m))`` with
    ``module = wrap(value, model)`` (the model itself, or a wrapper sharing its parameters, e.g.
    one whose input requires grad for a gradient penalty): the model's keywords (dropout's
    keep_prob), and fit's (a penalty added to the cost, a loss, an optimizer replacing SGD with
    its proximal step, a constraint as a callback), m being the run's number of examples.
    """

    name: str
    parameter: str  # the value's name: the CSV's first column ("lambd", "keep_prob")
    symbol: str  # its name in the table and on the plot ("λ", "keep_prob")
    meaning: str  # one line: what the value does
    values: tuple[float, ...]  # the default grid, from no regularization to too much
    valid: Callable[[float], bool]
    expected: str  # what ``valid`` accepts, for the error: "λ values >= 0"
    model_keywords: Callable[[float], Keywords] = lambda value: {}
    wrap: Callable[[float, MLP], Module] = lambda value, model: model
    fit_keywords: Callable[[float, Module, int], Keywords] = lambda value, model, m: {}
    decreasing: bool = False  # regularization grows as the value falls (keep_prob)
    l2_part: bool = False  # its cost has λ/(2m)·ΣW²: λ >= 2m/lr diverges (``check_stable``)


def _strength(value: float) -> bool:
    return 0 <= value < math.inf


def _probability(value: float) -> bool:
    return 0 < value <= 1


def _penalty(kind: str) -> Callable[[float, MLP, int], Keywords]:
    """fit's keywords for a penalty of ``regularizers.penalty``; none at all for λ = 0."""

    def keywords(value: float, model: MLP, m: int) -> Keywords:
        return {"penalty": kind, "lambd": value} if value != 0 else {}

    return keywords


def _group_lasso(value: float, model: MLP, m: int) -> Keywords:
    """ProximalSGD's block soft thresholding of the units' incoming weights (rows), c = λ/m."""
    if value == 0:
        return {}
    return {"optimizer": ProximalSGD(model, lr=LEARNING_RATE, group_lasso=value / m)}


def _gradient_penalized(kind: str) -> Callable[[float, MLP], Module]:
    """The model wrapped so that fit's loss adds λ times the gradient penalty ``kind``."""

    def wrap(value: float, model: MLP) -> Module:
        return GradientPenalized(model, value, kind, loss=auto_loss) if value != 0 else model

    return wrap


def _penalized_loss(value: float, module: Module, m: int) -> Keywords:
    return {"loss": module.loss} if isinstance(module, GradientPenalized) else {}


def _strength_technique(
    name: str, meaning: str, values: tuple[float, ...], **how: Any
) -> Technique:
    """A technique whose value is a strength λ >= 0 (0: none)."""
    return Technique(name, "lambd", "λ", meaning, values, _strength, "λ values >= 0", **how)


#: A gradient penalty's default values; at λ = 10 the "jacobian" one blows the weights up (lr 0.3).
GRADIENT_GRIDS = {"input": log_grid(-2, 0.5), "jacobian": log_grid(-3, -0.5)}


def _gradient_technique(kind: str, meaning: str) -> Technique:
    """The gradient penalty ``kind`` of ``GradientPenalized``: "input" (named input_gradient
    in the table) or "jacobian"."""
    name = "input_gradient" if kind == "input" else kind
    return _strength_technique(
        name,
        meaning,
        GRADIENT_GRIDS[kind],
        wrap=_gradient_penalized(kind),
        fit_keywords=_penalized_loss,
    )


def _bound(value: float) -> bool:
    return 0 < value < math.inf


#: The orthogonality penalty's strengths; from λ = 0.3 the demo's run diverges (lr 0.3).
ORTHOGONALITY_GRID = log_grid(-4, -1)

#: The spectral-norm bounds: the first is above every σ_max of the unconstrained demo network
#: (so, no constraint), the last well below.
SPECTRAL_GRID = (8.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.7)


def _fraction(value: float) -> bool:
    return 0 <= value <= 1


def _smoothed_loss(value: float, module: Module, m: int) -> Keywords:
    """fit's loss: the default one against targets smoothed by ε (``nn/losses.py``)."""
    return {"loss": functools.partial(auto_loss, label_smoothing=value)} if value != 0 else {}


def _input_noise(value: float, model: MLP) -> Module:
    """GaussianNoise(σ) on the data, before the network; drawn from the model's mask stream."""
    return Sequential(GaussianNoise(value, rng=model.rng), model) if value != 0 else model


def _swapped_linears(layer_type: type[Linear], setting: str, off: float) -> Callable:
    """The model with its Linear layers replaced by ``layer_type(..., setting=value)`` sharing
    W and b, the masks or noise drawn from the model's mask stream; unchanged for ``off``."""

    def wrap(value: float, model: MLP) -> Module:
        if value == off:
            return model
        return replace_linears(model, layer_type, rng=model.rng, **{setting: value})

    return wrap


#: Gaussian noise's default standard deviations (the data's features are of order 1).
NOISE_GRID = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)


def _noise_technique(name: str, where: str, values: tuple[float, ...], wrap: Callable) -> Technique:
    """Gaussian noise σ·N on ``where`` in training mode; the value is σ >= 0 (0: none)."""
    meaning = f"Gaussian noise σ·N added to {where} in training"
    return Technique(name, "std", "σ", meaning, values, _strength, "σ values >= 0", wrap=wrap)


def _keep_prob_technique(name: str, meaning: str, **how: Any) -> Technique:
    """A technique whose value is the probability keep_prob of keeping a unit or a weight."""
    values = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
    expected = "keep_prob values in (0, 1]"
    return Technique(
        name,
        "keep_prob",
        "keep_prob",
        meaning,
        values,
        _probability,
        expected,
        decreasing=True,
        **how,
    )


#: The techniques, by the name ``sweep(penalty=...)`` and ``sweep --penalty`` take.
TECHNIQUES: dict[str, Technique] = {
    technique.name: technique
    for technique in [
        _strength_technique(
            "l2",
            "L2 penalty λ/(2m)·ΣW²",
            log_grid(-1, 1.5),
            fit_keywords=_penalty("l2"),
            l2_part=True,
        ),
        _strength_technique(
            "l1",
            "L1 penalty λ/m·Σ|W|",
            log_grid(-2, 1),
            fit_keywords=_penalty("l1"),
        ),
        _strength_technique(
            "elastic",
            "elastic net, λ for both parts",
            log_grid(-2, 1),
            fit_keywords=_penalty("elastic"),
            l2_part=True,
        ),
        _keep_prob_technique(
            "dropout",
            "inverted dropout after each hidden layer",
            model_keywords=lambda value: {"keep_prob": value},
        ),
        _strength_technique(
            "orthogonality",
            "orthogonality penalty λ·Σ‖W Wᵀ − I‖²_F (the smaller Gram matrix of each W)",
            ORTHOGONALITY_GRID,
            fit_keywords=_penalty("orthogonality"),
        ),
        Technique(
            "spectral_norm",
            "max_norm",
            "c",
            "spectral-norm constraint: each W scaled down to largest singular value c after a step",
            SPECTRAL_GRID,
            _bound,
            "bounds c > 0",
            fit_keywords=lambda value, model, m: {"spectral_norm": value},
            decreasing=True,
        ),
        _strength_technique(
            "group_lasso",
            "group lasso λ/m·Σ √p·‖W[j]‖ on each unit's weights, by its proximal step",
            log_grid(-1, 1),
            fit_keywords=_group_lasso,
        ),
        _gradient_technique("input", "double backprop λ·mean ‖∂ℓ/∂x‖² of each example's loss"),
        _gradient_technique(
            "jacobian", "Jacobian penalty λ·mean ‖∂f/∂x‖_F² of each example's logits"
        ),
        Technique(
            "label_smoothing",
            "label_smoothing",
            "ε",
            "label smoothing: targets y·(1 − ε) + ε/2 (ε/K for K classes)",
            (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
            _fraction,
            "ε values in [0, 1]",
            fit_keywords=_smoothed_loss,
        ),
        _noise_technique("input_noise", "the inputs", NOISE_GRID, _input_noise),
        _noise_technique(
            "weight_noise",
            "every W",
            (0.0, 0.03, 0.1, 0.2, 0.3, 0.5, 1.0),
            _swapped_linears(WeightNoiseLinear, "std", off=0),
        ),
        _keep_prob_technique(
            "dropconnect",
            "DropConnect: each weight of every layer kept with probability keep_prob",
            wrap=_swapped_linears(DropConnectLinear, "keep_prob", off=1),
        ),
    ]
}
#: The techniques' names, in the table's order.
PENALTIES = tuple(TECHNIQUES)
#: Each technique's default values.
DEFAULT_VALUES: dict[str, tuple[float, ...]] = {name: t.values for name, t in TECHNIQUES.items()}


def technique(penalty: str) -> Technique:
    """The table's entry for ``penalty``; a ValueError naming the known ones otherwise."""
    if penalty not in TECHNIQUES:
        raise ValueError(f"sweep: unknown penalty {penalty!r}; expected one of {list(PENALTIES)}.")
    return TECHNIQUES[penalty]

"""Tools to property-test your own code: hypothesis strategies and the course's gradient check.

Needs the ``test`` extra (``pip install "tinygrad_reg[test]"``).

Strategies (all built from ``hypothesis.extra.numpy``):

- ``tensors``, ``broadcastable_shapes``, ``broadcastable_tensors``, ``axes``: inputs for ops.
- ``nonzero_floats``, ``positive_floats``: elements kept away from kinks (relu, abs and sign at
  0) and singularities (log, 1/x at 0) by construction, so finite differences are valid.
- ``networks``: a random course network with data, λ and penalty, kink-free by construction;
  binary (one sigmoid output) or, with ``multiclass=True``, a softmax network over C classes.

``tinygrad_reg.testing`` also gives the course's gradient check (``gradient_check_n``, ...)
from ``gradcheck.py``, which needs numpy only.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import numpy as np

try:
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp
except ImportError as error:  # pragma: no cover - exercised by a test that hides hypothesis
    raise ImportError(
        "tinygrad_reg.testing needs hypothesis, which comes with the test extra: "
        'pip install "tinygrad_reg[test]"'
    ) from error

from ..tensor import Tensor
from .reference import PENALTIES, layer_dims_of

Strategy = st.SearchStrategy

# ---------------------------------------------------------------------------------------------
# Elements
# ---------------------------------------------------------------------------------------------


def nonzero_floats(
    min_magnitude: float = 0.1, max_magnitude: float = 2.0, *, width: Literal[16, 32, 64] = 64
) -> Strategy[float]:
    """Floats with |x| in [min_magnitude, max_magnitude] and either sign: never near the kink
    at 0 of relu, abs and sign, so a finite-difference step of 1e-6 cannot cross it."""
    magnitude = st.floats(min_magnitude, max_magnitude, width=width)
    return magnitude | magnitude.map(lambda x: -x)


def positive_floats(
    min_value: float = 0.1, max_value: float = 2.0, *, width: Literal[16, 32, 64] = 64
) -> Strategy[float]:
    """Floats in [min_value, max_value]: away from the singularity of log, 1/x and √x at 0."""
    return st.floats(min_value, max_value, width=width)


# ---------------------------------------------------------------------------------------------
# Tensors, shapes and axes
# ---------------------------------------------------------------------------------------------


def _elements(dtype: Any, elements: Strategy[float] | None) -> Strategy[float]:
    if elements is not None:
        return elements
    width = {2: 16, 4: 32}.get(np.dtype(dtype).itemsize, 64)
    return st.floats(-10, 10, width=width)  # type: ignore[arg-type]


def tensors(
    shape: tuple[int, ...] | Strategy[tuple[int, ...]] | None = None,
    *,
    dtype: Any = np.float64,
    elements: Strategy[float] | None = None,
    requires_grad: bool = False,
    unique: bool = False,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = 4,
) -> Strategy[Tensor]:
    """Tensors of ``shape`` (a tuple or a strategy; default any shape within the limits) with
    ``elements`` (default floats in [-10, 10]). ``unique=True`` avoids exact ties only:
    near-ties (gaps below the finite-difference step) still break a max/min gradient check,
    so for those draw from a grid, e.g.
    ``elements=st.integers(-50, 50).map(lambda k: k / 10)`` with ``unique=True``."""
    if shape is None:
        shape = hnp.array_shapes(
            min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
        )
    arrays = hnp.arrays(dtype, shape, elements=_elements(dtype, elements), unique=unique)
    return arrays.map(lambda a: Tensor(a, requires_grad=requires_grad))


def broadcastable_shapes(
    num_shapes: int = 2, *, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> Strategy[tuple[tuple[int, ...], ...]]:
    """``num_shapes`` shapes that broadcast together (numpy's rules)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side
    ).map(lambda shapes: shapes.input_shapes)


@st.composite
def broadcastable_tensors(
    draw: Any,
    num_tensors: int = 2,
    *,
    dtype: Any = np.float64,
    elements: Strategy[float] | None = None,
    requires_grad: bool = False,
    max_dims: int = 3,
    max_side: int = 4,
) -> tuple[Tensor, ...]:
    """``num_tensors`` tensors whose shapes broadcast together."""
    shapes = draw(broadcastable_shapes(num_tensors, max_dims=max_dims, max_side=max_side))
    return tuple(
        draw(tensors(shape, dtype=dtype, elements=elements, requires_grad=requires_grad))
        for shape in shapes
    )


def axes(ndim: int) -> Strategy[int | tuple[int, ...] | None]:
    """A valid ``axis`` for a reduction over ``ndim`` dimensions: None, one int (maybe negative)
    or a tuple of distinct ints."""
    one_axis = st.integers(-ndim, ndim - 1) if ndim else st.nothing()
    return st.none() | one_axis | hnp.valid_tuple_axes(ndim)


# ---------------------------------------------------------------------------------------------
# Networks
# ---------------------------------------------------------------------------------------------


class Network(NamedTuple):
    """A drawn course network and its data. Dropout masks come from RandomState(``seed``)."""

    parameters: dict[str, np.ndarray]
    X: np.ndarray
    Y: np.ndarray
    lambd: float
    penalty: str
    keep_prob: float
    seed: int

    @property
    def layer_dims(self) -> list[int]:
        return layer_dims_of(self.parameters)


def _bias_away_from_zero(WA: np.ndarray, b: np.ndarray, margin: float) -> np.ndarray:
    """b moved as little as possible so that every pre-activation WA + b is at least ``margin``
    away from 0. Candidates: b itself and, for each example, the two points 1.5·margin either
    side of where that example's pre-activation is 0; the nearest one that clears all is kept
    (one always does: the largest)."""
    b = b.copy()
    for i, row in enumerate(WA):
        candidates = np.concatenate(([b[i, 0]], -row - 1.5 * margin, -row + 1.5 * margin))
        clear = np.abs(row[None, :] + candidates[:, None]).min(axis=1) >= margin
        allowed = candidates[clear]
        b[i, 0] = allowed[np.argmin(np.abs(allowed - b[i, 0]))]
    return b


def _kink_free_network(
    dims: list[int],
    m: int,
    keep_prob: float,
    data_seed: int,
    mask_seed: int,
    margin: float,
    max_logit: float,
) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """Parameters, X and Y from RandomState(data_seed); see ``networks`` for the construction.
    The forward pass follows forward_propagation_with_dropout with RandomState(mask_seed)."""
    rng = np.random.RandomState(data_seed)
    masks = np.random.RandomState(mask_seed)
    X = rng.randn(dims[0], m)
    C = dims[-1]
    # 0/1 labels (1, m), or one-hot columns (C, m) of random classes
    Y = (rng.rand(1, m) < 0.5).astype(np.float64) if C == 1 else np.eye(C)[rng.randint(0, C, m)].T
    parameters: dict[str, np.ndarray] = {}
    A = X
    L = len(dims) - 1
    for l in range(1, L + 1):
        W = rng.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        W = np.where(W >= 0, 1.0, -1.0) * (np.abs(W) + margin)  # |W| >= margin
        b = 0.1 * rng.randn(dims[l], 1)
        if l < L:
            b = _bias_away_from_zero(W @ A, b, margin)
            A = np.maximum(W @ A + b, 0)
            A = A * (masks.rand(*A.shape) < keep_prob) / keep_prob
        else:
            Z = W @ A + b
            # The spread that matters: |z| against sigmoid's fixed 0, or the largest gap
            # between the logits of one example for softmax.
            largest = np.abs(Z).max() if C == 1 else (Z.max(axis=0) - Z.min(axis=0)).max()
            if largest > max_logit:  # Z_L scales with W_L and b_L
                W, b = W * (max_logit / largest), b * (max_logit / largest)
        parameters[f"W{l}"], parameters[f"b{l}"] = W, b
    return parameters, X, Y


@st.composite
def networks(
    draw: Any,
    *,
    min_depth: int = 1,
    max_depth: int = 4,
    max_width: int = 30,
    max_examples: int = 64,
    max_lambd: float = 5.0,
    penalties: tuple[str, ...] = PENALTIES,
    dropout: bool = False,
    margin: float = 0.05,
    max_logit: float = 8.0,
    multiclass: bool = False,
    max_classes: int = 5,
) -> Network:
    """A course network (LINEAR→RELU × (depth-1), LINEAR→SIGMOID) with data, λ and penalty;
    with ``multiclass``, LINEAR→SOFTMAX over C classes, C in [2, max_classes].

    Hypothesis draws the depth (number of layers L), the widths n_0..n_{L-1} (n_L = 1, or C), the
    number of examples m, λ in [0, max_lambd], the penalty, keep_prob in (0.3, 1] when
    ``dropout`` (else 1) and two seeds; the arrays come from numpy's RandomState (fast for
    thousands of elements; a failure is reproduced by its seeds and shrinks by its sizes):
    X ~ N(0, 1), Y random 0/1 (or one-hot columns (C, m) of random classes), W_l ~ N(0, 1/n_{l-1}),
    b_l ~ N(0, 0.01).

    Kink-free by construction: every weight is pushed ``margin`` further from 0 (|W| >= margin:
    L1's sign(W) is smooth there), and each hidden bias is moved as little as possible so that
    no hidden pre-activation Z_l is within ``margin`` of 0 (relu is smooth there) — for the
    forward pass with the dropout masks of RandomState(``seed``) when ``dropout``.

    Well-conditioned by construction: if some logit |Z_L| exceeds ``max_logit``, W_L and b_L are
    scaled down (signs kept, so |W_L| >= margin·max_logit/max|Z_L| > 0) to bring it to
    ``max_logit``. Beyond |z| ≈ 10 the course's cost formula loses digits (σ(z) rounds near 1,
    and log(1 - σ) magnifies that by e^|z|), so a comparison with it would test its rounding.
    For softmax the same holds for the gap between one example's largest and smallest logit
    (log(a) of an a that rounds near 1), so that gap is what is brought to ``max_logit``.
    """
    depth = draw(st.integers(min_depth, max_depth))
    classes = draw(st.integers(2, max_classes)) if multiclass else 1
    dims = [*draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth)), classes]
    m = draw(st.integers(1, max_examples))
    lambd = draw(st.floats(0.0, max_lambd, allow_subnormal=False))
    kind = draw(st.sampled_from(penalties))
    keep_prob = draw(st.floats(0.3, 1.0, exclude_min=True)) if dropout else 1.0
    data_seed, mask_seed = draw(st.integers(0, 2**32 - 1)), draw(st.integers(0, 2**32 - 1))
    parameters, X, Y = _kink_free_network(
        dims, m, keep_prob, data_seed, mask_seed, margin, max_logit
    )
    return Network(parameters, X, Y, lambd, kind, keep_prob, mask_seed)

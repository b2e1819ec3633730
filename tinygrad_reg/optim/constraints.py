"""Keeping sizes in bounds: gradient clipping by global norm, and the max-norm and
spectral-norm constraints on weights.

- ``clip_grad_norm(params, max_norm)``: the gradients of all parameters, seen as one long
  vector g, are scaled so that ‖g‖₂ ≤ max_norm (PyTorch's ``clip_grad_norm_`` with
  norm_type 2)::

      total = √(Σ_p Σ g_p²)                   (over every parameter that has a gradient)
      g_p ← g_p · min(1, max_norm / (total + 1e-6))

  The direction of the step is kept, only its length is capped; it returns ``total``, the
  norm before clipping (worth logging: a spike says the step would have been huge). The
  1e-6 keeps the division finite when every gradient is 0, as PyTorch's does.

- ``apply_max_norm(weights, max_norm)``: a constraint on the weights themselves, used after
  each optimizer step (``fit(..., max_norm=c)``). In the course layout a weight matrix W is
  (n_out, n_in): row j holds the weights coming *into* unit j. Each row whose norm exceeds c
  is scaled back onto the sphere of radius c::

      W[j] ← W[j] · min(1, c / ‖W[j]‖₂)        for each row j (each output unit)

  This is the max-norm regularization of Srebro et al. and of the dropout paper: it bounds
  how strongly any one unit can respond to its inputs, whatever the learning rate. The norm
  is computed as s·‖W[j]/s‖ with s = max|W[j]| (no overflow for rows of norm 1e200); a row
  holding NaN or inf has no length and is refused (``FloatingPointError`` naming it).

- ``apply_spectral_norm(weights, max_norm)``: the same kind of constraint on the whole matrix,
  through its largest singular value σ_max(W) = max ‖Wx‖/‖x‖ (the most W can stretch any
  input, its Lipschitz constant)::

      W ← W · min(1, c / σ_max(W))

  A network of such layers with 1-Lipschitz activations (ReLU, tanh) has a Lipschitz constant
  at most c^L, a bound max-norm's rows do not give. The direction of W (the ratios of its
  entries) is kept. A convolution's (out, in, kh, kw) weight is taken as (out, in·kh·kw), as
  in PyTorch's ``spectral_norm`` (which instead always divides by σ_max, a reparametrization
  rather than a constraint). σ_max comes from numpy's SVD (``np.linalg.svd``, singular
  values only): O(out·in·min(out, in)) per matrix, small beside a training step for layers
  of a few hundred units, and exact where power iteration (O(out·in) per iteration) gives an
  estimate from below that needs several iterations, or a vector kept between steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..nn.modules import Module
from ..nn.regularizers import named_weights
from ..tensor import Tensor
from .optimizer import parameter_list

#: Added to the total norm before dividing, so all-zero gradients do not divide by 0.
CLIP_EPS = 1e-6


def check_max_norm(max_norm: Any, where: str) -> float:
    if isinstance(max_norm, bool) or not isinstance(
        max_norm, (int, float, np.integer, np.floating)
    ):
        raise TypeError(f"{where}: max_norm is a {type(max_norm).__name__}; expected a number > 0.")
    value = float(max_norm)
    if not 0 < value < math.inf:
        raise ValueError(f"{where}: max_norm = {max_norm!r}; expected a finite number > 0.")
    return value


def clip_grad_norm(params: Any, max_norm: float) -> float:
    """Scale every ``.grad`` of ``params`` (a Module, a dict or a list of Tensors) by one
    factor so that their global 2-norm is at most ``max_norm``; return the norm before
    clipping. Parameters without a gradient are skipped. The gradients are replaced by new
    arrays (never written into)."""
    limit = check_max_norm(max_norm, "clip_grad_norm")
    tensors = [p for p in parameter_list(params, "clip_grad_norm") if p.grad is not None]
    total = math.sqrt(sum(float(np.vdot(p.grad, p.grad)) for p in tensors))
    if not math.isfinite(total):
        raise FloatingPointError(
            f"clip_grad_norm: the gradients' norm is {total}; some gradient holds NaN or inf, "
            "and scaling cannot repair it."
        )
    scale = min(1.0, limit / (total + CLIP_EPS))
    if scale < 1.0:
        for p in tensors:
            p.grad = p.grad * np.asarray(scale, dtype=p.grad.dtype)
    return total


def max_norm_rows(W: np.ndarray, max_norm: float, name: str = "W") -> np.ndarray:
    """W with each row scaled to 2-norm at most ``max_norm`` (rows within it unchanged); a
    1-D array is one row, and a row of a convolution's (out, in, kh, kw) weight is all of
    W[j], one output channel's kernels (W seen as (out, in·kh·kw)). ``name`` names W in the
    error for a row holding NaN or inf."""
    rows = _as_matrix(W, "max-norm")
    finite = np.isfinite(rows).all(axis=1)
    if not finite.all():
        bad = [int(j) for j in np.flatnonzero(~finite)]
        raise FloatingPointError(
            f"max-norm: {name} (shape {W.shape}) has NaN or inf in row(s) {bad[:10]}"
            f"{' ...' if len(bad) > 10 else ''}; a row's length is not defined there, and "
            "scaling cannot repair it (the training diverged: try a smaller learning rate)."
        )
    # ‖w‖ = s·‖w/s‖ with s = max|w_i|: w·w itself overflows for entries above ~1e154.
    largest = np.max(np.abs(rows), axis=1, keepdims=True)
    safe = np.where(largest > 0, largest, 1.0)
    norms = largest * np.sqrt(np.sum(np.square(rows / safe), axis=1, keepdims=True))
    too_long = norms > max_norm
    if not np.any(too_long):
        return W
    # W/‖W‖·c, dividing first: c/‖W‖ underflows to 0 for ‖W‖ above c·1e308.
    clipped = rows / np.where(too_long, norms, 1.0) * max_norm
    return np.where(too_long, clipped, rows).astype(W.dtype, copy=False).reshape(W.shape)


def _as_matrix(W: np.ndarray, where: str) -> np.ndarray:
    """W as the (out, everything else) matrix the constraints act on: a 1-D array is one row,
    a convolution's (out, in, kh, kw) weight is (out, in·kh·kw) (each output unit a row)."""
    if W.ndim == 0:
        raise ValueError(f"{where}: a scalar parameter has no rows; got shape {W.shape}.")
    return W.reshape(W.shape[0] if W.ndim > 1 else 1, -1)


def max_norm_targets(model: Any, where: str) -> list[tuple[str, Tensor]]:
    """The tensors a constraint applies to, with their names: the weights of a Module or a
    dict (``named_weights``, the penalties' default selection, so biases and norms are left
    alone), or exactly the Tensors of a list (named params[i])."""
    if isinstance(model, (Module, dict)):
        return named_weights(model)
    return [(f"params[{i}]", p) for i, p in enumerate(parameter_list(model, where))]


def apply_max_norm(model: Any, max_norm: float) -> None:
    """Clip each row (each output unit's incoming weights) of every weight matrix of ``model``
    to 2-norm ``max_norm``. Assigns new read-only arrays, as an optimizer step does."""
    _constrain(model, max_norm, "apply_max_norm", max_norm_rows)


def _constrain(model: Any, max_norm: Any, where: str, clip: Any) -> None:
    """Replace each weight W of ``model`` by ``clip(W, max_norm, name)``."""
    limit = check_max_norm(max_norm, where)
    targets = max_norm_targets(model, where)
    # All weights are checked before any is changed: a refused call leaves every one as it was.
    clipped = [clip(p.data, limit, name) for name, p in targets]
    for (_, p), new in zip(targets, clipped):
        if new is not p.data:
            new.setflags(write=False)
            p.data = new


def spectral_norm(W: np.ndarray, name: str = "W") -> float:
    """σ_max(W), the largest singular value; a convolution's weight as (out, in·kh·kw), a 1-D
    array as one row (σ_max = ‖W‖₂). Computed on W/s with s = max|W| (no overflow)."""
    matrix = _as_matrix(W, "spectral norm")
    if not np.isfinite(matrix).all():
        raise FloatingPointError(
            f"spectral norm: {name} (shape {W.shape}) has NaN or inf; its singular values are "
            "not defined (the training diverged: try a smaller learning rate)."
        )
    largest = float(np.max(np.abs(matrix), initial=0.0))
    if largest == 0:
        return 0.0
    return largest * float(np.linalg.svd(matrix / largest, compute_uv=False)[0])


def spectral_norm_clipped(W: np.ndarray, max_norm: float, name: str = "W") -> np.ndarray:
    """W·min(1, max_norm/σ_max(W)): W itself when σ_max(W) <= max_norm."""
    sigma = spectral_norm(W, name)
    if sigma <= max_norm:
        return W
    return (W / sigma * max_norm).astype(W.dtype, copy=False)  # dividing first, as max_norm_rows


def apply_spectral_norm(model: Any, max_norm: float) -> None:
    """Scale every weight of ``model`` whose largest singular value exceeds ``max_norm`` down
    to σ_max = ``max_norm`` (biases and norms left alone, as ``apply_max_norm``). Assigns new
    read-only arrays; a refused call (NaN or inf in some weight) changes nothing."""
    _constrain(model, max_norm, "apply_spectral_norm", spectral_norm_clipped)

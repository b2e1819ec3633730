"""Matrix products: ``a @ b`` with numpy's semantics, and the fused linear layer W @ X + b."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor


class MatMul(Function):
    """a @ b, as ``np.matmul``: 1-D operands are vectors, leading axes are batches"""

    save_inputs, save_out = True, False

    expects = "a.shape[-1] == b.shape[-2] (b.shape[0] for 1-D b) and broadcastable batch axes"

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs at least 1-D operands; use * for scalars")
        return a @ b

    def backward(self, g: Any, out: Any, a: Any, b: Any) -> tuple[Any, ...]:
        """d(a@b)/da = g @ bᵀ,  d(a@b)/db = aᵀ @ g  (ᵀ swaps the last two axes)"""
        need_a, need_b = self.needs_input_grad
        # numpy treats a 1-D b as a column (n, 1) and a 1-D a as a row (1, n), then drops that
        # axis from the result; put it back in g, use the matrix rule, drop it again.
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        if b_vector:
            b, g = b.reshape(-1, 1), g[..., None]
        if a_vector:
            a, g = a.reshape(1, -1), g[..., None, :]
        ga = g @ b.swapaxes(-1, -2) if need_a else None
        gb = a.swapaxes(-1, -2) @ g if need_b else None
        if a_vector and ga is not None:
            ga = ga[..., 0, :]
        if b_vector and gb is not None:
            gb = gb[..., 0]
        return ga, gb


class Linear(Function):
    """W @ X + b in one node (the course layout: X is (n_in, m), W (n_out, n_in), b (n_out, 1))"""

    save_inputs, save_out = True, False

    expects = "X (n_in, m), W (n_out, n_in), b (n_out, 1)"

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Checked, not left to broadcasting: a b of shape (n_out,) would broadcast silently.
        if x.ndim != 2 or w.ndim != 2 or b.shape != (w.shape[0], 1) or w.shape[1] != x.shape[0]:
            raise ValueError("the shapes do not fit together")
        return w @ x + b

    def backward(self, g: Any, out: Any, x: Any, w: Any, b: Any) -> tuple[Any, ...]:
        """dX = Wᵀ @ g,  dW = g @ Xᵀ,  db = g (summed over examples by unbroadcast)"""
        need_x, need_w, _ = self.needs_input_grad
        return (w.T @ g if need_x else None), (g @ x.T if need_w else None), g


def linear(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """W @ X + b as one graph node: one forward, one backward, no intermediate W @ X kept.

    Arguments that are not Tensors (numpy arrays, lists) are taken as constants."""
    if not (isinstance(x, Tensor) and isinstance(w, Tensor) and isinstance(b, Tensor)):
        x, w, b = (t if isinstance(t, Tensor) else Tensor(t) for t in (x, w, b))
    return Linear()(x, w, b)

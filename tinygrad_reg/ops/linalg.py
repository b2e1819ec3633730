"""Matrix products: ``a @ b`` with numpy's semantics, and the fused linear layer W @ X + b."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..engine import Function
from ..tensor import Tensor
from .helpers import broadcast_to, constant, is_axis, value
from .select import pair
from .shape import as_tensor, normalize_axes


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
            rows_are_examples = x.ndim == 2 and w.ndim == 2 and x.shape[1] == w.shape[1]
            hint = (
                f"; X looks like one row per example (m={x.shape[0]}, n_in={x.shape[1]}): pass "
                "X.T, one column per example"
                if rows_are_examples and x.shape[0] != w.shape[1]
                else ""
            )
            raise ValueError(f"the shapes do not fit together{hint}")
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


# --- einsum and the products built on it ------------------------------------------------------

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def explicit_subscripts(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """Each operand's subscripts and the output's, with '...' replaced by letters of their own
    and the output written out in implicit mode (numpy's rule: the letters used once, sorted,
    after the broadcast axes). 'ii,...j' for shapes (2, 2), (4, 3) gives ['ii', 'Aj'], 'Aj'."""
    text = subscripts.replace(" ", "")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    spare = [c for c in LETTERS if c not in text]
    broadcast = max(
        (len(shape) - len(term) + 3 for term, shape in zip(terms, shapes) if "..." in term),
        default=0,
    )
    broadcast_letters = "".join(spare[:broadcast])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            mine = len(shape) - len(term) + 3  # right-aligned, as broadcasting aligns shapes
            term = term.replace("...", broadcast_letters[broadcast - mine :])
        expanded.append(term)
    if arrow:
        output = output.replace("...", broadcast_letters)
    else:
        labels = "".join(terms).replace("...", "")
        output = broadcast_letters + "".join(sorted(c for c in set(labels) if labels.count(c) == 1))
    return expanded, output


def contract(subscripts: str, *operands: Any) -> Any:
    """np.einsum on arrays; the Einsum op (recording a graph) if any operand is a Tensor."""
    if any(isinstance(x, Tensor) for x in operands):
        return Einsum(subscripts)(*(as_tensor(x) for x in operands))
    return np.einsum(subscripts, *operands, optimize=worth_optimizing(operands))


def worth_optimizing(operands: Sequence[np.ndarray]) -> bool:
    """Let numpy plan the contraction (pairwise products, BLAS) for three or more operands
    (else a chain like 'ij,jk,kl' is one nested loop over all four letters) or big ones
    (2.3x faster for 256 x 256 'ij,jk'); for small pairs planning costs more (about 9 µs)
    than it saves."""
    return len(operands) > 2 or max(np.size(x) for x in operands) > 4096


class Einsum(Function):
    """Σ over the letters missing from the output of the product of the operands, as
    ``np.einsum(subscripts, *operands)``"""

    __slots__ = ("output", "shapes", "subscripts", "terms")
    expects = "subscripts with one term per operand, one letter per axis, equal sizes per letter"
    save_inputs, save_out = True, False

    def __init__(self, subscripts: str):
        if not isinstance(subscripts, str):
            raise TypeError(
                f"einsum: subscripts={subscripts!r}; expected a string such as 'ij,jk->ik'."
            )
        self.subscripts = subscripts

    def forward(self, *operands: np.ndarray) -> np.ndarray:
        out = np.einsum(self.subscripts, *operands, optimize=worth_optimizing(operands))
        self.shapes = [x.shape for x in operands]
        self.terms, self.output = explicit_subscripts(self.subscripts, self.shapes)
        return out

    def backward(self, g: Any, out: Any, *operands: Any) -> tuple[Any, ...]:
        """d einsum/d xₖ = einsum of g with the other operands, written to xₖ's letters: a
        letter repeated in xₖ ('ii') goes through an identity matrix, a letter only xₖ has
        (summed out) is copied along by broadcasting"""
        return tuple(
            self.operand_gradient(k, g, operands) if needed else None
            for k, needed in enumerate(self.needs_input_grad)
        )

    def operand_gradient(self, k: int, g: Any, operands: tuple[Any, ...]) -> Any:
        term, shape = self.terms[k], self.shapes[k]
        spare = iter(c for c in LETTERS if c not in "".join(self.terms) + self.output)
        terms = [self.output] + [t for i, t in enumerate(self.terms) if i != k]
        others = [g] + [x for i, x in enumerate(operands) if i != k]
        # The gradient's letters must be distinct: the 2nd 'i' of 'ii' becomes a new letter A,
        # tied to i by an identity matrix 'iA' (x_ii gets g_i, x_ij with i != j gets 0).
        wanted = ""
        for position, letter in enumerate(term):
            if letter in wanted:
                fresh = next(spare)
                identity = np.eye(shape[position], dtype=value(g).dtype)
                terms.append(letter + fresh)
                others.append(constant(identity, like=g))
                letter = fresh
            wanted += letter
        available = set("".join(terms))
        found = "".join(c for c in wanted if c in available)
        gradient = contract(",".join(terms) + "->" + found, *others)
        # Letters only xₖ has were summed out, and a size-1 axis of another operand may have
        # been stretched to xₖ's size: along those, every element gets the same gradient.
        kept = tuple(gradient.shape[found.index(c)] if c in available else 1 for c in wanted)
        full = tuple(n if size == 1 else size for size, n in zip(kept, shape))
        if full == gradient.shape:
            return gradient
        return broadcast_to(gradient.reshape(kept), full)


def einsum(subscripts: Any, *operands: Any) -> Tensor:
    """Einstein summation with ``np.einsum``'s subscripts: explicit ('ij,jk->ik'), implicit
    ('ij,jk'), repeated letters ('ii->i', 'ii'), and '...' for broadcast axes. numpy's other
    form, operands each followed by a list of axis numbers (0-51, or Ellipsis) and maybe an
    output list at the end, works too.

        >>> einsum("ij,j->i", A, x)   # A @ x
        >>> einsum(A, [0, 1], x, [1], [0])   # the same
    """
    if not isinstance(subscripts, str):
        subscripts, operands = from_sublists((subscripts, *operands))
    if not operands:
        raise ValueError("einsum: no operands; expected one per term of the subscripts.")
    return Einsum(subscripts)(*(as_tensor(x) for x in operands))


def from_sublists(arguments: tuple[Any, ...]) -> tuple[str, tuple[Any, ...]]:
    """('ij,j->i', (A, x)) from (A, [0, 1], x, [1], [0]), numpy's numbering: 0-25 are a-z,
    26-51 are A-Z."""

    def letters(sublist: Any) -> str:
        if not isinstance(sublist, (list, tuple)) or not all(
            item is Ellipsis or (is_axis(item) and 0 <= item < len(LETTERS)) for item in sublist
        ):
            found = repr(sublist) if isinstance(sublist, (list, tuple)) else type(sublist).__name__
            raise TypeError(
                f"einsum: {found} is neither a subscripts string nor a list of axis numbers; "
                f"expected einsum('ij,jk->ik', a, b) or einsum(a, [0, 1], b, [1, 2], [0, 2]) "
                f"with numbers in [0, {len(LETTERS)}) and Ellipsis."
            )
        return "".join("..." if item is Ellipsis else LETTERS[item] for item in sublist)

    has_output = len(arguments) % 2 == 1
    pairs = arguments[:-1] if has_output else arguments
    operands, sublists = pairs[0::2], pairs[1::2]
    subscripts = ",".join(letters(sublist) for sublist in sublists)
    if has_output:
        subscripts += "->" + letters(arguments[-1])
    return subscripts, operands


def tensordot(a: Any, b: Any, axes: int | Sequence[Any] = 2) -> Tensor:
    """Sum of products over the ``axes`` of ``a`` and ``b``, as ``np.tensordot``: an int n
    pairs the last n axes of a with the first n of b; (axes_a, axes_b) pairs them one by one.
    The free axes of a come first in the result, then those of b. (An einsum.)"""
    a, b = pair(a, b)
    if is_axis(axes):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ValueError(
                f"tensordot: axes={axes} for shapes {a.shape} and {b.shape}; expected "
                f"0 <= axes <= {min(a.ndim, b.ndim)}."
            )
        axes_a, axes_b = list(range(a.ndim - axes, a.ndim)), list(range(axes))
    else:
        try:
            axes_a, axes_b = ([i] if is_axis(i) else list(i) for i in axes)
        except (TypeError, ValueError):
            raise TypeError(
                f"tensordot: axes={axes!r}; expected an int or a pair of axis lists."
            ) from None
    axes_a = list(normalize_axes(axes_a, a.ndim, "tensordot", a.shape))
    axes_b = list(normalize_axes(axes_b, b.ndim, "tensordot", b.shape))
    if len(axes_a) != len(axes_b) or any(a.shape[i] != b.shape[j] for i, j in zip(axes_a, axes_b)):
        raise ValueError(
            f"tensordot: axes {axes_a} of shape {a.shape} and {axes_b} of shape {b.shape} do "
            "not pair up; expected as many axes on each side, with equal sizes."
        )
    if a.ndim + b.ndim - len(axes_a) > len(LETTERS):
        raise ValueError(f"tensordot: shapes {a.shape} and {b.shape} have too many axes.")
    letters_a = LETTERS[: a.ndim]
    fresh = iter(LETTERS[a.ndim :])
    letters_b = "".join(
        letters_a[axes_a[axes_b.index(j)]] if j in axes_b else next(fresh) for j in range(b.ndim)
    )
    free_a = "".join(c for i, c in enumerate(letters_a) if i not in axes_a)
    free_b = "".join(c for j, c in enumerate(letters_b) if j not in axes_b)
    return Einsum(f"{letters_a},{letters_b}->{free_a}{free_b}")(a, b)


def outer(a: Any, b: Any) -> Tensor:
    """out[i, j] = a[i] * b[j] for the flattened a and b, as ``np.outer``."""
    a, b = pair(a, b)
    return Einsum("i,j->ij")(a.reshape(-1), b.reshape(-1))


def dot(a: Any, b: Any) -> Tensor:
    """``np.dot``: a * b if either is 0-d, else the sum over the last axis of a and the
    second-to-last of b (the only one, if b is 1-D)."""
    a, b = pair(a, b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    contracted = max(b.ndim - 2, 0)
    if a.shape[-1] != b.shape[contracted]:
        raise ValueError(
            f"dot: shapes {a.shape} and {b.shape} are not aligned; expected the last axis of a "
            f"to have the size of b's {'second-to-last' if contracted else 'first'} axis."
        )
    return tensordot(a, b, axes=([a.ndim - 1], [contracted]))


def matmul(a: Any, b: Any) -> Tensor:
    """``a @ b`` (``np.matmul``)."""
    return MatMul()(*pair(a, b))

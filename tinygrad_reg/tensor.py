"""The Tensor: a read-only numpy array, plus what autodiff needs to know about it.

A Tensor made by an op remembers that op in ``grad_fn``; following ``grad_fn.parents`` from an
output walks the graph back to the leaves (tensors made by the user). Every method that
computes something is a one-liner that calls an op from ``tinygrad_reg/ops``: that is where
each forward and its gradient rule live.

Safety rule: a Tensor's ``.data`` is a private, read-only array. ``Tensor(array)`` copies the
user's array (unless it is already read-only and owns its memory: then there is nothing to
protect, and it is shared without a copy), and writing into ``.data`` raises numpy's
"assignment destination is read-only" error, so nothing a graph has saved can change under
it (unless someone deliberately flips the array's writeable flag back: don't). Optimizers
update a parameter by
assigning a new array (``p.data = p.data - lr * p.grad``, which is copied into a new private
read-only array); graphs recorded earlier keep the old array, so their gradients stay correct.
"""

from __future__ import annotations

import contextlib
import operator
import sys
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .ops.numpy_protocol import NumpyProtocol
from .ops.tensor_methods import MoreTensorMethods

if TYPE_CHECKING:
    from .engine import Function

Scalar = int | float
ArrayLike = Any  # numbers, nested lists, numpy arrays


def as_float_array(data: ArrayLike, where: str = "Tensor") -> np.ndarray:
    """A private read-only copy of ``data``: float dtypes kept, bools and ints made float64.

    A float array that is already read-only and owns its memory is adopted without a copy:
    nobody can write to it, so sharing it is safe, and a constant such as the data matrix X
    is not copied on every step. (Make it read-only as soon as it is made:
    ``X.setflags(write=False)``; a writable view taken before would still alias it.)"""
    if isinstance(data, Tensor):
        return data._data
    if (
        type(data) is np.ndarray
        and not data.flags.writeable
        and data.base is None
        and data.dtype.kind == "f"
    ):
        return data
    recording = engine.hooks.recorder is not None and isinstance(data, np.ndarray)
    try:  # while compile records a step, the array's copy() method is recorded too
        array = data.copy(order="K") if recording else np.array(data)
    except ValueError as error:
        raise ValueError(f"{where}: cannot make an array from this data ({error}).") from None
    kind = array.dtype.kind
    if kind in "biu":
        array = array.astype(np.float64)
    elif kind == "O" and any(_too_large_for_float64(x) for x in array.flat):
        raise OverflowError(
            f"{where}: the data holds an integer too large for float64 (it needs about "
            f"{max(_bits(x) for x in array.flat)} bits; the largest float64 is about 2**1024)."
        )
    elif kind != "f":
        raise TypeError(
            f"{where}: unsupported dtype {array.dtype}; expected real numbers "
            "(float data keeps its dtype; bool and int data become float64)."
        )
    array.setflags(write=False)
    return array


class Tensor(MoreTensorMethods, NumpyProtocol):
    """An n-dimensional array that can record the ops applied to it and backpropagate.

    A backward pass leaves each leaf's gradient in ``.grad``:

        >>> w = Tensor([[1.0, 2.0]], requires_grad=True)
        >>> loss = (w * w).sum()
        >>> loss.backward()
        >>> w.grad
        array([[2., 4.]])
    """

    __slots__ = (
        "__weakref__",
        "_data",
        "_name",
        "grad",
        "grad_fn",
        "requires_grad",
    )

    grad: np.ndarray | None
    grad_fn: Function | None

    def __init__(self, data: ArrayLike, requires_grad: bool = False, name: str | None = None):
        self._data = as_float_array(data)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.grad_fn = None
        self._name = name

    @classmethod
    def _from_op(cls, data: np.ndarray, grad_fn: Function | None) -> Tensor:
        """Fast constructor for op results (``data`` is already a read-only float array)."""
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t.requires_grad = grad_fn is not None
        t.grad_fn = grad_fn
        t._name = None
        return t

    def _operand(self, other: Any) -> Tensor:
        """``other`` as a Tensor for a binary op with ``self``.

        Numbers and int/bool arrays take this tensor's dtype (so ``x32 * 2`` stays float32);
        float arrays keep theirs. Arrays are copied: the graph may save them.
        """
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.integer, np.floating, np.bool_)) or (
            isinstance(other, np.ndarray) and other.dtype.kind in "biu"
        ):
            try:  # astype for arrays: compile records it (an argmax of a traced array)
                array = (
                    other.astype(self._data.dtype)
                    if isinstance(other, np.ndarray)
                    else np.array(other, dtype=self._data.dtype)
                )
            except OverflowError:
                raise OverflowError(
                    f"Tensor operand: an integer of {_bits(other)} bits is too large for "
                    f"{self.dtype} (the largest float64 is about 2**1024)."
                ) from None
            array.setflags(write=False)
            return Tensor._from_op(array, None)
        return Tensor._from_op(as_float_array(other, "Tensor operand"), None)

    # --- attributes ----------------------------------------------------------------------

    @property
    def data(self) -> np.ndarray:
        """The values, as a read-only numpy array. While ``compile`` records a step: the array
        whose numpy calls its tape records, as an op would read it (a tensor no op has read
        yet still holds a plain array, whose values the tape would keep)."""
        recorder = engine.hooks.recorder
        return self._data if recorder is None else recorder.arrays_of((self,))[0]

    @data.setter
    def data(self, values: ArrayLike) -> None:
        """Replace the values (an optimizer step does). Graphs recorded before keep the old
        array, so their gradients stay those of the values they saw. A writable array is
        copied, so nobody can change the new values behind the tensor's back; a read-only one
        that owns its memory is adopted as it is: that is how an optimizer hands over the
        fresh array it computed."""
        if (
            type(values) is np.ndarray
            and not values.flags.writeable
            and values.base is None
            and values.dtype.kind == "f"
        ):
            self._data = values
        else:
            self._data = as_float_array(values, "Tensor.data")

    @property
    def name(self) -> str | None:
        """A label for traces and drawings (``explain_backward``, ``to_dot``)."""
        return self._name

    @name.setter
    def name(self, name: str | None) -> None:
        self._name = name
        if self.grad_fn is not None:  # the graph keeps nodes, not tensors: tell the node
            self.grad_fn.out_name = name

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def is_leaf(self) -> bool:
        """Made by the user rather than by an op."""
        return self.grad_fn is None

    @property
    def T(self) -> Tensor:
        """All axes reversed, as numpy's ``.T``."""
        return self.transpose()

    @property
    def mT(self) -> Tensor:
        """The last two axes swapped (a batch of matrices transposed)."""
        return self.swapaxes(-1, -2)

    def numpy(self) -> np.ndarray:
        """A writable copy of the data."""
        _reading_value(self, "numpy()")
        return self._data.copy()

    def item(self) -> float:
        """The value of a one-element tensor as a Python float."""
        if self.size != 1:
            raise ValueError(f"item: the tensor has shape {self.shape}; expected one element.")
        _reading_value(self, "item()")
        return self._data.item()

    def detach(self) -> Tensor:
        """The same values, cut from the graph (shares the read-only array, no copy)."""
        return Tensor._from_op(self._data, None)

    def retain_grad(self) -> Tensor:
        """Keep this non-leaf tensor's gradient in ``.grad`` after ``backward``."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad: this tensor does not require grad.")
        if self.grad_fn is not None:  # a leaf's .grad is kept anyway
            self.grad_fn.retained = weakref.ref(self)  # weak: the node must not keep it alive
        return self

    def backward(self, grad: ArrayLike | None = None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor, adding d(self)/d(leaf) into every leaf's ``.grad``.

        Gradients accumulate: call ``zero_grad`` (or set ``.grad = None``) between steps, as in
        PyTorch. A one-element tensor is seeded with 1; any other needs ``grad`` of its shape.
        The graph is freed afterwards; ``retain_graph=True`` keeps it for another backward.
        """
        engine.backward(self, grad, retain_graph)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", prefix="Tensor(")
        extras = ""
        if self.dtype != np.float64:
            extras += f", dtype={self.dtype}"
        if self.grad_fn is not None:
            extras += f", grad_fn={self.grad_fn!r}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        if self.name is not None:
            extras += f", name={self.name!r}"
        return f"Tensor({body}{extras})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    def __bool__(self) -> bool:
        _reading_value(self, "bool()")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        """``np.asarray(t)`` is the read-only data itself; ``np.array(t)`` a writable copy."""
        _reading_value(self, "np.asarray(tensor) or np.array(tensor)")
        if copy or dtype is not None:
            return self._data.astype(self.dtype if dtype is None else dtype)  # astype copies
        return self._data

    # --- Python protocols: comparisons, `in`, iteration, in-place arithmetic -------------
    # Comparisons compare values element by element, as numpy and PyTorch do, and return numpy
    # bool arrays (no gradient: they are piecewise constant), usable as masks. A Tensor still
    # hashes by identity, so it can be a dict key or set member; nothing in this package
    # compares tensors with == (they are told apart with ``is`` or ``id``).
    __hash__ = object.__hash__

    def __eq__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return _compare("==", self, other)

    def __ne__(self, other: Any) -> np.ndarray:  # type: ignore[override]
        return _compare("!=", self, other)

    def __lt__(self, other: Any) -> np.ndarray:
        return _compare("<", self, other)

    def __le__(self, other: Any) -> np.ndarray:
        return _compare("<=", self, other)

    def __gt__(self, other: Any) -> np.ndarray:
        return _compare(">", self, other)

    def __ge__(self, other: Any) -> np.ndarray:
        return _compare(">=", self, other)

    def __contains__(self, value: Any) -> bool:
        """``v in t``: some element equals ``v`` (as numpy: ``(t == v).any()``)."""
        return bool(_compare("in", self, value).any())

    def __iter__(self) -> Iterator[Tensor]:
        """The rows ``t[0], t[1], ...``, each a Tensor that keeps the graph (differentiable)."""
        if self.ndim == 0:
            raise TypeError(
                "iteration over a 0-d tensor: it has no rows; use t.item() for its value."
            )
        return (self[i] for i in range(self.shape[0]))

    # ``t += x`` (and -= *= /= **= @=): on a tensor computed by an op, t is rebound to the new
    # tensor t + x, recorded as usual (PyTorch's values and gradients; other names for the old
    # t keep the old values). On a leaf, t's values change, keeping the same Tensor object, only
    # where that records nothing: t needs no gradient, or inside ``no_grad``. A leaf that
    # requires grad refuses (as PyTorch): rebinding would silently make a parameter stop being
    # the leaf that the optimizer updates and ``.grad`` belongs to.
    def __iadd__(self, other: Any) -> Tensor:
        return self._update_in_place("+=", other, Tensor.__add__)

    def __isub__(self, other: Any) -> Tensor:
        return self._update_in_place("-=", other, Tensor.__sub__)

    def __imul__(self, other: Any) -> Tensor:
        return self._update_in_place("*=", other, Tensor.__mul__)

    def __itruediv__(self, other: Any) -> Tensor:
        return self._update_in_place("/=", other, Tensor.__truediv__)

    def __ipow__(self, other: Any) -> Tensor:
        return self._update_in_place("**=", other, Tensor.__pow__)

    def __imatmul__(self, other: Any) -> Tensor:
        return self._update_in_place("@=", other, Tensor.__matmul__)

    def _update_in_place(
        self, symbol: str, other: Any, op: Callable[[Tensor, Any], Tensor]
    ) -> Tensor:
        plain = symbol[:-1]  # "+=" -> "+"
        leaf = self.grad_fn is None
        if leaf and engine.is_grad_enabled() and self.requires_grad:
            raise RuntimeError(
                f"{symbol} on a tensor that requires grad (shape {self.shape}) would replace it "
                "by a new tensor computed from it, which is no longer the leaf the optimizer "
                "and .grad refer to. To change a parameter's values, assign them: "
                f"p.data = p.data {plain} x, or update without recording: "
                f"with no_grad(): p {symbol} x. To compute a new tensor: y = p {plain} x."
            )
        if leaf and engine.is_grad_enabled() and isinstance(other, Tensor) and other.requires_grad:
            raise RuntimeError(
                f"t {symbol} x where x requires grad: the result depends on x, so it must be a "
                f"new tensor in the graph; write t = t {plain} x."
            )
        with engine.no_grad() if leaf else contextlib.nullcontext():
            new = op(self, other)
        if new.shape != self.shape:
            raise ValueError(
                f"{symbol}: the result has shape {new.shape} but the tensor has shape "
                f"{self.shape}; an in-place update keeps the shape (as numpy and PyTorch). For "
                f"a new tensor of the broadcast shape write t = t {plain} x."
            )
        if not leaf:  # the dtype is kept, as PyTorch's in-place ops keep it
            return new if new.dtype == self.dtype else new.astype(self.dtype)
        self.data = new._data.astype(self.dtype, copy=False)  # keeps the dtype, as numpy
        return self

    # --- arithmetic (ops/arithmetic.py, ops/linalg.py) -----------------------------------

    def __add__(self, other: Any) -> Tensor:
        return arithmetic.Add()(self, self._operand(other))

    def __radd__(self, other: Any) -> Tensor:
        return arithmetic.Add()(self._operand(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return arithmetic.Sub()(self, self._operand(other))

    def __rsub__(self, other: Any) -> Tensor:
        return arithmetic.Sub()(self._operand(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return arithmetic.Mul()(self, self._operand(other))

    def __rmul__(self, other: Any) -> Tensor:
        return arithmetic.Mul()(self._operand(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return arithmetic.Div()(self, self._operand(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return arithmetic.Div()(self._operand(other), self)

    def __pow__(self, other: Any) -> Tensor:
        return arithmetic.Pow()(self, self._operand(other))

    def __rpow__(self, other: Any) -> Tensor:
        return arithmetic.Pow()(self._operand(other), self)

    def __neg__(self) -> Tensor:
        return arithmetic.Neg()(self)

    def __matmul__(self, other: Any) -> Tensor:
        return linalg.MatMul()(self, self._operand(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return linalg.MatMul()(self._operand(other), self)

    # --- elementwise functions (ops/unary.py) --------------------------------------------

    def exp(self) -> Tensor:
        return unary.Exp()(self)

    def log(self) -> Tensor:
        return unary.Log()(self)

    def sqrt(self) -> Tensor:
        return unary.Sqrt()(self)

    def abs(self) -> Tensor:
        return unary.Abs()(self)

    __abs__ = abs

    def relu(self) -> Tensor:
        return unary.Relu()(self)

    def sigmoid(self) -> Tensor:
        return unary.Sigmoid()(self)

    def tanh(self) -> Tensor:
        return unary.Tanh()(self)

    def clip(self, lo: Scalar | None, hi: Scalar | None) -> Tensor:
        return unary.Clip(lo, hi)(self)

    # --- reductions (ops/reduce.py) ------------------------------------------------------

    def sum(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.Sum(axis, keepdims)(self)

    def mean(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.Mean(axis, keepdims)(self)

    def max(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.Max(axis, keepdims)(self)

    def min(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.Min(axis, keepdims)(self)

    # --- shape (ops/shape.py) ------------------------------------------------------------

    def reshape(self, *shape: Any) -> Tensor:
        """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``, as numpy."""
        return shape_ops.Reshape(shape[0] if len(shape) == 1 else shape)(self)

    def transpose(self, *axes: Any) -> Tensor:
        """``t.transpose()`` reverses the axes; ``t.transpose(1, 0, 2)`` permutes them."""
        if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], int)):
            axes = axes[0]
        return shape_ops.Transpose(axes or None)(self)

    def swapaxes(self, axis1: int, axis2: int) -> Tensor:
        for axis in (axis1, axis2):
            if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
                raise TypeError(
                    f"swapaxes: axis {axis!r} is a {type(axis).__name__}; expected an int."
                )
        if not (-self.ndim <= axis1 < self.ndim and -self.ndim <= axis2 < self.ndim):
            raise ValueError(
                f"swapaxes: axes {axis1} and {axis2} for a tensor of shape {self.shape}; "
                f"expected axes in [-{self.ndim}, {self.ndim})."
            )
        axes = list(range(self.ndim))
        axes[axis1], axes[axis2] = axes[axis2], axes[axis1]
        return self.transpose(axes)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        return shape_ops.BroadcastTo(tuple(shape))(self)

    def __getitem__(self, index: Any) -> Tensor:
        return shape_ops.GetItem(index)(self)

    # --- more elementwise functions (ops/unary.py) ---------------------------------------

    def log1p(self) -> Tensor:
        return unary.Log1p()(self)

    def expm1(self) -> Tensor:
        return unary.Expm1()(self)

    def log2(self) -> Tensor:
        return unary.Log2()(self)

    def log10(self) -> Tensor:
        return unary.Log10()(self)

    def sin(self) -> Tensor:
        return unary.Sin()(self)

    def cos(self) -> Tensor:
        return unary.Cos()(self)

    def tan(self) -> Tensor:
        return unary.Tan()(self)

    def sinh(self) -> Tensor:
        return unary.Sinh()(self)

    def cosh(self) -> Tensor:
        return unary.Cosh()(self)

    def square(self) -> Tensor:
        return unary.Square()(self)

    def erf(self) -> Tensor:
        return unary.Erf()(self)

    def sign(self) -> Tensor:
        """-1, 0 or 1; gradient 0."""
        return unary.Sign()(self)

    def floor(self) -> Tensor:
        """Gradient 0."""
        return unary.Floor()(self)

    def ceil(self) -> Tensor:
        """Gradient 0."""
        return unary.Ceil()(self)

    # --- more reductions (ops/reduce.py) -------------------------------------------------

    def prod(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.Prod(axis, keepdims)(self)

    def var(
        self, axis: int | Sequence[int] | None = None, ddof: int = 0, keepdims: bool = False
    ) -> Tensor:
        return reduce.Var(axis, ddof, keepdims)(self)

    def std(
        self, axis: int | Sequence[int] | None = None, ddof: int = 0, keepdims: bool = False
    ) -> Tensor:
        return reduce.Std(axis, ddof, keepdims)(self)

    def logsumexp(self, axis: int | Sequence[int] | None = None, keepdims: bool = False) -> Tensor:
        return reduce.LogSumExp(axis, keepdims)(self)

    def norm(
        self,
        ord: int | str = 2,
        axis: int | Sequence[int] | None = None,
        keepdims: bool = False,
    ) -> Tensor:
        """The vector norm over ``axis`` (all elements for None): 2 or "fro" √Σx², 1 Σ|x|."""
        return reduce.Norm(ord, axis, keepdims)(self)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """As ``np.cumsum``: axis=None runs over the flattened tensor."""
        return reduce.CumSum(axis)(self)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """Index of the largest element (the first on ties), as ``np.argmax``; no gradient."""
        return reduce.arg_extreme(np.argmax, self.data, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> np.ndarray:
        """Index of the smallest element (the first on ties), as ``np.argmin``; no gradient."""
        return reduce.arg_extreme(np.argmin, self.data, axis, keepdims)

    # --- more shape ops, products, conversions (ops/shape.py, ops/arrange.py, ops/linalg.py,
    # ops/cast.py; each method is the module function of the same name) --------------------

    def squeeze(self, axis: int | Sequence[int] | None = None) -> Tensor:
        return shape_ops.squeeze(self, axis)

    def unsqueeze(self, axis: int | Sequence[int]) -> Tensor:
        return shape_ops.unsqueeze(self, axis)

    expand_dims = unsqueeze

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape_ops.flatten(self, start_dim, end_dim)

    def expand(self, *sizes: Any) -> Tensor:
        return shape_ops.expand(self, *sizes)

    def moveaxis(self, source: int | Sequence[int], destination: int | Sequence[int]) -> Tensor:
        return shape_ops.moveaxis(self, source, destination)

    def split(self, indices_or_sections: int | Sequence[int], axis: int = 0) -> list[Tensor]:
        return shape_ops.split(self, indices_or_sections, axis)

    def chunk(self, chunks: int, axis: int = 0) -> list[Tensor]:
        return shape_ops.chunk(self, chunks, axis)

    def flip(self, axis: int | Sequence[int] | None = None) -> Tensor:
        return arrange.flip(self, axis)

    def roll(self, shift: int | Sequence[int], axis: int | Sequence[int] | None = None) -> Tensor:
        return arrange.roll(self, shift, axis)

    def tile(self, reps: int | Sequence[int]) -> Tensor:
        return arrange.tile(self, reps)

    def repeat(self, repeats: int | Sequence[int], axis: int | None = None) -> Tensor:
        return arrange.repeat(self, repeats, axis)

    def tril(self, k: int = 0) -> Tensor:
        return arrange.tril(self, k)

    def triu(self, k: int = 0) -> Tensor:
        return arrange.triu(self, k)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return arrange.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
        return arrange.trace(self, offset, axis1, axis2)

    def diag(self, k: int = 0) -> Tensor:
        return arrange.diag(self, k)

    def matmul(self, other: Any) -> Tensor:
        return self @ other

    def dot(self, other: Any) -> Tensor:
        return linalg.dot(self, self._operand(other))

    def outer(self, other: Any) -> Tensor:
        return linalg.outer(self, self._operand(other))

    def astype(self, dtype: Any) -> Tensor:
        """The values in another float dtype; differentiable (the gradient is cast back)."""
        return cast.AsType(dtype)(self)

    def tolist(self) -> Any:
        """The values as nested Python lists of floats (a float for a 0-d tensor)."""
        _reading_value(self, "tolist()")
        return self._data.tolist()

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Switch gradient tracking of a leaf on or off, in place; returns ``self``."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError(
                "requires_grad_: this tensor was made by an op, so it requires grad through "
                "its inputs; only a leaf's flag can be switched off. Use detach() instead."
            )
        self.requires_grad = bool(requires_grad)
        return self

    # --- softmax family (ops/softmax.py) -------------------------------------------------

    def softmax(self, axis: int = -1) -> Tensor:
        return softmax_ops.Softmax(axis)(self)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return softmax_ops.LogSoftmax(axis)(self)


def _value(x: Any) -> Any:
    if isinstance(x, Tensor):
        _reading_value(x, "a comparison")
        return x.data
    return x


def _reading_value(t: Tensor, what: str) -> None:
    """While ``compile`` traces a step, a value read into Python or numpy may steer what the
    step does next, which a replay cannot follow: the recorder raises a clear error."""
    if engine.hooks.recorder is not None:
        engine.hooks.recorder.value_read(t, what)


def _too_large_for_float64(x: Any) -> bool:
    return isinstance(x, int) and abs(x) > sys.float_info.max  # exact: int against float


def _bits(x: Any) -> int:
    return int(x).bit_length() if isinstance(x, (int, np.integer)) else 0


_COMPARISONS = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "in": operator.eq,
}


def _compare(symbol: str, t: Tensor, other: Any) -> np.ndarray:
    """``t <symbol> other`` on the values, element by element, as a numpy bool array."""
    _reading_value(t, symbol)
    try:
        return np.asarray(_COMPARISONS[symbol](t._data, _value(other)))
    except ValueError as error:
        other_shape = np.shape(_value(other))
        raise ValueError(
            f"Tensor {symbol}: cannot compare shape {t.shape} with shape {other_shape}; "
            f"expected shapes that broadcast together ({error})."
        ) from None


# The ops make Tensors and Tensor's methods call the ops: imported at the end, once Tensor exists.
from . import engine  # noqa: E402
from .ops import arithmetic, arrange, cast, linalg, reduce, unary  # noqa: E402

# The modules MoreTensorMethods' methods look up in ``ops`` (ops/tensor_methods.py).
from .ops import cumulative as cumulative_ops  # noqa: E402, F401
from .ops import index as index_ops  # noqa: E402, F401
from .ops import select as select_ops  # noqa: E402, F401
from .ops import shape as shape_ops  # noqa: E402
from .ops import softmax as softmax_ops  # noqa: E402
from .ops import sort as sort_ops  # noqa: E402, F401

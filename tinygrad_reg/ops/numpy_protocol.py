"""numpy functions on Tensors: ``np.exp(t)``, ``np.clip(t, -1, 1)``, ``np.sum(t, axis=0)`` record.

numpy hands every call that involves a Tensor to the Tensor, through two hooks: a *ufunc*
(``np.exp``, ``np.add``, and the operators of an ndarray: ``array + t`` is ``np.add(array, t)``)
goes to ``__array_ufunc__``; most other functions (``np.sum``, ``np.clip``, ``np.where``, ...)
go to ``__array_function__``. Both look the numpy function up in a table below and call the
tinygrad_reg op of the same meaning, so the result is a Tensor in the graph. That is also why
a gradient rule written with numpy functions (``g * np.exp(x)``) serves higher order: in a
backward pass that records itself its inputs are Tensors, and each numpy call records an op.

Never a plain array that silently left the graph: a numpy function with no recorded
counterpart, a ufunc method (``np.add.reduce``, ``.accumulate``, ``.outer``, ``.at``) and a
keyword the op cannot honour (``out=``, ``where=``, ``dtype=``, ``casting=``, ...) raise a
TypeError naming the numpy function and what is supported. Results that carry no gradient are
numpy arrays, as those of the comparisons ``t > 0`` are: ``np.isfinite``, ``np.argmax``,
``np.allclose``, ``np.shape``, ...

The engine's hot path never comes here: numpy consults these hooks only when a Tensor is among
the arguments, and the rules of an ordinary backward pass run on plain arrays.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import ops

if TYPE_CHECKING:
    from ..tensor import Tensor


class NumpyProtocol:
    """Tensor's two numpy hooks (Tensor inherits them; see the module docstring)."""

    __slots__ = ()

    def __array_ufunc__(
        self: Tensor, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any
    ) -> Any:
        name = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
        if method != "__call__":
            raise TypeError(
                f"{name} on a Tensor: ufunc methods (reduce, accumulate, reduceat, outer, at) "
                f"are not recorded; call np.{ufunc.__name__}(...) itself, or a reduction such "
                "as np.sum(t, axis=0) or t.sum(0)."
            )
        if kwargs:
            raise TypeError(unsupported_keywords(name, kwargs, "its operands, no keywords"))
        if ufunc in VALUE_UFUNCS:  # bool results: no gradient, a numpy array as t > 0 gives
            return on_values(name, ufunc, inputs, {})
        method_name = UFUNCS.get(ufunc)
        if method_name is None:
            raise TypeError(
                not_recorded(name, "ufuncs", sorted(f"np.{u.__name__}" for u in UFUNCS))
            )
        tensors = [self._operand(x) for x in inputs]  # numbers take the tensor's dtype
        return getattr(tensors[0], method_name)(*tensors[1:])

    def __array_function__(
        self: Tensor, func: Callable[..., Any], types: Any, args: Any, kwargs: Any
    ) -> Any:
        name = numpy_name(func)
        if func in SHAPE_FUNCTIONS:
            return func(*shapes_only(args), **kwargs)
        if func in VALUE_FUNCTIONS:
            return on_values(name, func, args, kwargs)
        op = FUNCTIONS.get(func)
        if op is None:
            raise TypeError(not_recorded(name, "functions", sorted(map(numpy_name, FUNCTIONS))))
        return call_with_numpy_arguments(name, func, op, args, kwargs)


# --- the tables: numpy's function -> the recorded op ------------------------------------------

#: ufunc -> the Tensor method that records it (called on the first operand, with the others).
UFUNCS: dict[np.ufunc, str] = {
    np.add: "__add__",
    np.subtract: "__sub__",
    np.multiply: "__mul__",
    np.true_divide: "__truediv__",
    np.power: "__pow__",
    np.matmul: "__matmul__",
    np.floor_divide: "__floordiv__",
    np.remainder: "__mod__",
    np.divmod: "__divmod__",
    np.negative: "__neg__",
    np.absolute: "abs",
    np.fabs: "abs",
    np.square: "square",
    np.sqrt: "sqrt",
    np.exp: "exp",
    np.expm1: "expm1",
    np.log: "log",
    np.log1p: "log1p",
    np.log2: "log2",
    np.log10: "log10",
    np.sin: "sin",
    np.cos: "cos",
    np.tan: "tan",
    np.arcsin: "asin",
    np.arccos: "acos",
    np.arctan: "atan",
    np.sinh: "sinh",
    np.cosh: "cosh",
    np.tanh: "tanh",
    np.arcsinh: "asinh",
    np.arccosh: "acosh",
    np.arctanh: "atanh",
    np.arctan2: "atan2",
    np.logaddexp: "logaddexp",
    np.maximum: "maximum",
    np.minimum: "minimum",
    np.sign: "sign",  # sign, floor, ceil, rint: gradient 0 (piecewise constant)
    np.floor: "floor",
    np.ceil: "ceil",
    np.rint: "round",
    np.equal: "__eq__",  # the comparisons: numpy bool arrays, as t == x gives
    np.not_equal: "__ne__",
    np.less: "__lt__",
    np.less_equal: "__le__",
    np.greater: "__gt__",
    np.greater_equal: "__ge__",
}

#: ufuncs whose results are booleans: computed on the values, no gradient.
VALUE_UFUNCS = {
    np.isfinite,
    np.isnan,
    np.isinf,
    np.signbit,
    np.logical_and,
    np.logical_or,
    np.logical_xor,
    np.logical_not,
}

#: functions that read only shapes.
SHAPE_FUNCTIONS = {np.shape, np.ndim, np.size}

#: functions whose results are indices, booleans or counts: computed on the values.
VALUE_FUNCTIONS = {
    np.allclose,
    np.isclose,
    np.array_equal,
    np.array_equiv,
    np.argmax,
    np.argmin,
    np.argsort,
    np.argwhere,
    np.nonzero,
    np.flatnonzero,
    np.count_nonzero,
    np.any,
    np.all,
    np.result_type,
}


def as_tensor(x: Any) -> Tensor:
    return ops.shape.as_tensor(x)


# Each function below takes the parameters of the numpy function it stands for, under numpy's
# names: the ones it can honour. ``call_with_numpy_arguments`` binds a call to numpy's own
# signature, so positional arguments land where numpy would put them, and refuses any other
# parameter given a value other than numpy's default.


def clip(a: Any, a_min: Any = None, a_max: Any = None, min: Any = None, max: Any = None) -> Tensor:
    return ops.select.clamp(a, min if a_min is None else a_min, max if a_max is None else a_max)


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:  # np.where(c): the indices where c holds, no gradient
        return np.nonzero(np.asarray(condition))
    if x is None or y is None:
        raise ValueError("np.where: give both x and y, or neither (np.where(condition, x, y)).")
    return ops.select.where(condition, x, y)


def reshape(a: Any, shape: Any) -> Tensor:
    return as_tensor(a).reshape(shape)


def ravel(a: Any) -> Tensor:
    return as_tensor(a).reshape(-1)


def transpose(a: Any, axes: Any = None) -> Tensor:
    return as_tensor(a).transpose(axes)


def squeeze(a: Any, axis: Any = None) -> Tensor:
    return ops.shape.squeeze(a, axis)


def expand_dims(a: Any, axis: Any) -> Tensor:
    return ops.shape.unsqueeze(a, axis)


def swapaxes(a: Any, axis1: int, axis2: int) -> Tensor:
    return ops.shape.swapaxes(a, axis1, axis2)


def moveaxis(a: Any, source: Any, destination: Any) -> Tensor:
    return ops.shape.moveaxis(a, source, destination)


def broadcast_to(array: Any, shape: Any) -> Tensor:
    return ops.shape.broadcast_to(array, shape)


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> list[Tensor]:
    return ops.shape.split(ary, indices_or_sections, axis)


def concatenate(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    return ops.shape.concatenate(arrays, axis)


def stack(arrays: Sequence[Any], axis: int = 0) -> Tensor:
    return ops.shape.stack(arrays, axis)


def hstack(tup: Sequence[Any]) -> Tensor:
    return ops.shape.hstack(tup)


def vstack(tup: Sequence[Any]) -> Tensor:
    return ops.shape.vstack(tup)


def flip(m: Any, axis: Any = None) -> Tensor:
    return ops.arrange.flip(m, axis)


def roll(a: Any, shift: Any, axis: Any = None) -> Tensor:
    return ops.arrange.roll(a, shift, axis)


def tile(A: Any, reps: Any) -> Tensor:
    return ops.arrange.tile(A, reps)


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Tensor:
    return ops.arrange.repeat(a, repeats, axis)


def tril(m: Any, k: int = 0) -> Tensor:
    return ops.arrange.tril(m, k)


def triu(m: Any, k: int = 0) -> Tensor:
    return ops.arrange.triu(m, k)


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return ops.arrange.diagonal(a, offset, axis1, axis2)


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Tensor:
    return ops.arrange.trace(a, offset, axis1, axis2)


def diag(v: Any, k: int = 0) -> Tensor:
    return ops.arrange.diag(v, k)


def reduction(method: str) -> Callable[..., Tensor]:
    """np.sum and its kin: (a, axis, keepdims) -> the Tensor method of that name."""

    def reduce(a: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
        return getattr(as_tensor(a), method)(axis, keepdims)

    return reduce


def spread(method: str) -> Callable[..., Tensor]:
    """np.var and np.std: (a, axis, ddof, keepdims) -> the Tensor method of that name."""

    def reduce(a: Any, axis: Any = None, ddof: int = 0, keepdims: bool = False) -> Tensor:
        return getattr(as_tensor(a), method)(axis, ddof, keepdims)

    return reduce


def cumsum(a: Any, axis: int | None = None) -> Tensor:
    return as_tensor(a).cumsum(axis)


def cumprod(a: Any, axis: int | None = None) -> Tensor:
    return ops.cumulative.cumprod(a, axis)


def round(a: Any, decimals: int = 0) -> Tensor:
    return as_tensor(a).round(decimals)


def dot(a: Any, b: Any) -> Tensor:
    return ops.linalg.dot(*ops.select.pair(a, b))


def outer(a: Any, b: Any) -> Tensor:
    return ops.linalg.outer(*ops.select.pair(a, b))


def tensordot(a: Any, b: Any, axes: Any = 2) -> Tensor:
    return ops.linalg.tensordot(a, b, axes)


def einsum(*operands: Any, optimize: Any = False) -> Tensor:
    # optimize only chooses the order of the contractions, which the op chooses itself.
    return ops.linalg.einsum(*operands)


FUNCTIONS: dict[Callable[..., Any], Callable[..., Any]] = {
    np.sum: reduction("sum"),
    np.mean: reduction("mean"),
    np.prod: reduction("prod"),
    np.max: reduction("max"),
    np.amax: reduction("max"),
    np.min: reduction("min"),
    np.amin: reduction("min"),
    np.var: spread("var"),
    np.std: spread("std"),
    np.cumsum: cumsum,
    np.cumprod: cumprod,
    np.clip: clip,
    np.where: where,
    np.round: round,
    np.around: round,
    np.reshape: reshape,
    np.ravel: ravel,
    np.transpose: transpose,
    np.squeeze: squeeze,
    np.expand_dims: expand_dims,
    np.swapaxes: swapaxes,
    np.moveaxis: moveaxis,
    np.broadcast_to: broadcast_to,
    np.split: split,
    np.concatenate: concatenate,
    np.stack: stack,
    np.hstack: hstack,
    np.vstack: vstack,
    np.flip: flip,
    np.roll: roll,
    np.tile: tile,
    np.repeat: repeat,
    np.tril: tril,
    np.triu: triu,
    np.diagonal: diagonal,
    np.trace: trace,
    np.diag: diag,
    np.dot: dot,
    np.outer: outer,
    np.tensordot: tensordot,
    np.einsum: einsum,
}


# --- calling them ---------------------------------------------------------------------------


@functools.cache
def signatures(
    func: Callable[..., Any], op: Callable[..., Any]
) -> tuple[inspect.Signature, tuple[str, ...]]:
    """numpy's signature of ``func``, and the parameters ``op`` honours (worked out once)."""
    return inspect.signature(func), tuple(inspect.signature(op).parameters)


def call_with_numpy_arguments(
    name: str, func: Callable[..., Any], op: Callable[..., Any], args: Any, kwargs: Any
) -> Any:
    """``op`` called with the arguments of ``func(*args, **kwargs)``, bound as numpy binds them."""
    numpy_signature, honoured = signatures(func, op)
    try:
        bound = numpy_signature.bind(*args, **kwargs)
    except TypeError as error:
        raise TypeError(f"{name}: {error}; its signature is {name}{numpy_signature}.") from None
    given, refused = {}, {}
    for parameter, value in bound.arguments.items():
        kind = numpy_signature.parameters[parameter].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            refused.update(value)
        elif parameter in honoured:
            given[parameter] = value
        elif not is_default(value, numpy_signature.parameters[parameter].default):
            refused[parameter] = value
    if refused:
        raise TypeError(unsupported_keywords(name, refused, ", ".join(honoured)))
    positional = given.pop("operands", ())  # np.einsum(*operands)
    return op(*positional, **given)


def is_default(value: Any, default: Any) -> bool:
    return value is default or (isinstance(value, str) and value == default)


def shapes_only(args: Any) -> list[Any]:
    """The arguments with each Tensor replaced by its array, read for its shape only."""
    return [x._data if isinstance(x, NumpyProtocol) else x for x in args]


def on_values(name: str, func: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """``func`` on the tensors' values: for results that carry no gradient (bools, indices)."""
    try:
        return func(*values(args), **values(kwargs))
    except (ValueError, TypeError) as error:
        shapes = ", ".join(str(np.shape(x)) for x in values(args))
        raise type(error)(
            f"{name}: cannot apply to arguments of shapes {shapes} ({error})"
        ) from None


def values(x: Any) -> Any:
    """``x`` with every Tensor (also in lists, tuples and dicts) replaced by its values."""
    if isinstance(x, NumpyProtocol):
        return np.asarray(x)  # as a comparison: compile refuses a value read while tracing
    if isinstance(x, (tuple, list)):
        return type(x)(values(v) for v in x)
    if isinstance(x, dict):
        return {k: values(v) for k, v in x.items()}
    return x


def numpy_name(func: Any) -> str:
    """np.sum, np.linalg.svd: as a user writes the function (numpy._core's part left out)."""
    module = getattr(func, "__module__", None) or "numpy"
    public = [part for part in module.split(".")[1:] if not part.startswith("_")]
    return ".".join(["np", *public, func.__name__])


def unsupported_keywords(name: str, refused: dict[str, Any], supported: str) -> str:
    keywords = ", ".join(f"{k}=" for k in refused)
    why = (
        " A Tensor's op makes a new Tensor: it cannot write into an array (this is what "
        "`array += tensor` asks for: write `array = array + tensor`, a Tensor, or "
        "`array += tensor.numpy()` for values outside the graph)."
        if "out" in refused
        else ""
    )
    return (
        f"{name} on a Tensor: {keywords} is not supported (the recorded op cannot honour "
        f"it).{why} On Tensors it takes: {supported}."
    )


def not_recorded(name: str, kind: str, supported: list[str]) -> str:
    return (
        f"{name} on a Tensor: tinygrad_reg has no recorded op for it, and its result would "
        "leave the graph (no gradient). Call it on the values if that is what you want: "
        f"{name}(t.numpy()). The numpy {kind} that record on Tensors: {', '.join(supported)}."
    )

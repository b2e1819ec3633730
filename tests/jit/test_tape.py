"""The tape (tape.py) behind compile: a replay on new values equals eager on them, bit for bit.

The risk of recording numpy calls through numpy's hooks is an *escape*: library code whose
numpy work does not reach the hooks (``np.asarray`` or ``Tensor(...)`` on a traced array,
iteration, a ``type(x) is np.ndarray`` check that routes to a copy) has its recorded VALUE
frozen into the tape, and a replay silently reuses those stale numbers. So every
differentiable op is run in a compiled function that is recorded on one set of values and
replayed on others (new argument arrays and new parameter values, ``p.data = ...``), and
each call is compared with the eager computation on the same values: the output and every
``.grad`` must be equal to the last bit (``np.array_equal``), and the calls after the first
must really be replays (no retrace, no fallback).

Shapes and options (axes, offsets, subscripts) come from hypothesis; the values of each
call from numpy's Generator seeded by hypothesis (as ``testing.networks`` does): distinct
from call to call with probability 1, which is what exposes a frozen value, and kept away
from each op's kinks and singularities by construction.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import matmul_shapes, seeds

import tinygrad_reg as tg
from tinygrad_reg import Tensor
from tinygrad_reg.engine import Function
from tinygrad_reg.jit import tape as tape_module
from tinygrad_reg.nn import MLP, Dropout
from tinygrad_reg.nn.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from tinygrad_reg.nn.regularizers import elastic_net_penalty, l1_penalty, l2_penalty, penalty
from tinygrad_reg.optim import SGD
from tinygrad_reg.testing import Network, networks

#: Calls per compiled function: the first records, the others replay on new values.
CALLS = 3

Values = Callable[[np.random.Generator, tuple[int, ...]], np.ndarray]


# --- values, kept away from kinks and singularities by construction ---------------------------


def uniform(lo: float, hi: float) -> Values:
    return lambda rng, shape: np.asarray(rng.uniform(lo, hi, shape))


def away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Magnitudes in [0.1, 2], random signs (relu, abs, sign, l1: smooth there)."""
    signs = np.where(rng.random(shape) < 0.5, -1.0, 1.0)
    return signs * rng.uniform(0.1, 2.0, shape)


def off_integers(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """At least 0.1 from every integer (the jumps of floor and ceil), in [-3, 3]."""
    return np.asarray(rng.integers(-3, 3, shape) + rng.uniform(0.1, 0.9, shape))


def odd_grid(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Odd multiples of 0.01 in [-1.49, 1.49]: never equal to an even multiple (clip's
    bounds, the other side of maximum/minimum)."""
    return np.asarray((2 * rng.integers(-75, 75, shape) + 1) * 0.01)


def even_grid(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return np.asarray(2 * rng.integers(-75, 76, shape) * 0.01)


def distinct(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Distinct multiples of 0.01 in [-1.5, 1.5]: no ties inside a max or min."""
    return (rng.choice(301, math.prod(shape), replace=False) - 150).reshape(shape) * 0.01


def coarse(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Multiples of 0.5 in [-1.5, 1.5]: zeros, ties and bounds, so the documented behaviour AT
    a kink (relu'(0) = 0, tied maxima share g) is replayed too, on masks that change."""
    return np.asarray(rng.integers(-3, 4, shape) * 0.5)


def with_a_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """``away_from_zero`` with the first element 0: prod's rule then multiplies out the
    product of the others on every call (which branch it takes is a guard)."""
    x = away_from_zero(rng, shape)
    x.flat[0] = 0.0
    return x


standard = uniform(-2.0, 2.0)
positive = uniform(0.1, 2.0)


# --- the check --------------------------------------------------------------------------------


class Case(NamedTuple):
    """A function of leaf parameters and arguments, and their values for each call."""

    make: Callable[[], Callable[..., Any]]  # a fresh f(*params, *args) per run (a Dropout's rng)
    params: list[list[np.ndarray]]  # per call: the values set into the leaf parameters
    args: list[list[np.ndarray]]  # per call: the arrays passed to the compiled function
    upstream_seed: int


def as_outputs(result: Any) -> list[Tensor]:
    return list(result) if isinstance(result, (list, tuple)) else [result]


def run(case: Case, compiled: bool) -> tuple[list[Any], Any]:
    """Each call's outputs and gradients, eager or through one compiled function.

    The step seeds backward with ``Σ out·u``, u a random upstream gradient that is an argument
    too, new on each call: with one fixed u the gradient of a linear op (a slice, a sum) would
    be the same on every call, and a backward pass frozen into the tape would go unnoticed."""
    f = case.make()
    params = [Tensor(v, requires_grad=True) for v in case.params[0]]
    optimizer = SGD(params, lr=0.1)  # only for zero_grad, which compile records
    probe = case.make()(*[Tensor(v) for v in case.params[0]], *map(Tensor, case.args[0]))
    rng = np.random.default_rng(case.upstream_seed)
    upstreams = [[rng.standard_normal(out.shape) for out in as_outputs(probe)] for _ in case.args]

    def step(*args: Tensor) -> tuple[Tensor, ...]:
        optimizer.zero_grad()
        inputs, upstream = args[: len(case.args[0])], args[len(case.args[0]) :]
        outputs = as_outputs(f(*params, *inputs))
        cost = functools.reduce(
            lambda total, term: total + term,
            [(out * u).sum() for out, u in zip(outputs, upstream, strict=True)],
        )
        cost.backward()
        return tuple(outputs)

    call = tg.compile(step) if compiled else step
    results = []
    for values, args, upstream in zip(case.params, case.args, upstreams, strict=True):
        for p, v in zip(params, values, strict=True):
            p.data = v
        outputs = call(*[Tensor(a) for a in [*args, *upstream]])
        # copies: a replay's .grad is a view of a buffer that the next replay overwrites
        grads = [None if p.grad is None else p.grad.copy() for p in params]
        results.append(([out.data for out in outputs], grads))
    return results, call


def assert_replay_equals_eager(case: Case) -> None:
    eager, _ = run(case, compiled=False)
    replayed, compiled = run(case, compiled=True)
    for i, ((out_e, grads_e), (out_r, grads_r)) in enumerate(zip(eager, replayed, strict=True)):
        what = "recording" if i == 0 else f"replay {i}"
        for k, (a, b) in enumerate(zip(out_e, out_r, strict=True)):
            assert a.dtype == b.dtype and np.array_equal(a, b), f"{what}: output {k} differs"
        for k, (a, b) in enumerate(zip(grads_e, grads_r, strict=True)):
            assert a is not None and b is not None, f"{what}: no gradient for parameter {k}"
            assert a.dtype == b.dtype and np.array_equal(a, b), f"{what}: grad {k} differs"
    assert compiled.recordings == 1, "the calls after the first must be replays"
    assert compiled.guard_failures == 0, "a guard failed: the values left the op's safe domain"


# --- how an op is put into a case -------------------------------------------------------------

small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
matrix_shapes = hnp.array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=3)


def plus(a: Any, b: Any) -> Any:
    """a + b, pairwise for the lists split and chunk return."""
    if isinstance(a, list):
        return [x + y for x, y in zip(a, b, strict=True)]
    return a + b


def values_for_calls(rng: np.random.Generator, values: list[Values], shapes: list[Any]):
    return [[v(rng, s) for v, s in zip(values, shapes, strict=True)] for _ in range(CALLS)]


@st.composite
def unary_case(
    draw: Any, op: Callable[..., Any], values: Values, shapes: Any, options: Any
) -> Case:
    """op(p) + op(x): the op on a parameter (forward and backward) and on an argument
    (forward only); ``options(shape)`` draws the op's other arguments (an axis, say)."""
    shape = draw(shapes)
    extra = draw(options(shape)) if options is not None else ()

    def f(p: Tensor, x: Tensor) -> Any:
        return plus(op(p, *extra), op(x, *extra))

    rng = np.random.default_rng(draw(seeds))
    return Case(
        lambda: f,
        values_for_calls(rng, [values], [shape]),
        values_for_calls(rng, [values], [shape]),
        draw(seeds),
    )


@st.composite
def binary_case(
    draw: Any, op: Callable[..., Any], values: tuple[Values, Values], shapes: Any
) -> Case:
    """op(p, q) + op(p, y) + op(x, q): both operands parameters, and each one against an
    argument; the two shapes are drawn together (broadcasting, matmul's signature)."""
    drawn = draw(shapes)
    a_shape, b_shape = drawn.input_shapes if hasattr(drawn, "input_shapes") else drawn

    def f(p: Tensor, q: Tensor, x: Tensor, y: Tensor) -> Any:
        return op(p, q) + op(p, y) + op(x, q)

    rng = np.random.default_rng(draw(seeds))
    return Case(
        lambda: f,
        values_for_calls(rng, list(values), [a_shape, b_shape]),
        values_for_calls(rng, list(values), [a_shape, b_shape]),
        draw(seeds),
    )


def unary(
    op: Callable[..., Any], values: Values = standard, shapes: Any = small_shapes, options=None
):
    return unary_case(op, values, shapes, options)


def binary(op: Callable[..., Any], a: Values = standard, b: Values | None = None, shapes=None):
    if shapes is None:
        shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
    return binary_case(op, (a, b or a), shapes)


def reduction_axes(shape: tuple[int, ...]) -> Any:
    """A reduction's ``(axis, keepdims)``."""
    axis = st.none() | an_axis(len(shape)) | hnp.valid_tuple_axes(len(shape))
    return st.tuples(axis, st.booleans())


def an_axis(ndim: int) -> Any:
    return st.integers(-ndim, ndim - 1) if ndim else st.nothing()


def one_axis(shape: tuple[int, ...]) -> Any:
    return st.tuples(an_axis(len(shape)))


def axis_or_none(shape: tuple[int, ...]) -> Any:
    return st.tuples(st.none() | an_axis(len(shape)))


def new_axis(shape: tuple[int, ...]) -> Any:
    """A position in the result of unsqueeze, which has one more axis."""
    return st.tuples(an_axis(len(shape) + 1))


def reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    axes = range(len(shape)) if axis is None else [axis] if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


def var_options(shape: tuple[int, ...]) -> Any:
    """(axis, ddof, keepdims) with n − ddof >= 1 (else var is inf/NaN, as numpy's)."""
    return reduction_axes(shape).flatmap(
        lambda ak: st.integers(0, min(1, reduced_count(shape, ak[0]) - 1)).map(
            lambda ddof: (ak[0], ddof, ak[1])
        )
    )


nonempty = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)
at_least_2 = hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=3)
# Drawn directly, not filtered out of matmul_shapes: only about one draw in ten of those has
# two 2-D operands, so filtering them failed Hypothesis's filter_too_much health check on some
# seeds (the test was flaky).
matrix_pairs = st.tuples(*[st.integers(1, 3)] * 3).map(lambda s: ((s[0], s[1]), (s[1], s[2])))
square_matrices = st.integers(1, 3).flatmap(
    lambda n: st.tuples(st.integers(0, 1), st.just(n)).map(lambda t: (2,) * t[0] + (n, n))
)

# Tensor methods and top-level functions under test, by name, each with how its inputs are drawn.
OPS: dict[str, Any] = {
    # arithmetic (ops/arithmetic.py) and the matrix product
    "add": binary(lambda a, b: a + b),
    "sub": binary(lambda a, b: a - b),
    "mul": binary(lambda a, b: a * b),
    "div": binary(lambda a, b: a / b, standard, away_from_zero),
    "pow": binary(lambda a, b: a**b, positive, standard),
    "neg": unary(lambda x: -x),
    "pow of a number": unary(lambda x: x**3 + 2.0**x),
    "number over x": unary(lambda x: 1.0 / x - 2.0 + (3.0 - x), away_from_zero),
    "matmul": binary(lambda a, b: a @ b, shapes=matmul_shapes),
    "matmul function": binary(tg.matmul, shapes=matmul_shapes),
    # elementwise (ops/unary.py)
    "exp": unary(Tensor.exp),
    "log": unary(Tensor.log, positive),
    "sqrt": unary(Tensor.sqrt, positive),
    "abs": unary(Tensor.abs, away_from_zero),
    "relu": unary(Tensor.relu, away_from_zero),
    "sigmoid": unary(Tensor.sigmoid),
    "tanh": unary(Tensor.tanh),
    "clip": unary(lambda x: x.clip(-0.5, 1.0), odd_grid),
    "clip below": unary(lambda x: x.clip(-0.5, None), odd_grid),
    "log1p": unary(tg.log1p, uniform(-0.5, 2.0)),
    "expm1": unary(tg.expm1),
    "log2": unary(tg.log2, positive),
    "log10": unary(tg.log10, positive),
    "sin": unary(tg.sin),
    "cos": unary(tg.cos),
    "tan": unary(tg.tan, uniform(-1.2, 1.2)),
    "sinh": unary(tg.sinh),
    "cosh": unary(tg.cosh),
    "square": unary(tg.square),
    "erf": unary(tg.erf, uniform(-3.0, 3.0)),
    "sign": unary(lambda x: tg.sign(x) * x, away_from_zero),  # * x: a gradient that is not 0
    "floor": unary(lambda x: tg.floor(x) * x, off_integers),
    "ceil": unary(lambda x: tg.ceil(x) * x, off_integers),
    "relu at 0": unary(Tensor.relu, coarse),
    "abs at 0": unary(Tensor.abs, coarse),
    "clip at the bounds": unary(lambda x: x.clip(-0.5, 1.0), coarse),
    "leaky_relu at 0": unary(lambda x: tg.leaky_relu(x, 0.1) + tg.elu(x, 0.5), coarse),
    # activations (ops/activations.py)
    "leaky_relu": unary(lambda x: tg.leaky_relu(x, 0.1), away_from_zero),
    "softplus": unary(tg.softplus),
    "elu": unary(lambda x: tg.elu(x, 0.7), away_from_zero),
    "gelu": unary(tg.gelu, uniform(-3.0, 3.0)),
    "gelu tanh": unary(lambda x: tg.gelu(x, approximate="tanh")),
    "silu": unary(tg.silu),
    "log_sigmoid": unary(tg.log_sigmoid),
    # reductions (ops/reduce.py)
    "sum": unary(lambda x, a, k: x.sum(a, k), options=reduction_axes),
    "mean": unary(lambda x, a, k: x.mean(a, k), options=reduction_axes),
    "max": unary(lambda x, a, k: x.max(a, k), distinct, options=reduction_axes),
    "min": unary(lambda x, a, k: x.min(a, k), distinct, options=reduction_axes),
    "max with ties": unary(lambda x, a, k: x.max(a, k), coarse, options=reduction_axes),
    "min with ties": unary(lambda x, a, k: x.min(a, k), coarse, options=reduction_axes),
    "prod with a zero": unary(lambda x, a, k: x.prod(a, k), with_a_zero, options=reduction_axes),
    "std of equal elements": unary(lambda x, a, d, k: x.std(a, d, k), coarse, options=var_options),
    "norm at 0": unary(
        lambda x, a, k: x.norm(2, a, k) + x.norm(1, a, k), coarse, options=reduction_axes
    ),
    "prod": unary(lambda x, a, k: tg.prod(x, a, k), away_from_zero, options=reduction_axes),
    "var": unary(lambda x, a, d, k: tg.var(x, a, d, k), distinct, options=var_options),
    "std": unary(lambda x, a, d, k: tg.std(x, a, d, k), distinct, options=var_options),
    "logsumexp": unary(lambda x, a, k: tg.logsumexp(x, a, k), options=reduction_axes),
    "norm 1": unary(lambda x, a, k: tg.norm(x, 1, a, k), away_from_zero, options=reduction_axes),
    "norm 2": unary(lambda x, a, k: tg.norm(x, 2, a, k), away_from_zero, options=reduction_axes),
    "norm fro": unary(lambda x, a, k: x.norm("fro", a, k), away_from_zero, options=reduction_axes),
    "cumsum": unary(lambda x, a: tg.cumsum(x, a), options=axis_or_none),
    # argmax/argmin have no gradient; what a step does with them is index
    "argmax index": unary(
        lambda x: x[x.argmax(axis=0), np.arange(x.shape[1])],
        distinct,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=3),
    ),
    "argmax operand": unary(lambda x: x * x.argmax(axis=-1, keepdims=True), distinct, nonempty),
    "Tensor of a traced array": unary(lambda x: (y := x * 1.0) * Tensor(np.exp(y.data))),
    "argmin index": unary(lambda x: x.flatten()[tg.argmin(x)], distinct, nonempty),
    # softmax family (ops/softmax.py)
    "softmax": unary(lambda x, a: tg.softmax(x, a), shapes=nonempty, options=one_axis),
    "log_softmax": unary(lambda x, a: x.log_softmax(a), shapes=nonempty, options=one_axis),
    # shape (ops/shape.py)
    "reshape": unary(lambda x: x.reshape(-1, 1)),
    "transpose": unary(lambda x: x.transpose()),
    "T": unary(lambda x: x.T),
    "mT": unary(lambda x: x.mT, shapes=matrix_shapes),
    "swapaxes": unary(lambda x, a: tg.swapaxes(x, 0, a), shapes=nonempty, options=one_axis),
    "moveaxis": unary(lambda x, a: tg.moveaxis(x, a, 0), shapes=nonempty, options=one_axis),
    "broadcast_to": unary(lambda x: tg.broadcast_to(x, (2, *x.shape))),
    "expand": unary(lambda x: tg.expand(x, 2, *[-1] * x.ndim)),
    "squeeze": unary(lambda x: tg.squeeze(x)),
    "unsqueeze": unary(lambda x, a: tg.unsqueeze(x, a), options=new_axis),
    "expand_dims": unary(lambda x: tg.expand_dims(x, 0)),
    "flatten": unary(tg.flatten),
    "getitem slice": unary(lambda x: x[::-1, None][..., :2], shapes=nonempty),
    "getitem ints": unary(lambda x: x[np.array([0, -1, 0])], shapes=nonempty),
    "getitem mask": unary(lambda x: x[np.arange(x.shape[0]) % 2 == 0], shapes=nonempty),
    "iterate": unary(lambda x: tg.stack(list(x)), shapes=nonempty),
    "split": unary(lambda x: tg.split(x, [1], axis=0), shapes=at_least_2),
    "chunk": unary(lambda x, a: tg.chunk(x, 2, a), shapes=nonempty, options=one_axis),
    "concatenate": binary(
        lambda a, b: tg.concatenate([a, b, a], axis=-1),
        shapes=st.integers(1, 3).map(lambda n: ((2, n), (2, 3 - n + 1))),
    ),
    "stack": binary(
        lambda a, b: tg.stack([a, b, a], axis=1), shapes=nonempty.map(lambda s: (s, s))
    ),
    # rearranging (ops/arrange.py)
    "pad": unary(lambda x: tg.pad(x, 1, value=0.5), shapes=nonempty),
    "flip": unary(lambda x, a: tg.flip(x, a), options=axis_or_none),
    "roll": unary(lambda x, a: tg.roll(x, 2, a), options=axis_or_none),
    "tile": unary(lambda x: tg.tile(x, (2, 1))),
    "repeat": unary(lambda x, a: tg.repeat(x, 2, a), options=axis_or_none),
    "tril": unary(lambda x: tg.tril(x, -1) + x.triu(1), shapes=matrix_shapes),
    "diagonal": unary(lambda x: tg.diagonal(x, 0, -2, -1), shapes=matrix_shapes),
    "trace": unary(lambda x: tg.trace(x, 1, 0, 1), shapes=matrix_shapes.filter(lambda s: s[1] > 1)),
    "diag of a vector": unary(
        lambda x: tg.diag(x, 1), shapes=hnp.array_shapes(min_dims=1, max_dims=1)
    ),
    "diag of a matrix": unary(
        lambda x: tg.diag(x, -1), shapes=hnp.array_shapes(min_dims=2, max_dims=2, min_side=2)
    ),
    # products (ops/linalg.py)
    "einsum ij,jk": binary(
        lambda a, b: tg.einsum("ij,jk->ik", a, b),
        shapes=matrix_pairs,
    ),
    "einsum ii": unary(
        lambda x: tg.einsum("ii->i", x) + tg.einsum("ii", x),
        shapes=st.integers(1, 3).map(lambda n: (n, n)),
    ),
    "einsum ...ij": binary(
        lambda a, b: tg.einsum("...ij,...j->...i", a, b),
        shapes=hnp.array_shapes(min_dims=2, max_dims=3, max_side=3).map(
            lambda s: (s, s[:-2] + s[-1:])
        ),
    ),
    "einsum sum out": unary(
        lambda x: tg.einsum("ij->", x), shapes=hnp.array_shapes(min_dims=2, max_dims=2)
    ),
    "einsum three operands": binary(
        lambda a, b: tg.einsum("ij,jk,kl->il", a, b, a),
        shapes=st.integers(1, 3).map(lambda n: ((n, n), (n, n))),
    ),
    "einsum sublists": binary(
        lambda a, b: tg.einsum(a, [0, 1], b, [1, 2], [0, 2]),
        shapes=st.integers(1, 3).map(lambda n: ((2, n), (n, 3))),
    ),
    "tensordot": binary(
        lambda a, b: tg.tensordot(a, b, axes=([1, 2], [0, 1])),
        shapes=st.integers(1, 3).map(lambda n: ((2, n, 2), (n, 2, 3))),
    ),
    "tensordot int": binary(
        lambda a, b: tg.tensordot(a, b, axes=1),
        shapes=st.integers(1, 3).map(lambda n: ((2, n), (n, 3))),
    ),
    "outer": binary(tg.outer),
    "dot": binary(
        tg.dot,
        shapes=hnp.mutually_broadcastable_shapes(
            signature=np.matmul.signature, max_dims=0, min_side=1, max_side=3
        ),  # no batch axes: 1-D and 2-D operands
    ),
    "dot with a scalar": binary(tg.dot, shapes=small_shapes.map(lambda s: ((), s))),
    "linear": binary(
        lambda w, x: tg.linear(x, w, w.sum(axis=1, keepdims=True)),
        shapes=st.tuples(st.integers(1, 3), st.integers(1, 3)).map(
            lambda t: ((t[0], t[1]), (t[1], 4))
        ),
    ),
    # conversions (ops/cast.py)
    "astype float32": unary(lambda x: x.astype(np.float32)),
    "astype float32 and back": unary(lambda x: x.astype(np.float32).exp().astype(np.float64)),
    # selection (ops/select.py)
    "where": binary(
        lambda a, b: tg.where(np.array([True, False, True]), a, b), shapes=st.just(((3,), (2, 3)))
    ),
    "maximum": binary(tg.maximum, odd_grid, even_grid),
    "minimum": binary(tg.minimum, odd_grid, even_grid),
    "maximum with ties": binary(lambda a, b: tg.maximum(a, b) + tg.minimum(a, b), coarse),
    # losses (losses.py)
    "binary_cross_entropy": binary(
        binary_cross_entropy,
        uniform(0.05, 0.95),
        uniform(0.0, 1.0),
        shapes=st.integers(1, 4).map(lambda m: ((1, m), (1, m))),
    ),
    "binary_cross_entropy_with_logits": binary(
        binary_cross_entropy_with_logits,
        uniform(-8.0, 8.0),
        uniform(0.0, 1.0),
        shapes=st.integers(1, 4).map(lambda m: ((1, m), (1, m))),
    ),
    "mse_loss": binary(mse_loss, shapes=small_shapes.map(lambda s: (s, s))),
}


@st.composite
def class_index_case(draw: Any, shape_of_labels: Callable[[int], tuple[int, ...]]) -> Case:
    """cross_entropy(p, labels) + cross_entropy(x, labels): class indices as an argument."""
    C, m = draw(st.integers(2, 4)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(seeds))
    logits = values_for_calls(rng, [uniform(-5.0, 5.0)] * 2, [(C, m)] * 2)
    labels = [rng.integers(0, C, shape_of_labels(m)) for _ in range(CALLS)]

    def f(p: Tensor, x: Tensor, labels: Tensor) -> Tensor:
        return cross_entropy(p, labels) + cross_entropy(x, labels)

    params = [[z] for z, _ in logits]
    args = [[x, y] for (_, x), y in zip(logits, labels)]
    return Case(lambda: f, params, args, draw(seeds))


def dyadic_columns(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Probability columns of multiples of 1/8 that sum to exactly 1 (no rounding)."""
    C, m = shape
    cuts = np.sort(rng.integers(0, 9, (C - 1, m)), axis=0)
    edges = np.concatenate([np.zeros((1, m)), cuts, np.full((1, m), 8)])
    return np.diff(edges, axis=0) / 8


def softmax_columns(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Probability columns whose sums are 1 up to rounding, off by a different amount in each
    column (which one is off the most is no guard of the check)."""
    e = np.exp(rng.standard_normal(shape))
    return e / e.sum(axis=0)


@st.composite
def soft_target_case(draw: Any) -> Case:
    """cross_entropy against probability columns: a parameter (∂/∂y; sums exactly 1) and an
    argument (sums 1 up to rounding)."""
    C, m = draw(st.integers(2, 4)), draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(seeds))
    params = values_for_calls(rng, [uniform(-5.0, 5.0), dyadic_columns], [(C, m)] * 2)
    args = values_for_calls(rng, [softmax_columns], [(C, m)])

    def f(z: Tensor, y: Tensor, fixed: Tensor) -> Tensor:
        return cross_entropy(z, y) + cross_entropy(z, fixed)

    return Case(lambda: f, params, args, draw(seeds))


@st.composite
def penalty_case(draw: Any, penalize: Callable[[list[Tensor]], Tensor]) -> Case:
    """A penalty over two parameters, plus their product with an argument (so the data moves
    too)."""
    shapes = [draw(small_shapes), draw(small_shapes)]
    rng = np.random.default_rng(draw(seeds))
    params = values_for_calls(rng, [away_from_zero] * 2, shapes)
    args = values_for_calls(rng, [standard], shapes[:1])

    def f(p: Tensor, q: Tensor, x: Tensor) -> Tensor:
        return penalize([p, q]) + (p * x).sum() + (q * q).sum()

    return Case(lambda: f, params, args, draw(seeds))


@st.composite
def dropout_case(draw: Any) -> Case:
    """Dropout on a parameter and on an argument: a fresh mask each call, from its rng."""
    shape = draw(nonempty)
    keep_prob = draw(st.floats(0.3, 0.9))
    mask_seed = draw(seeds)
    rng = np.random.default_rng(draw(seeds))

    def make() -> Callable[..., Any]:
        drop = Dropout(keep_prob=keep_prob, rng=np.random.RandomState(mask_seed))
        return lambda p, x: drop(p) * x + drop(x)

    values = values_for_calls(rng, [standard], [shape])
    return Case(make, values, values_for_calls(rng, [standard], [shape]), draw(seeds))


OPS |= {
    "cross_entropy labels (m,)": class_index_case(lambda m: (m,)),
    "cross_entropy labels (1, m)": class_index_case(lambda m: (1, m)),
    "cross_entropy probability targets": soft_target_case(),
    "l2_penalty": penalty_case(lambda ps: l2_penalty(ps, 0.7, 3)),
    "l1_penalty": penalty_case(lambda ps: l1_penalty(ps, 0.7, 3)),
    "elastic_net_penalty": penalty_case(lambda ps: elastic_net_penalty(ps, 0.3, 0.7, 3)),
    "penalty none": penalty_case(lambda ps: penalty("none", ps, 0.0, 3)),
    "Dropout": dropout_case(),
}


# A thorough run's 1000 examples for each of the ~130 ops take 6 minutes; 600 keep it under 5.
@pytest.mark.parametrize("name", sorted(OPS))
@settings(max_examples=min(settings().max_examples, 600))
@given(data=st.data())
def test_replay_equals_eager_bit_for_bit(name: str, data: Any) -> None:
    assert_replay_equals_eager(data.draw(OPS[name], label=name))


def fixed_case(op: Callable[..., Any]) -> Case:
    rng = np.random.default_rng(1)
    shape = (2, 3)
    return Case(
        lambda: lambda p, x: op(p) + op(x),
        values_for_calls(rng, [standard], [shape]),
        values_for_calls(rng, [standard], [shape]),
        upstream_seed=2,
    )


@pytest.mark.parametrize(
    ("method", "escape"),
    [
        ("forward", lambda self, x: np.exp(np.array(x))),  # np.array: a copy numpy hides
        ("backward", lambda self, g, out, x: (np.array(g) * out,)),
    ],
)
def test_the_check_catches_a_frozen_value(method: str, escape: Any) -> None:
    """The check itself: an op whose forward or backward escapes the hooks fails it."""
    from tinygrad_reg.ops.unary import Exp

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Exp, method, escape)
        with pytest.raises(AssertionError, match="replay 1"):
            assert_replay_equals_eager(fixed_case(Tensor.exp))
    assert_replay_equals_eager(fixed_case(Tensor.exp))  # and passes without the escape


# --- guards: a value the recording branched on changes, and the call runs eagerly -------------


def bce_step(rng_seed: int = 5):
    """A step whose loss branches on its value (an overflowing sum is redone) and that draws
    a dropout mask; parameters z (the logits) and w."""
    z = Tensor(np.array([[1.0, -2.0, 0.5]]), requires_grad=True)
    w = Tensor(np.array([0.3, -0.7, 1.1, 0.2]), requires_grad=True)
    drop = Dropout(keep_prob=0.6, rng=np.random.RandomState(rng_seed))
    optimizer = SGD([z, w], lr=0.1)

    def step(Y: Tensor, x: Tensor) -> Tensor:
        optimizer.zero_grad()
        cost = binary_cross_entropy_with_logits(z, Y) + (drop(w) * x).sum()
        cost.backward()
        return cost

    return z, w, step


def test_a_failed_guard_records_the_other_path_with_the_same_mask() -> None:
    """Logits near the largest float make the sum of the terms overflow: the recorded branch
    (np.isfinite(total)) no longer holds, the guard stops the replay, and the call records
    the other path, drawing the dropout mask the replay had drawn (the generator is rewound);
    later calls replay whichever of the two traces fits."""
    logits = [[1.0, -2.0, 0.5], [1.5e308, 1.7e308, 1e308], [-0.3, 2.0, 4.0], [1.7e308, 2, 1.5e308]]
    results = []
    for compiled in (False, True):
        z, w, step = bce_step()
        call = tg.compile(step) if compiled else step
        rows = []
        for k, values in enumerate(logits):
            z.data = np.array([values])
            w.data = np.array([0.3, -0.7, 1.1, 0.2]) * (k + 1)
            cost = call(Tensor(np.zeros((1, 3))), Tensor(np.arange(4.0) + k))
            rows.append((cost.data, z.grad.copy(), w.grad.copy()))
        results.append(rows)
    for i, (eager, replayed) in enumerate(zip(*results, strict=True)):
        for a, b in zip(eager, replayed, strict=True):
            assert np.array_equal(a, b), f"call {i}"
    assert np.isfinite(results[0][1][0])  # the overflow branch: finite
    assert call.recordings == 2 and call.guard_failures == 3


def class_index_step():
    logits = Tensor(np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]]), requires_grad=True)
    optimizer = SGD([logits], lr=0.1)

    def step(labels: Tensor) -> Tensor:
        optimizer.zero_grad()
        cost = cross_entropy(logits, labels)
        cost.backward()
        return cost

    return logits, step


@pytest.mark.parametrize("bad", [[0.0, 3.0], [-1.0, 0.0], [0.5, 1.0], [np.nan, 1.0]])
def test_bad_labels_on_a_replay_give_the_eager_error(bad: list[float]) -> None:
    """The label checks are Python decisions on values: guards. A replay with labels out of
    range (or not whole, or NaN) fails one, and recording that call raises eager's error;
    the next good call is a replay again."""
    _, eager = class_index_step()
    _, step = class_index_step()
    compiled = tg.compile(step)
    compiled(np.array([0.0, 2.0]))
    with pytest.raises(ValueError) as expected:
        eager(Tensor(np.array(bad)))
    with pytest.raises(ValueError) as raised:
        compiled(np.array(bad))
    assert str(raised.value) == str(expected.value)
    assert compiled.guard_failures == 1
    cost = compiled(np.array([1.0, 0.0]))
    assert np.array_equal(cost.data, eager(Tensor(np.array([1.0, 0.0]))).data)
    assert compiled.recordings == 1 and compiled.guard_failures == 1


# --- a Function of yours runs as Python on every replay ---------------------------------------


class ScaledCube(Function):
    """s·x³, computed element by element in Python: numpy's hooks never see it, so compile
    must call it on every replay rather than record its numpy calls."""

    save_inputs, save_out = True, False
    forwards = 0  # calls, counted on the class

    def forward(self, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        ScaledCube.forwards += 1
        cubes = np.array([float(v) ** 3 for v in np.asarray(x).ravel()])
        return cubes.reshape(np.shape(x)) * s

    def backward(self, g: Any, out: Any, x: Any, s: Any) -> tuple[Any, ...]:
        """d(s·x³)/dx = 3·s·x²·g,  d(s·x³)/ds = x³·g"""
        return 3 * s * x * x * g, x * x * x * g


def cube_step(x: Tensor, scale: Tensor):
    optimizer = SGD([x, scale], lr=0.1)

    def step(fixed: Tensor, u: Tensor) -> Tensor:
        optimizer.zero_grad()
        out = ScaledCube()(x.tanh(), scale) + ScaledCube()(x, fixed)
        (out * u).sum().backward()
        return out

    return step


def test_a_function_of_yours_runs_as_python_on_each_replay() -> None:
    rng = np.random.default_rng(0)
    calls = 4
    xs = [rng.uniform(-2, 2, (2, 3)) for _ in range(calls)]
    scales = [rng.uniform(0.5, 2, (1, 3)) for _ in range(calls)]
    args = [(rng.uniform(0.5, 2, (2, 1)), rng.standard_normal((2, 3))) for _ in range(calls)]
    results = []
    for compiled in (False, True):
        x = Tensor(xs[0], requires_grad=True)
        scale = Tensor(scales[0], requires_grad=True)
        call = tg.compile(cube_step(x, scale)) if compiled else cube_step(x, scale)
        rows = []
        for k in range(calls):
            x.data, scale.data = xs[k], scales[k]
            before = ScaledCube.forwards
            out = call(*map(Tensor, args[k]))
            assert ScaledCube.forwards == before + 2  # run, not replayed from the tape
            rows.append((out.data, x.grad.copy(), scale.grad.copy()))
        results.append(rows)
    for i, (eager, replayed) in enumerate(zip(*results, strict=True)):
        for a, b in zip(eager, replayed, strict=True):
            assert np.array_equal(a, b), f"call {i}"
    assert call.recordings == 1 and call.guard_failures == 0


class Scale(Function):
    """s·x, whose rule returns None for an input that needs no gradient (as the docs allow)."""

    save_inputs, save_out = True, False

    def forward(self, x: np.ndarray, s: np.ndarray) -> np.ndarray:
        return x * s

    def backward(self, g: Any, out: Any, x: Any, s: Any) -> tuple[Any, ...]:
        """d(s·x)/dx = s·g,  d(s·x)/ds = x·g"""
        return g * s, (g * x if self.needs_input_grad[1] else None)


def test_a_rule_of_yours_may_return_none() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    step = tg.compile(lambda s: Scale()(w, s).sum().backward())
    step(np.array([1.0, 2.0]))
    w.grad = None
    step(np.array([3.0, 4.0]))
    assert np.array_equal(w.grad, [3.0, 4.0])
    assert step.recordings == 1 and step.guard_failures == 0


# --- shared memory ----------------------------------------------------------------------------


def train(net: Network, compiled: bool, steps: int):
    """Costs, parameters and the trace's bytes after ``steps`` SGD steps of a network with
    dropout and the L2 penalty, on a new batch each step."""
    model = MLP.from_parameters(
        dict(net.parameters), keep_prob=net.keep_prob, rng=np.random.RandomState(net.seed)
    )
    optimizer = SGD(model.parameters(), lr=0.05)

    def step(X: Tensor, Y: Tensor) -> Tensor:
        optimizer.zero_grad()
        cost = binary_cross_entropy_with_logits(model(X), Y) + l2_penalty(model, net.lambd, 7)
        cost.backward()
        optimizer.step()
        return cost

    call = tg.compile(step) if compiled else step
    rng = np.random.default_rng(net.seed)
    costs = []
    for _ in range(steps):  # a new batch each step: the replays read new data
        X = net.X + 0.1 * rng.standard_normal(net.X.shape)
        costs.append(call(X, net.Y).data)
    nbytes = next(iter(call.traces.values()))[0].nbytes() if compiled else None
    return costs, [p.data for p in model.parameters()], nbytes


@settings(max_examples=max(5, settings().max_examples // 3))
@given(net=networks(min_depth=3, max_depth=5, max_width=10, max_examples=12, dropout=True))
def test_shared_memory_changes_no_result(net: Network) -> None:
    """A deep-ish MLP with dropout and L2, several SGD steps: the replays (whose buffers share
    memory) equal the eager steps, and equal replays whose buffers do not share memory."""
    eager = train(net, compiled=False, steps=5)
    shared = train(net, compiled=True, steps=5)
    with pytest.MonkeyPatch.context() as patch:
        # share_memory returns ``after`` (the arrays read after a replay) as moved: unmoved
        patch.setattr(tape_module.Tape, "share_memory", lambda self, outside, after: after)
        unshared = train(net, compiled=True, steps=5)
    for other in (shared, unshared):
        for i, (a, b) in enumerate(zip(eager[0], other[0], strict=True)):
            assert np.array_equal(a, b), f"cost of step {i}"
        for i, (a, b) in enumerate(zip(eager[1], other[1], strict=True)):
            assert np.array_equal(a, b), f"parameter {i}"
    assert shared[2] < unshared[2]  # memory was shared: the test exercised it


# --- edge cases: a guard after a .grad was set, empty views, values read through .data ------


def test_a_failed_guard_after_a_gradient_was_stored() -> None:
    grads = []
    for compiled in (False, True):
        w = Tensor(np.array([1.0, 2.0]), requires_grad=True)

        def step(x: Tensor, w: Tensor = w) -> None:
            (w * x).sum().backward()
            tg.prod(w * x).backward()  # Prod's rule branches on out != 0: a guard

        call = tg.compile(step) if compiled else step
        for x in ([1.0, 1.0], [0.0, 1.0]):
            w.grad = None
            call(Tensor(x))
        grads.append(w.grad.copy())
    assert call.guard_failures == 1
    assert np.array_equal(grads[0], grads[1])


def test_empty_results() -> None:
    w = Tensor(np.ones(2), requires_grad=True)
    step = tg.compile(lambda x: ((w * x)[2:].sum() + (w * x).sum()).backward())
    step(np.ones(2))
    w.grad = None
    step(np.full(2, 3.0))
    assert np.array_equal(w.grad, [3.0, 3.0])


# A known limitation (docs/compile.md, "What cannot be traced"): strict, so it fails (XPASS)
# the day it is lifted.
@pytest.mark.xfail(
    strict=True,
    raises=FloatingPointError,
    reason="an op's np.errstate block is Python: a replay runs under the caller's errstate",
)
def test_an_op_silencing_an_overflow_stays_silent_on_replay() -> None:
    step = tg.compile(lambda z: z.sigmoid())  # e^800 overflows, silenced inside the op
    with np.errstate(over="raise"):
        eager = Tensor([-800.0]).sigmoid().data
        step(np.array([-800.0]))
        assert np.array_equal(step(np.array([-800.0])).data, eager)


def test_a_check_on_a_parameter_holds_on_replay() -> None:
    """cross_entropy checks probability targets from ``labels.data``; a parameter that no op
    has read yet still holds its plain array then, so the checks are not on the tape."""
    y = Tensor(np.array([[0.5, 1.0], [0.5, 0.0]]), requires_grad=True)
    step = tg.compile(lambda z: cross_entropy(z, y))
    step(np.zeros((2, 2)))
    y.data = np.array([[0.9, 1.0], [0.9, 0.0]])  # a column summing to 1.8
    with pytest.raises(ValueError, match=r"sums to 1\.8"):
        step(np.zeros((2, 2)))

"""The reverse-mode engine: grad mode, graph nodes, and backpropagation.

Forward: every op is a ``Function``. Calling one runs its numpy ``forward`` and, when some input
needs a gradient, the op object becomes a node of the graph. It keeps its edges (``parents``:
the nodes that made its inputs, or the leaf tensors themselves) and only the arrays its
``backward`` rule reads (``save_inputs``, ``save_out``): nothing else of the forward pass stays
alive, so intermediate tensors are freed as soon as your code drops them.

Backward: ``backpropagate`` visits the nodes once, outputs first (reverse topological order),
calls each node's rule with the gradient arriving from above, reduces every result to its
input's shape with ``unbroadcast`` (the only place broadcasting is undone) and adds up the
gradients of what was used more than once.

The same rules serve first and higher order: they receive numpy arrays, or Tensors when the
backward pass is itself being recorded (``grad(..., create_graph=True)``).
"""

from __future__ import annotations

import functools
import itertools
import operator
import threading
import weakref
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from .ops.broadcasting import sum_to, summed_axes, unbroadcast  # noqa: F401 (engine.unbroadcast: the API)

if TYPE_CHECKING:
    from .tensor import Tensor

# ---------------------------------------------------------------------------------------------
# Grad mode (per thread, as PyTorch's)
# ---------------------------------------------------------------------------------------------

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Each thread sees its own copy: ``no_grad`` in one thread never affects another.

    ``saved`` is the stack of modes to restore, one entry per context entered and not yet
    left, so entering the same ``no_grad()`` object twice (nested) restores correctly."""

    enabled = True

    def __init__(self) -> None:
        self.saved: list[bool] = []


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad`` (in this thread)."""
    return _grad_mode.enabled


class _SetGradMode:
    """Shared by ``no_grad`` and ``enable_grad``: a context manager and a decorator."""

    enabled: bool

    def __enter__(self) -> None:
        _grad_mode.saved.append(_grad_mode.enabled)
        _grad_mode.enabled = self.enabled

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = _grad_mode.saved.pop()

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:  # used bare, as ``@no_grad``: decorate func right away
            return object.__new__(cls)(func)
        return object.__new__(cls)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def in_mode(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return in_mode  # type: ignore[return-value]


class no_grad(_SetGradMode):
    """Context manager and decorator: ops inside it record no graph.

        >>> with no_grad():
        ...     y = w * 2          # y.requires_grad is False

    As a decorator, bare or called: ``@no_grad`` and ``@no_grad()`` are the same.
    """

    enabled = False


class enable_grad(_SetGradMode):
    """Context manager and decorator: record the graph again, even inside ``no_grad``."""

    enabled = True


class set_grad_enabled:
    """Turn recording on or off: ``set_grad_enabled(False)`` as a call changes the mode of this
    thread at once; ``with set_grad_enabled(flag):`` changes it for the block only."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc_info: object) -> None:
        _grad_mode.enabled = self.previous

    def __call__(self, func: F) -> F:
        """As a decorator: the mode applies inside each call of ``func``, not from now on."""
        _grad_mode.enabled = self.previous
        return (enable_grad if self.mode else no_grad)()(func)


class _Hooks(threading.local):
    """Where tools outside the core attach, per thread; the engine imports none of them.

    ``recorder``: compile's recorder (``jit/compiler.py``) while it records a step; it is handed
    each op's inputs, forward and rule, each ``.grad`` stored, each ``zero_grad`` and ``step``.
    ``observer``: ``forward(fn, arrays, out)`` and ``backward(fn, grads)`` are called after each
    forward and each rule (``debug/anomaly.py`` raises there at the first NaN)."""

    recorder: Any = None
    observer: Any = None


hooks = _Hooks()


# ---------------------------------------------------------------------------------------------
# Graph nodes
# ---------------------------------------------------------------------------------------------


_data_of, _shape_of = operator.attrgetter("_data"), operator.attrgetter("shape")
_nones = itertools.repeat(None)  # None forever (no state to share between threads)


class Function:
    """One op: its numpy ``forward`` and its ``backward`` rule (a vector-Jacobian product).

    This is also the extension point for your own ops. A subclass defines

    - ``forward(self, *arrays) -> array``: numpy in, numpy out;
    - ``backward(self, g, out, *inputs) -> tuple``: ``g`` is dLoss/d(out); return a tuple with
      one gradient (or ``None``) per input. A gradient may keep the broadcast shape of ``out``:
      the engine reduces it to the input's shape. Anything else (a wrong shape, a bare array,
      too many entries) raises an error naming the op and the input;
    - ``save_inputs`` and ``save_out``: whether ``backward`` reads the input values and the
      output value. The engine keeps exactly that until the backward pass; what is not saved
      arrives as ``None``. A rule that needs an input's shape records it in ``forward``
      (``self.shape = x.shape``). Both default to True, which is always correct, only heavier.

    ``backward`` is written with operators and the helpers in ``ops/helpers.py`` so that it runs
    on numpy arrays (an ordinary backward pass) and on Tensors (recording the backward pass for
    higher derivatives) alike.

    Use an op by calling a new instance: ``Mul()(a, b)``, ``Sum(axis=0, keepdims=False)(x)``.
    Numbers and numpy arrays among the inputs are taken as constants. When some input needs a
    gradient, the instance becomes a node of the graph: its ``parents`` are, per input, the node
    that made that input, the input itself if it is a leaf that needs a gradient, or ``None``.
    Nodes point to nodes, never to the Tensors in between, so an intermediate Tensor (and its
    array, unless a rule saved it) is freed as soon as the user's code drops it.
    """

    __slots__ = (
        "created_at",
        "input_shapes",
        "needs_input_grad",
        "out",
        "out_name",
        "parents",
        "retained",
        "saved",
    )

    save_inputs = True
    save_out = True

    #: What the op expects of its inputs; quoted when numpy rejects them.
    expects = "inputs whose shapes broadcast together"

    parents: tuple[Function | Tensor | None, ...] | None
    saved: tuple[np.ndarray | None, ...] | None
    out: np.ndarray | None
    needs_input_grad: tuple[bool, ...]
    input_shapes: tuple[tuple[int, ...], ...]
    out_name: str | None  # the output Tensor's name (explain and to_dot show it)
    retained: weakref.ref[Tensor] | None  # the output Tensor, if it called retain_grad()

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    @property
    def name(self) -> str:
        return type(self).__name__

    def __call__(self, *inputs: Any) -> Tensor:
        try:  # map with attrgetter: no Python frame per op (a comprehension is one)
            arrays = tuple(map(_data_of, inputs))
        except AttributeError:  # numbers or numpy arrays among the inputs: constants
            inputs = as_tensors(self.name, inputs)
            arrays = tuple(map(_data_of, inputs))
        recorder, observer = hooks.recorder, hooks.observer  # compile's, anomaly's, or None
        if recorder is not None:
            arrays = recorder.arrays_of(inputs)
        try:
            out = self.forward(*arrays) if recorder is None else recorder.forward(self, arrays)
        except (ValueError, TypeError, IndexError) as error:
            raise type(error)(self._describe_failure(arrays, error)) from error
        if type(out) is not np.ndarray and not isinstance(out, np.ndarray):  # numpy scalars
            out = np.asarray(out)
        out.setflags(write=False)  # saved arrays must not change under a live graph
        if observer is not None:
            observer.forward(self, arrays, out)

        if _grad_mode.enabled:
            # Per input: the node that made it, or the leaf itself if it needs a gradient.
            parents = tuple([x.grad_fn or (x if x.requires_grad else None) for x in inputs])
            needs = tuple(map(operator.is_not, parents, _nones))  # p is not None, per input
            if True in needs:
                self.parents, self.needs_input_grad = parents, needs
                self.input_shapes = tuple(map(_shape_of, arrays))
                self.saved = arrays if self.save_inputs else (None,) * len(arrays)
                self.out = out if self.save_out else None
                self.out_name = self.retained = None
                return Tensor._from_op(out, self)
        return Tensor._from_op(out, None)

    def _describe_failure(self, arrays: Sequence[np.ndarray], error: Exception) -> str:
        shapes = ", ".join(str(a.shape) for a in arrays)
        dtypes = ", ".join(str(a.dtype) for a in arrays)
        return (
            f"{self.name}: cannot apply to inputs of shapes {shapes} (dtypes {dtypes}); "
            f"expected {self.expects} ({error})"
        )

    def release(self) -> None:
        """Drop what the node saved and its edges; a later backward through it raises."""
        self.parents = self.saved = self.out = None

    def tensors_for_backward(self) -> tuple[Tensor | None, ...]:
        """``out, *inputs`` as Tensors, for a backward pass that records its own graph.

        A saved array becomes a Tensor made by the node that made it (so gradients flow on
        through the first graph); a leaf is itself; what was not saved stays None."""
        assert self.parents is not None and self.saved is not None
        out = None if self.out is None else Tensor._from_op(self.out, self)
        inputs: list[Tensor | None] = []
        for parent, array in zip(self.parents, self.saved):
            if array is None:
                inputs.append(None)
            elif isinstance(parent, Tensor):
                if parent._data is not array:
                    raise RuntimeError(
                        f"{self.name}: the .data of its input (shape {parent.shape}) was "
                        "replaced after the forward pass, so a graph of the backward pass "
                        "cannot be built from it. Recompute the forward pass after updating "
                        "parameters."
                    )
                inputs.append(parent)
            else:  # made by the node ``parent``, or a constant (parent None)
                inputs.append(Tensor._from_op(array, parent))
        return (out, *inputs)

    def __repr__(self) -> str:
        return f"<{self.name}>"


def as_tensors(op_name: str, inputs: Sequence[Any]) -> tuple[Tensor, ...]:
    """The inputs of an op as Tensors: numbers and arrays become constants (no gradient).

    Numbers take the dtype of the first Tensor among the inputs, as in ``x32 * 2``."""
    like = next((x for x in inputs if isinstance(x, Tensor)), None)
    converted = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor):
            converted.append(x)
            continue
        try:
            converted.append(Tensor(x) if like is None else like._operand(x))
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"{op_name}: input {i} is a {type(x).__name__} that cannot be a Tensor "
                f"({error}); expected Tensors, numpy arrays or numbers."
            ) from None
    return tuple(converted)


# ---------------------------------------------------------------------------------------------
# Backpropagation
# ---------------------------------------------------------------------------------------------


class GradientRuleError(ValueError):
    """A ``backward`` rule returned something that cannot be the gradients of its inputs."""


def checked_gradient(fn: Function, i: int, gx: Any, shape: tuple[int, ...]) -> Any:
    """Input ``i``'s gradient from ``fn``'s rule, reduced to ``shape``; a clear error if the
    rule returned something that cannot be the gradient of an input of that shape: anything
    but an array or Tensor whose shape broadcasting ``shape`` could have produced."""
    if not isinstance(gx, (np.ndarray, np.generic, Tensor)):
        raise GradientRuleError(
            f"{fn.name}.backward returned a {type(gx).__name__} for input {i}; expected None "
            f"or an array (or Tensor) of shape {shape}."
        )
    axes = summed_axes(gx.shape, shape)
    if axes is None:
        raise GradientRuleError(
            f"{fn.name}.backward returned a gradient of shape {gx.shape} for input {i}, which "
            f"has shape {shape}; expected {shape} or a shape that broadcasting {shape} can give."
        )
    return sum_to(gx, axes, shape) if gx.shape != shape else gx


def _bad_rule_result(fn: Function, grads: Any) -> Exception:
    n = len(fn.input_shapes)
    got = f"a tuple of {len(grads)}" if isinstance(grads, tuple) else f"a {type(grads).__name__}"
    return GradientRuleError(
        f"{fn.name}.backward returned {got}; expected a tuple of {n} gradients (one per "
        f"input, None where there is none), e.g. return (g,) for an op of one input."
    )


def topological_order(roots: Sequence[Tensor]) -> list[Function]:
    """The nodes that lead to ``roots``, inputs before outputs.

    Leaves are not nodes: they have no rule to run, only a gradient to receive. Iterative
    depth-first search, so a chain of 100 000 ops needs no recursion: a node seen on top of the
    stack for the second time has had all its parents placed, so it is placed next. Reversed,
    the order is depth-first from the output: each branch is finished before the next begins,
    so the gradients waiting in between are few.
    """
    order: list[Function] = []
    expanded: set[Function] = set()  # nodes hash by identity
    placed: set[Function] = set()
    stack = [r.grad_fn for r in reversed(roots) if r.grad_fn is not None]
    while stack:
        fn = stack[-1]
        if fn in expanded:
            stack.pop()
            if fn not in placed:
                placed.add(fn)
                order.append(fn)
            continue
        expanded.add(fn)
        if fn.parents is None:
            raise RuntimeError(
                f"backward through a graph that was already freed (at {fn.name}). A backward "
                "pass frees the graph it used; pass retain_graph=True to the first backward to "
                "go through it again."
            )
        for parent in fn.parents:
            if isinstance(parent, Function) and parent not in expanded:
                stack.append(parent)
    return order


def backpropagate(
    roots: Sequence[Tensor],
    seeds: Sequence[Any],
    *,
    retain_graph: bool = False,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
    on_node: Callable[[Function, Any, tuple[Any, ...]], None] | None = None,
) -> list[Any]:
    """Send ``seeds`` (dLoss/d root) back through the graph.

    Without ``capture``, gradients are added into the ``.grad`` of leaves (and of tensors that
    called ``retain_grad``) and nothing is returned. With ``capture``, nothing's ``.grad``
    changes: the gradients of the captured tensors are returned, in order (None for one no
    gradient reached). ``on_node(node, g, grads)`` is called after each node's rule ran
    (``explain_backward`` uses it to narrate).
    """
    # The gradient that has arrived so far for each node or leaf, keyed by id(): a Tensor's
    # == compares values, so tensors are never dictionary keys.
    pending: dict[int, Any] = {}
    leaves: dict[int, Tensor] = {}  # the leaves among pending's keys
    for root, seed in zip(roots, seeds):
        edge = root.grad_fn or root
        pending[id(edge)] = pending[id(edge)] + seed if id(edge) in pending else seed
        if root.grad_fn is None:
            leaves[id(root)] = root
    captured = {} if capture is None else {id(t.grad_fn or t): None for t in capture}
    stored = {id(seed) for seed in seeds}  # arrays someone else can see: .grad must copy them

    observer = hooks.observer  # read once: a thread's hooks cannot change meanwhile
    recorder = hooks.recorder  # compile's tape recorder, or None
    if recorder is not None:
        recorder.check_backward(create_graph, capture)
    order = topological_order(roots)
    while order:
        # Popping drops the list's reference, so nodes are freed as soon as they are done.
        fn = order.pop()
        g = pending.pop(id(fn), None)
        if g is None:
            continue
        if capture is not None:
            if id(fn) in captured:
                captured[id(fn)] = g
        elif fn.retained is not None and (tensor := fn.retained()) is not None:
            _accumulate_grad(tensor, g, stored)

        parents, saved = fn.parents, fn.saved
        assert parents is not None and saved is not None  # the sort refuses freed nodes
        if create_graph:
            grads = fn.backward(g, *fn.tensors_for_backward())
        elif recorder is None:
            grads = fn.backward(g, fn.out, *saved)
        else:
            grads = recorder.backward(fn, g, fn.out, saved)
        if type(grads) is not tuple or len(grads) != len(parents):
            raise _bad_rule_result(fn, grads)
        if observer is not None:
            observer.backward(fn, grads)
        if on_node is not None:
            on_node(fn, g, grads)
        for i, (parent, gx, shape) in enumerate(zip(parents, grads, fn.input_shapes)):
            if parent is None or gx is None:
                continue
            if type(gx) is not np.ndarray:
                gx = checked_gradient(fn, i, gx, shape)
            elif gx.shape != shape:  # a bias's (n, m): the axes are worked out once per shapes
                axes = summed_axes(gx.shape, shape)
                gx = checked_gradient(fn, i, gx, shape) if axes is None else sum_to(gx, axes, shape)
            key = id(parent)
            earlier = pending.get(key)
            if earlier is None:
                pending[key] = gx
                if isinstance(parent, Tensor):
                    leaves[key] = parent
            else:
                pending[key] = earlier + gx
        if not retain_graph:
            fn.release()

    # Every node has run, so what is left in ``pending`` are the leaves' complete gradients.
    for key, leaf in leaves.items():
        if capture is None:
            _accumulate_grad(leaf, pending[key], stored)
        elif key in captured:
            captured[key] = pending[key]
    return [] if capture is None else [captured[id(t.grad_fn or t)] for t in capture]


def _accumulate_grad(tensor: Tensor, g: np.ndarray, stored: set[int]) -> None:
    """``tensor.grad += g``, so that no ``.grad`` ever shares memory with another, with any
    tensor's data, or with an array the user holds.

    A first gradient is kept without a copy only if nobody else can see it: a new writable
    array (not a view, not read-only tensor data), not already stored in this pass (``stored``
    holds those ids, and the seeds'). Anything else is copied.
    """
    if hooks.recorder is not None:
        return hooks.recorder.store_grad(tensor, g, stored)
    previous, dtype = tensor.grad, tensor._data.dtype
    if previous is not None:
        tensor.grad = (previous + g).astype(dtype, copy=False)
    elif (
        type(g) is np.ndarray
        and g.flags.writeable
        and g.base is None
        and id(g) not in stored
        and g.dtype == dtype
    ):
        tensor.grad = g
    else:
        tensor.grad = np.array(g, dtype=dtype)
    stored.add(id(tensor.grad))


def seed_gradient(output: Tensor, grad_output: Any, where: str) -> np.ndarray:
    """The starting gradient dLoss/d(output): 1 for a one-element output, else given."""
    if grad_output is None:
        if output.size != 1:
            raise RuntimeError(
                f"{where}: the output has shape {output.shape}, so a gradient of that shape must "
                "be given (it is implicit only for one-element outputs). "
                "Reduce to a scalar first (e.g. .sum()) or pass "
                + ("grad_outputs=..." if where == "grad" else "grad=...")
            )
        return np.ones(output.shape, output.dtype)  # a constant, also for compile's tape
    g = grad_output.data if isinstance(grad_output, Tensor) else np.asarray(grad_output)
    if g.shape != output.shape:
        raise ValueError(
            f"{where}: the gradient has shape {g.shape} but the output has shape "
            f"{output.shape}; expected equal shapes."
        )
    if g.dtype.kind not in "fiub":
        raise TypeError(f"{where}: the gradient has dtype {g.dtype}; expected a real dtype.")
    return g.astype(output.dtype, copy=False)


def backward(tensor: Tensor, grad: Any = None, retain_graph: bool = False) -> None:
    """Implements ``Tensor.backward``; see there."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: this tensor (shape {tensor.shape}) does not require grad, so no graph "
            "leads to it. Create the leaves with Tensor(..., requires_grad=True)."
        )
    seed = seed_gradient(tensor, grad, "backward")
    backpropagate([tensor], [seed], retain_graph=retain_graph)


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    retain_graph: bool | None = None,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned as Tensors.

    Unlike ``backward``, no ``.grad`` is touched. With ``create_graph=True`` the backward pass is
    itself recorded, so the returned gradients can be differentiated again (second derivatives).
    ``retain_graph`` defaults to ``create_graph``, as in PyTorch.

        >>> x = Tensor(3.0, requires_grad=True)
        >>> (dx,) = grad(x**3, x, create_graph=True)   # 3x² = 27
        >>> (dxx,) = grad(dx, x)                        # 6x = 18
    """
    if isinstance(outputs, Tensor):  # one output: grad_outputs is its one gradient
        outputs, grad_outputs = [outputs], [grad_outputs]
    outputs = list(outputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else list(grad_outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs; expected one "
            "gradient per output."
        )
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(f"grad: input {i} is not a Tensor that requires grad.")
    for i, y in enumerate(outputs):
        if not y.requires_grad:
            raise RuntimeError(
                f"grad: output {i} (shape {y.shape}) does not require grad, so it does not "
                "depend on any input that does."
            )

    seeds: list[Any] = []
    for y, g in zip(outputs, grad_outputs):
        if create_graph and isinstance(g, Tensor) and g.shape == y.shape:
            seeds.append(g)  # keeps its own graph, so the result can depend on it
        else:
            seed = seed_gradient(y, g, "grad")
            seeds.append(Tensor(seed) if create_graph else seed)  # Tensor: a read-only copy

    found = backpropagate(
        outputs,
        seeds,
        retain_graph=create_graph if retain_graph is None else retain_graph,
        create_graph=create_graph,
        capture=inputs,
    )
    results: list[Tensor | None] = []
    for i, (x, g) in enumerate(zip(inputs, found)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"grad: input {i} (shape {x.shape}) was not used to compute the outputs. "
                    "Pass allow_unused=True to get None for it."
                )
            results.append(None)
        elif isinstance(g, Tensor):
            results.append(g)
        else:
            results.append(Tensor(np.asarray(g, dtype=x.dtype)))  # a read-only copy
    return tuple(results)


# Tensor's methods call ops built on Function, and Function makes Tensors: each module imports
# the other at its end, once its own names exist.
from .tensor import Tensor  # noqa: E402

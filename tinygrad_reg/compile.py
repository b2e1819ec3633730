"""``compile(step)``: trace a training step once, then replay it as a flat list of calls.

How a tracing JIT works, in the small. An eager step pays Python for the graph on every call:
a node per op, a topological sort, a dictionary of pending gradients. But a step of a fixed
network makes the same numpy calls in the same order every time; only the arrays differ. So
the first call runs eagerly while a *recorder* writes down each call that computes something:

- every op's ``forward`` (``Function.__call__`` tells the recorder),
- every gradient rule the backward pass runs, each ``unbroadcast``, each sum of two
  gradients, each gradient stored into a leaf's ``.grad`` (``backpropagate`` tells it),
- ``optimizer.step()`` and ``zero_grad()`` (recorded as one call each: their Python
  bookkeeping, such as Adam's step count, must run again on every step).

Each entry of this *tape* is ``(function, argument slots, result slots)``. A slot is a
numbered place in a list of values: the step's input arrays, constants (numbers turned into
arrays, shapes, the op objects), and every array the step computes. Later calls *replay*: put
the new inputs in their slots and run the tape, ``values[out] = function(*values[args])``.
The replay calls the very same functions on the same kinds of arrays in the same order, so
its results equal the eager step's to the last bit; what it skips is the graph bookkeeping.

A tape is only valid for the shapes and dtypes it was recorded with: arguments with other
shapes get a trace of their own (recorded on their first call). What a replay cannot repeat
is detected while recording and raises ``TraceError``; see ``docs/compile.md`` for the list.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import Function, _accumulate_grad, tracing
from .tensor import Tensor

__all__ = ["TraceError", "compile"]


class TraceError(RuntimeError):
    """The step does something that a replay of its tape could not repeat faithfully."""


STORED = 0  # slot 0 holds, per replay, the engine's set of arrays already stored in a .grad


# --- the functions a tape calls besides the ops' own forward and backward ---------------------


def run_forward(fn: Function, *arrays: np.ndarray) -> np.ndarray:
    """What ``Function.__call__`` computes, without the graph: a read-only array."""
    out = fn.forward(*arrays)
    if type(out) is not np.ndarray:
        out = np.asarray(out)
    out.setflags(write=False)
    return out


def read_data(tensor: Tensor) -> np.ndarray:
    """A tensor from outside the step (a parameter, a constant): its values now."""
    return tensor._data


def store_grad(tensor: Tensor, was_none: bool, stored: set[int], g: np.ndarray) -> None:
    """The engine's ``.grad`` accumulation, checked to take the branch it took when recorded."""
    if (tensor.grad is None) != was_none:
        raise TraceError(
            f"compile: the .grad of a tensor of shape {tensor.shape} was "
            f"{'None' if was_none else 'set'} when the step was recorded but is "
            f"{'set' if was_none else 'None'} now: it was changed outside optimizer.zero_grad() "
            "or model.zero_grad() (e.g. p.grad = None), which compile cannot see. Clear "
            "gradients with zero_grad(), inside the step or before each call."
        )
    _accumulate_grad(tensor, g, stored)


# --- recording --------------------------------------------------------------------------------


class Recorder:
    """Writes the tape while the step runs eagerly (the engine, the optimizers and
    ``Tensor``'s value reads call the methods below through ``engine.tracing.recorder``).

    ``values[k]`` is what slot k held during the recording; keeping every value alive also
    keeps every ``id()`` in ``slot_of`` unique (a freed array's id could be reused)."""

    def __init__(self, inputs: list[Tensor]):
        self.values: list[Any] = [set()]
        self.constant: set[int] = {STORED}
        self.slot_of: dict[int, int] = {}  # id of a value → the slot that holds it
        self.tape: list[tuple[Callable[..., Any], tuple[int, ...], Any]] = []
        self.externals: list[tuple[Tensor, np.ndarray]] = []  # tensors read from outside
        self.written: set[int] = set()  # arrays that a recorded optimizer step assigned
        self.grads: dict[int, np.ndarray] = {}  # id of a tensor → the .grad the tape gave it
        self.optimizers: list[tuple[Any, list[int]]] = []  # (optimizer, ids of its params)
        self.functions: list[Function] = []
        self.inputs = [self.bind(t._data) for t in inputs]

    def bind(self, value: Any, constant: bool = False) -> int:
        """A new slot holding ``value``."""
        self.values.append(value)
        slot = len(self.values) - 1
        self.slot_of[id(value)] = slot
        if constant:
            self.constant.add(slot)
        return slot

    def slot(self, value: Any) -> int:
        """The slot of a value the tape computed; anything else becomes a constant."""
        slot = self.slot_of.get(id(value))
        if slot is not None:
            return slot
        if isinstance(value, np.ndarray):  # e.g. the seed 1 of backward: a private copy
            value = np.array(value)
            value.setflags(write=False)
        return self.bind(value, constant=True)

    def tensor_slot(self, tensor: Tensor) -> int:
        """The slot of a tensor's array; a tensor from outside the tape gets a read entry, so
        the replay sees its values at that moment (a parameter's change every step)."""
        slot = self.slot_of.get(id(tensor._data))
        if slot is None:
            self.externals.append((tensor, tensor._data))
            slot = self.bind(tensor._data)
            self.tape.append((read_data, (self.slot(tensor),), slot))
        return slot

    def outputs(self, result: Any) -> Any:
        """Slots for what a call returned: one, or one per entry of a tuple (None stays)."""
        if isinstance(result, tuple):
            return tuple(None if r is None else self.bind(r) for r in result)
        return self.bind(result)

    # --- called by the engine, the optimizers and Tensor ---

    def forward(self, fn: Function, inputs: tuple[Tensor, ...], out: np.ndarray) -> None:
        args = (self.slot(fn), *[self.tensor_slot(t) for t in inputs])
        self.functions.append(fn)
        self.tape.append((run_forward, args, self.bind(out)))

    def record(self, func: Callable[..., Any], args: tuple[Any, ...], result: Any) -> None:
        """``result = func(*args)`` just ran: write it down."""
        slots = tuple(self.slot(a) for a in args)
        self.tape.append((func, slots, self.outputs(result)))

    def store_grad(self, tensor: Tensor, g: np.ndarray, was_none: bool) -> None:
        if tensor.grad_fn is not None:
            raise TraceError(
                "compile: retain_grad() on an intermediate tensor cannot be replayed (each "
                "replay makes new tensors); read the gradients of parameters instead."
            )
        self.grads[id(tensor)] = tensor.grad
        entry = functools.partial(store_grad, tensor, was_none)
        self.tape.append((entry, (STORED, self.slot(g)), None))

    def call(self, method: Callable[[], None], params: list[Tensor] | None = None) -> None:
        """Run ``optimizer.step()`` or ``zero_grad()`` and record it as one call."""
        for i, p in enumerate(params or []):
            if p.grad is not None and self.grads.get(id(p)) is not p.grad:
                raise TraceError(
                    f"compile: params[{i}] (shape {p.shape}) has a .grad that the traced "
                    "backward did not produce (set or changed by Python code in the step, e.g. "
                    "clipped in numpy); a replay would not repeat that. Compute it with ops."
                )
        tracing.recorder = None  # what the method does inside is its own business
        try:
            method()
        finally:
            tracing.recorder = self
        self.tape.append((method, (), None))
        if params is not None:
            self.written.update(id(p._data) for p in params)
            self.optimizers.append((method.__self__, [id(p) for p in params]))

    def check_backward(self, create_graph: bool, capture: Any) -> None:
        if create_graph or capture is not None:
            raise TraceError(
                "compile: grad() and create_graph=True cannot be traced yet; use "
                "loss.backward() in a compiled step."
            )

    def value_read(self, tensor: Tensor, what: str) -> None:
        if id(tensor._data) in self.slot_of or tensor.requires_grad:
            raise TraceError(
                f"compile: {what} reads the values of a tensor of shape {tensor.shape} into "
                "Python while the step is being traced; the replay could not follow what the "
                "step does with them (a branch, a mask). Keep the step to tensor ops, "
                "backward() and optimizer calls, and read values outside the compiled "
                "function, from the tensors it returns (e.g. cost.item())."
            )

    # --- the end of the recording ---

    def finish(self, result: Any) -> tuple[Trace, Any]:
        """The trace, and the step's result with every Tensor detached."""
        for tensor, array in self.externals:
            now = tensor._data
            if now is not array and id(now) not in self.written:
                raise TraceError(
                    f"compile: the step replaced the values of a tensor of shape "
                    f"{tensor.shape} other than by optimizer.step() (p.data = ..., p -= ..., "
                    "apply_max_norm); a replay would not repeat that. Use an optimizer, or do "
                    "it after calling the compiled step."
                )
        if result is None:
            out: Any = None
        elif isinstance(result, Tensor):
            out = self.tensor_slot(result)
        elif isinstance(result, (tuple, list)) and all(isinstance(t, Tensor) for t in result):
            out = (type(result), [self.tensor_slot(t) for t in result])
        else:
            raise TraceError(
                f"compile: the step returned a {type(result).__name__}; expected None, a "
                "Tensor, or a tuple or list of Tensors."
            )
        for fn in self.functions:  # the recorded graph is not needed any more
            fn.release()
        trace = Trace(self, out)
        return trace, trace.outputs(self.values)


# --- replaying --------------------------------------------------------------------------------


class Trace:
    """A tape ready to replay: each entry is (function, argument slots, result slots, slots
    no later entry reads, which are freed right away so memory stays as low as eager)."""

    def __init__(self, recorder: Recorder, out: Any):
        self.inputs = recorder.inputs
        self.out = out
        self.initial = [
            v if k in recorder.constant else None for k, v in enumerate(recorder.values)
        ]
        self.externals = [(t, a.shape, a.dtype) for t, a in recorder.externals]
        self.optimizers = recorder.optimizers
        kept = recorder.constant | set(self.inputs) | set(self.output_slots())
        last_use: dict[int, int] = {}
        for i, (_, args, results) in enumerate(recorder.tape):
            written = results if isinstance(results, tuple) else (results,)
            for slot in (*args, *written):
                if slot is not None and slot not in kept:
                    last_use[slot] = i
        dead: list[list[int]] = [[] for _ in recorder.tape]
        for slot, i in last_use.items():
            dead[i].append(slot)
        self.tape = [
            (func, args, results, tuple(dead[i]))
            for i, (func, args, results) in enumerate(recorder.tape)
        ]

    def output_slots(self) -> list[int]:
        if self.out is None:
            return []
        return [self.out] if isinstance(self.out, int) else self.out[1]

    def still_valid(self) -> bool:
        """Do the tensors from outside still have the recorded shapes and dtypes, and the
        optimizers the same parameters? If not, the step is traced again."""
        for tensor, shape, dtype in self.externals:
            if tensor._data.shape != shape or tensor._data.dtype != dtype:
                return False
        return all([id(p) for p in opt.params] == ids for opt, ids in self.optimizers)

    def replay(self, inputs: list[Tensor]) -> Any:
        values = self.initial.copy()
        values[STORED] = set()
        for slot, tensor in zip(self.inputs, inputs):
            values[slot] = tensor._data
        for func, args, results, dead in self.tape:
            result = func(*[values[k] for k in args])
            if type(results) is int:
                values[results] = result
            elif results is not None:
                for slot, r in zip(results, result):
                    if slot is not None:
                        values[slot] = r
            for k in dead:
                values[k] = None
        return self.outputs(values)

    def outputs(self, values: list[Any]) -> Any:
        if self.out is None:
            return None
        if isinstance(self.out, int):
            return Tensor._from_op(values[self.out], None)
        kind, slots = self.out
        return kind(Tensor._from_op(values[k], None) for k in slots)


# --- the public function ----------------------------------------------------------------------


class Compiled:
    """The callable ``compile`` returns: one trace per signature of the arguments."""

    def __init__(self, step_fn: Callable[..., Any]):
        self.step_fn = step_fn
        self.traces: dict[Any, Trace] = {}
        self.recordings = 0  # how many times the step was traced (first calls and retraces)
        functools.update_wrapper(self, step_fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if tracing.recorder is not None:
            raise TraceError("compile: a compiled function was called inside another's trace.")
        names = sorted(kwargs)
        values = [*args, *[kwargs[name] for name in names]]
        key: list[Any] = [len(args), *names]
        converted, tensors = [], []
        for i, value in enumerate(values):
            value, signature = _argument(value, i)
            key.append(signature)
            converted.append(value)
            if isinstance(value, Tensor):
                tensors.append(value)
        trace = self.traces.get(tuple(key))
        if trace is not None and trace.still_valid():
            return trace.replay(tensors)

        call_args = converted[: len(args)]
        call_kwargs = dict(zip(names, converted[len(args) :]))
        recorder = Recorder(tensors)
        tracing.recorder = recorder
        try:
            result = self.step_fn(*call_args, **call_kwargs)
        finally:
            tracing.recorder = None
        trace, detached = recorder.finish(result)
        self.traces[tuple(key)] = trace
        self.recordings += 1
        return detached


def _argument(value: Any, i: int) -> tuple[Any, Any]:
    """An argument as the step receives it, and what of it selects the trace."""
    if isinstance(value, np.ndarray):
        value = Tensor(value)
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TraceError(
                f"compile: argument {i} (shape {value.shape}) requires grad; pass parameters "
                "through the model or optimizer the step uses, and only data as arguments."
            )
        return value, ("tensor", value.shape, value.dtype)
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"compile: argument {i} is a {type(value).__name__}; expected Tensors, numpy "
            "arrays, or hashable values (numbers, strings), which select the trace."
        ) from None
    return value, ("static", type(value), value)


def compile(step_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``step_fn`` traced on its first call and replayed on later ones, with the same results
    to the last bit.

    ``step_fn`` takes Tensors or arrays (data, which may change between calls; arrays are
    passed to it as Tensors) and other hashable values (which select a trace), computes a
    cost, may call ``backward``, ``zero_grad`` and ``optimizer.step()``, and returns None, a
    Tensor or a tuple of Tensors (returned detached: read them with ``.item()``). A call whose
    arguments have new shapes or dtypes, or whose optimizer has other parameters, is traced
    anew. See ``docs/compile.md`` for what cannot be traced.

    >>> step = compile(lambda X, Y: train_step(model, optimizer, X, Y))
    >>> cost = step(X, Y)    # records
    >>> cost = step(X, Y)    # replays
    """
    return Compiled(step_fn)

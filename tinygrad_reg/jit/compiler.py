"""``compile(step)``: record a training step's numpy calls once, then replay them.

An eager step pays Python on every call: a node per op, a topological sort, a dictionary of
pending gradients, a new array for every result. But a step of a fixed network makes the same
numpy calls in the same order every time; only the values differ. So the first call runs
eagerly while ``tape.py`` writes down each numpy call it makes, with its result going into a
buffer allocated once; later calls *replay* that list, ``for f, args in entries: f(*args)``.

This module is the part around the tape:

- **what comes from outside.** The step's arguments are copied into input buffers on every
  call. A tensor the step reads from outside (a parameter, a constant) gets a buffer of its own
  the first time an op reads it; before each replay, if the tensor's array was replaced since
  (``load_state_dict``, an eager step in between), its new values are copied in (``sync``).
- **what the engine and optimizers tell the recorder** (through ``engine.hooks.recorder``):
  the ops' inputs, gradients stored into ``.grad`` (the tape sets ``.grad`` again on replay),
  ``zero_grad`` and ``optimizer.step()``. Plain SGD is recorded call by call and updates the
  parameters in place, in their buffers; an optimizer with Python state of its own (momentum
  buffers, Adam's step count) runs its ``step()`` as one Python call on every replay.
- **retracing.** One trace per signature of the arguments (shapes, dtypes, other values); a
  tensor from outside with a new shape or dtype, or an optimizer with other parameters, makes
  the step be recorded again. A failed guard (tape.py) means the step took another path
  through its Python: the next trace of that signature is tried, else the call is recorded.

The replay makes the same numpy calls on the same values as the eager step, so its results
are equal to the last bit; only the arrays they write into differ.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import Function, hooks
from ..tensor import Tensor
from .tape import GuardFailed, Tape, Traced, TraceError, check, plain

__all__ = ["TraceError", "compile"]


class Retrace(Exception):
    """A tensor from outside changed shape or dtype, or an optimizer its parameters."""


def read_only_view(array: np.ndarray) -> np.ndarray:
    view = array.view(np.ndarray)
    view.flags.writeable = False
    return view


# --- entries that run at the start of each replay or in place of Python ----------------------


def sync(tensor: Tensor, name: str, buffer: np.ndarray, view: np.ndarray) -> None:
    """Before a replay: a tensor's array (``_data`` or ``grad``) replaced since the last call
    is copied into the buffer the tape reads."""
    current = getattr(tensor, name)
    if current is None or current.shape != view.shape or current.dtype != view.dtype:
        raise Retrace
    if not buffer.flags.writeable:  # a constant's own array, adopted without a copy
        raise Retrace
    np.copyto(buffer, current)
    setattr(tensor, name, view)


def grad_changed_outside(tensor: Tensor) -> TraceError:
    """Before a replay: the step was recorded storing a first gradient into this ``.grad``."""
    return TraceError(
        f"compile: the .grad of a tensor of shape {tensor.shape} was None when the step was "
        "recorded but is set now: it was changed outside optimizer.zero_grad() or "
        "model.zero_grad() (e.g. p.grad = None), which compile cannot see. Clear "
        "gradients with zero_grad(), inside the step or before each call."
    )


def step_in_place(optimizer: Any, params: list[tuple[Tensor, np.ndarray, np.ndarray]]) -> None:
    """``optimizer.step()`` as Python, then each new parameter value copied into its buffer."""
    optimizer.step()
    for tensor, buffer, array in params:
        if tensor._data is not array:
            np.copyto(buffer, tensor._data)
            tensor._data = array


def same_array(a: np.ndarray, b: np.ndarray) -> bool:
    """Do ``a`` and ``b`` see the same memory in the same way?"""
    return (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def random_state(rng: Any) -> Any:
    return rng.bit_generator.state if isinstance(rng, np.random.Generator) else rng.get_state()


def set_random_state(rng: Any, state: Any) -> None:
    if isinstance(rng, np.random.Generator):
        rng.bit_generator.state = state
    else:
        rng.set_state(state)


# --- recording --------------------------------------------------------------------------------


class External:
    """An array from outside the step that the tape reads: a tensor's ``_data`` or ``grad``.

    While recording, the tensor holds ``traced`` (a Traced view of ``buffer``, or for a
    constant the array itself: see ``Recorder.adopt``); afterwards ``view`` (read-only).
    ``before`` is what it held first, put back if the recording fails."""

    def __init__(
        self, tensor: Tensor, name: str, before: np.ndarray, buffer: np.ndarray, constant: bool
    ):
        self.tensor, self.name, self.before, self.buffer = tensor, name, before, buffer
        self.traced = buffer if constant else buffer.view(Traced)
        self.view = read_only_view(buffer)


class Recorder(Tape):
    """The tape of one step, plus what the engine, the optimizers and ``Tensor`` report."""

    def __init__(self, inputs: list[Tensor]):
        super().__init__()
        self.syncs: list[tuple[Tensor, str, np.ndarray, np.ndarray]] = []  # see sync()
        self.fresh_grads: list[Tensor] = []  # tensors whose .grad must be None at the start
        self.externals: list[External] = []
        self.views: dict[int, np.ndarray] = {}  # id of a Traced .grad → its view after
        self.zeroed: set[int] = set()  # tensors whose .grad a recorded zero_grad cleared
        self.optimizers: list[tuple[Any, tuple[Tensor, ...]]] = []
        self.generators: list[Any] = []
        self.constants: dict[int, np.ndarray] = {}  # id of a tensor → its constant array
        self.input_ids = {id(t) for t in inputs}  # by identity: == compares values
        self.inputs = [self.adopt(t, "_data").buffer for t in inputs]

    def adopt(self, tensor: Tensor, name: str) -> External:
        """A buffer for an array from outside the step, which the tensor holds from now on: a
        copy, unless the replay never writes it and nobody can change it: a *constant*, a
        read-only array that owns its memory, such as the data X of a closure. A constant is
        not Traced: what the step computes from it alone (checks on labels, say) is computed
        once, while recording; replacing it makes the step record again (``sync``)."""
        array = getattr(tensor, name)
        written = id(tensor) in self.input_ids or tensor.requires_grad or name == "grad"
        constant = not (written or array.flags.writeable or array.base is not None)
        buffer = array if constant else np.array(array, order="K")
        if not constant:
            self.buffers.append(buffer)
        external = External(tensor, name, array, buffer, constant)
        self.externals.append(external)
        if constant:
            self.constants[id(tensor)] = array
        setattr(tensor, name, external.traced)
        return external

    # --- called by the engine ---

    def arrays_of(self, tensors: tuple[Tensor, ...]) -> tuple[np.ndarray, ...]:
        """An op's input arrays: Traced arrays and constants (a tensor from outside is
        adopted the first time)."""
        arrays = []
        for t in tensors:
            data = t._data
            if not isinstance(data, Traced) and self.constants.get(id(t)) is not data:
                data = self.external(t, "_data")
            arrays.append(data)
        return tuple(arrays)

    def external(self, tensor: Tensor, name: str) -> np.ndarray:
        """A tensor from outside the step: adopted, and synced before each replay."""
        array = getattr(tensor, name)
        if any(np.may_share_memory(array, b) for b in self.buffers):
            raise TraceError(  # a bug of the library, not of the step: say where to look
                f"compile: a tensor of shape {tensor.shape} holds a plain view of an array the "
                "step computed (np.asarray on a traced array inside an op?); it would not be "
                "recomputed on replay."
            )
        external = self.adopt(tensor, name)
        self.syncs.append((tensor, name, external.buffer, external.view))
        return external.traced

    def forward(self, fn: Function, arrays: tuple[Traced, ...]) -> Any:
        if type(fn).__module__.startswith("tinygrad_reg."):
            return fn.forward(*arrays)
        return self.python_call(fn.forward, arrays)

    def backward(self, fn: Function, g: Any, out: Any, saved: tuple[Any, ...]) -> Any:
        if type(fn).__module__.startswith("tinygrad_reg."):
            return fn.backward(g, out, *saved)
        return self.python_call(fn.backward, (g, out, *saved))

    def python_call(self, function: Callable[..., Any], arrays: tuple[Any, ...]) -> Any:
        """An op of yours (a Function defined outside the library): its numpy calls are not
        known to be recordable, so its method runs as Python on every replay."""
        args = plain(arrays)
        hooks.recorder = None
        try:
            result = function(*args)
        finally:
            hooks.recorder = self
        return self.result(function, args, result, [])

    def draw(self, rng: Any, shape: tuple[int, ...]) -> Traced:
        """``rng.random(shape)``, drawn again on every replay (a dropout mask)."""
        self.generators.append(rng)
        return self.result(rng.random, (shape,), rng.random(shape), [])

    def store_grad(self, tensor: Tensor, g: Traced, stored: set[int]) -> None:
        """The engine's ``tensor.grad += g``, recorded; the replay sets ``.grad`` again."""
        if tensor.grad_fn is not None:
            raise TraceError(
                "compile: retain_grad() on an intermediate tensor cannot be replayed (each "
                "replay makes new tensors); read the gradients of parameters instead."
            )
        previous = tensor.grad
        if previous is None:
            if id(tensor) not in self.zeroed:
                self.fresh_grads.append(tensor)
                self.zeroed.add(id(tensor))
            owned = getattr(g, "buffer", None) is not None and id(g) not in stored
            new = g if owned and g.dtype == tensor.dtype else g.astype(tensor.dtype)
        else:
            if not isinstance(previous, Traced):
                previous = self.external(tensor, "grad")
            new = (previous + g).astype(tensor.dtype, copy=False)
        tensor.grad = new
        stored.add(id(new))
        view = self.views[id(new)] = read_only_view(new)
        self.write(setattr, (tensor, "grad", view))

    def check_backward(self, create_graph: bool, capture: Any) -> None:
        if create_graph or capture is not None:
            raise TraceError(
                "compile: grad() and create_graph=True cannot be traced yet; use "
                "loss.backward() in a compiled step."
            )

    def value_read(self, tensor: Tensor, what: str) -> None:
        if isinstance(tensor._data, Traced) or tensor.requires_grad:
            raise TraceError(
                f"compile: {what} reads the values of a tensor of shape {tensor.shape} into "
                "Python while the step is being traced; the replay could not follow what the "
                "step does with them (a branch, a mask). Keep the step to tensor ops, "
                "backward() and optimizer calls, and read values outside the compiled "
                "function, from the tensors it returns (e.g. cost.item())."
            )

    # --- called by the optimizers and modules ---

    def zero_grad(self, params: list[Tensor]) -> None:
        for p in params:
            p.grad = None
            self.zeroed.add(id(p))
            self.write(setattr, (p, "grad", None))

    def optimizer_step(self, optimizer: Any) -> None:
        params = list(optimizer.params)
        for i, p in enumerate(params):
            if p.grad is not None and id(p.grad) not in self.views:
                raise TraceError(
                    f"compile: params[{i}] (shape {p.shape}) has a .grad that the traced "
                    "backward did not produce (set or changed by Python code in the step, e.g. "
                    "clipped in numpy); a replay would not repeat that. Compute it with ops."
                )
        self.optimizers.append((optimizer, tuple(params)))
        if optimizer.replays_update():
            for p, state in zip(params, optimizer.state):
                if p.grad is not None:
                    new = optimizer.update(self.arrays_of((p,))[0], p.grad, state)
                    self.write_back(p, new if new.dtype == p.dtype else new.astype(p.dtype))
        else:
            adopted = [self.parameter(p) for p in params]
            hooks.recorder = None
            try:
                step_in_place(optimizer, [(e.tensor, e.buffer, e.traced) for e in adopted])
            finally:
                hooks.recorder = self
            self.write(step_in_place, (optimizer, [(e.tensor, e.buffer, e.view) for e in adopted]))
        self.effects = True

    def parameter(self, p: Tensor) -> External:
        """The External of a parameter's ``_data`` (adopted now if no op has read it yet)."""
        self.arrays_of((p,))
        return next(e for e in self.externals if e.tensor is p and e.name == "_data")

    def write_back(self, p: Tensor, new: Traced) -> None:
        """The parameter's new values into its own buffer: the entry that computed them writes
        there directly if it can (an elementwise ufunc, which may overwrite its input)."""
        buffer = self.parameter(p).buffer
        function, args = self.entries[-1]
        if isinstance(function, np.ufunc) and args[-1] is getattr(new, "buffer", None):
            # out= the very input array that reads the parameter, if there is one: numpy
            # skips its overlap check when an input is the output
            same = [a for a in args[:-1] if isinstance(a, np.ndarray) and same_array(a, buffer)]
            self.entries[-1] = (function, (*args[:-1], same[0] if same else buffer))
        else:
            self.write(np.copyto, (buffer, plain(new)))
        np.copyto(buffer, plain(new))

    # --- the end of the recording ---

    def finish(self, result: Any) -> tuple[Trace, Any]:
        """The trace, and the step's result detached (copies)."""
        for e in self.externals:
            if (
                e.name == "_data"
                and e.tensor._data is not e.traced
                and id(e.tensor) not in self.input_ids
            ):
                raise TraceError(
                    f"compile: the step replaced the values of a tensor of shape "
                    f"{e.tensor.shape} other than by optimizer.step() (p.data = ..., p -= ..., "
                    "apply_max_norm); a replay would not repeat that. Use an optimizer, or do "
                    "it after calling the compiled step."
                )
        if result is None:
            outputs: Any = None
        elif isinstance(result, Tensor):
            outputs = plain(result._data)
        elif isinstance(result, (tuple, list)) and all(isinstance(t, Tensor) for t in result):
            outputs = (type(result), [plain(t._data) for t in result])
        else:
            raise TraceError(
                f"compile: the step returned a {type(result).__name__}; expected None, a "
                "Tensor, or a tuple or list of Tensors."
            )
        returned = (
            [] if outputs is None else [outputs] if isinstance(outputs, np.ndarray) else outputs[1]
        )
        after = self.share_memory(
            [e.buffer for e in self.externals], [*self.views.values(), *returned]
        )
        self.views = dict(zip(self.views, after))
        returned = after[len(self.views) :]
        if outputs is not None:
            outputs = returned[0] if isinstance(outputs, np.ndarray) else (outputs[0], returned)
        self.restore(keep=True)
        trace = Trace(self, outputs)
        return trace, trace.outputs()

    def restore(self, keep: bool) -> None:
        """Tensors from outside hold plain arrays again: the buffer's read-only view (``keep``:
        the recording succeeded) or the array they had before."""
        for e in reversed(self.externals):
            if id(e.tensor) in self.input_ids:
                e.tensor._data = e.before
            elif getattr(e.tensor, e.name) is e.traced:
                setattr(e.tensor, e.name, e.view if keep else e.before)
        for tensor in {id(e.tensor): e.tensor for e in self.externals}.values():
            if isinstance(tensor.grad, Traced):
                tensor.grad = self.views.get(id(tensor.grad)) if keep else None


# --- replaying --------------------------------------------------------------------------------


def without_cleared_grads(entries: list[Any]) -> list[Any]:
    """The tape without each ``p.grad = None`` (from ``zero_grad``) that a later entry
    overwrites before an optimizer's Python step could read it: a dead store."""
    overwritten: set[int] = set()
    kept = []
    for function, args in reversed(entries):
        if function is setattr:
            if args[2] is None and id(args[0]) in overwritten:
                continue
            overwritten.add(id(args[0]))
        elif function is step_in_place:
            overwritten.clear()
        kept.append((function, args))
    return kept[::-1]


class Trace:
    """A recorded step, ready to replay."""

    def __init__(self, recorder: Recorder, outputs: Any):
        self.entries = without_cleared_grads(recorder.entries)
        self.syncs = recorder.syncs
        self.fresh_grads = recorder.fresh_grads
        self.inputs = recorder.inputs
        self.out = outputs
        self.optimizers = [(opt, [id(p) for p in params]) for opt, params in recorder.optimizers]
        self.generators = recorder.generators if recorder.guards else []
        # the .grad a replay may have set before a guard stops it, put back if one does
        guards = [i for i, (function, _) in enumerate(self.entries) if function is check]
        before = self.entries[: guards[-1]] if guards else []
        self.grads_set = list({id(a[0]): a[0] for f, a in before if f is setattr}.values())
        self.buffers = recorder.buffers

    def nbytes(self) -> int:
        """Memory the trace allocated: its buffers, copies of inputs and parameters included."""
        return sum(b.nbytes for b in self.buffers)

    def replay(self, arrays: list[np.ndarray]) -> Any:
        for optimizer, ids in self.optimizers:
            if list(map(id, optimizer.params)) != ids:
                raise Retrace
        for tensor, name, buffer, view in self.syncs:
            if getattr(tensor, name) is not view:
                sync(tensor, name, buffer, view)
        for tensor in self.fresh_grads:
            if tensor.grad is not None:
                raise grad_changed_outside(tensor)
        for buffer, array in zip(self.inputs, arrays):
            np.copyto(buffer, array)
        states = [random_state(rng) for rng in self.generators]
        grads = [tensor.grad for tensor in self.grads_set]
        try:
            for function, args in self.entries:
                function(*args)
        except GuardFailed:  # as it was before this replay: another trace runs in its place
            for rng, state in zip(self.generators, states):
                set_random_state(rng, state)
            for tensor, grad in zip(self.grads_set, grads):
                tensor.grad = grad
            raise
        return self.outputs()

    def outputs(self) -> Any:
        if self.out is None:
            return None
        if isinstance(self.out, np.ndarray):
            return copied(self.out)
        kind, arrays = self.out
        return kind(copied(a) for a in arrays)


# --- the public function ----------------------------------------------------------------------


PATHS = 8  # traces kept per signature: one per path through the step's guards


class Compiled:
    """The callable ``compile`` returns. Per signature of the arguments it keeps a list of
    traces, one per path the step took (guards tell them apart), most recently used first;
    and one such dictionary per thread (a replay writes into its trace's buffers)."""

    def __init__(self, step_fn: Callable[..., Any]):
        self.step_fn = step_fn
        self.per_thread = threading.local()
        self.recordings = 0  # how many times the step was recorded (first calls and retraces)
        self.guard_failures = 0  # replays a guard stopped (another path was tried or recorded)
        functools.update_wrapper(self, step_fn)

    @property
    def traces(self) -> dict[Any, list[Trace]]:
        """This thread's traces, by signature of the arguments."""
        if not hasattr(self.per_thread, "traces"):
            self.per_thread.traces = {}
        return self.per_thread.traces

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if hooks.recorder is not None:
            raise TraceError("compile: a compiled function was called inside another's trace.")
        names = sorted(kwargs)
        values = [*args, *[kwargs[name] for name in names]] if kwargs else args
        key: list[Any] = [len(args), *names]
        arrays = []  # the data arguments' arrays, which a replay copies into its buffers
        for i, value in enumerate(values):
            array, signature = _argument(value, i)
            key.append(signature)
            if array is not None:
                arrays.append(array)
        paths = self.traces.setdefault(tuple(key), [])
        for trace in list(paths):
            try:
                result = trace.replay(arrays)
            except GuardFailed:  # the step takes another path now
                self.guard_failures += 1
                continue
            except Retrace:  # something from outside changed: record anew
                paths.clear()
                break
            if trace is not paths[0]:
                paths.remove(trace)
                paths.insert(0, trace)
            return result

        call_args, call_kwargs = _as_tensors(args), _as_tensors(kwargs)
        tensors = [v for v in [*call_args, *call_kwargs.values()] if isinstance(v, Tensor)]
        recorder = Recorder(tensors)
        hooks.recorder = recorder
        try:
            result = self.step_fn(*call_args, **call_kwargs)
            trace, detached = recorder.finish(result)
        except BaseException:
            recorder.restore(keep=False)
            raise
        finally:
            hooks.recorder = None
        paths.insert(0, trace)
        del paths[PATHS:]
        self.recordings += 1
        return detached


def copied(array: np.ndarray) -> Tensor:
    """A Tensor of a copy: the buffer is overwritten by the next replay."""
    copy = array.copy()
    copy.flags.writeable = False
    return Tensor._from_op(copy, None)


def _argument(value: Any, i: int) -> tuple[np.ndarray | None, Any]:
    """An argument's array (None if it is not data) and what of it selects the trace."""
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise TraceError(
                f"compile: argument {i} (shape {value.shape}) requires grad; pass parameters "
                "through the model or optimizer the step uses, and only data as arguments."
            )
        return value._data, ("data", value.shape, value.dtype)
    if isinstance(value, np.ndarray):
        return value, ("data", value.shape, value.dtype)
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"compile: argument {i} is a {type(value).__name__}; expected Tensors, numpy "
            "arrays, or hashable values (numbers, strings), which select the trace."
        ) from None
    return None, ("static", type(value), value)


def _as_tensors(values: Any) -> Any:
    """The arguments as the step receives them: arrays become Tensors."""
    if isinstance(values, dict):
        return {k: Tensor(v) if isinstance(v, np.ndarray) else v for k, v in values.items()}
    return [Tensor(v) if isinstance(v, np.ndarray) else v for v in values]


def compile(step_fn: Callable[..., Any]) -> Callable[..., Any]:
    """``step_fn`` recorded on its first call and replayed on later ones, with the same results
    to the last bit.

    ``step_fn`` takes Tensors or arrays (data, which may change between calls; arrays are
    passed to it as Tensors) and other hashable values (which select a trace), computes a
    cost, may call ``backward``, ``zero_grad`` and ``optimizer.step()``, and returns None, a
    Tensor or a tuple of Tensors (returned as copies, without a graph). A call whose arguments
    have new shapes or dtypes, or whose optimizer has other parameters, is recorded anew.
    Parameters live in the trace's buffers from the first call on and are updated in place.
    See ``docs/compile.md`` for what cannot be traced.

        >>> step = compile(lambda X, Y: train_step(model, optimizer, X, Y))
        >>> cost = step(X, Y)    # records
        >>> cost = step(X, Y)    # replays
    """
    return Compiled(step_fn)

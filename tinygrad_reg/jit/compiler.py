"""``compile(step)``: record a training step's numpy calls once, then replay them.

An eager step pays Python on every call: a node per op, a topological sort, a dictionary of
pending gradients, a new array for every result. But a step of a fixed network makes the same
numpy calls in the same order every time; only the values differ. So the first call runs
eagerly while ``tape.py`` writes down each numpy call it makes, with its result going into a
buffer allocated once (``recorder.py`` hears what the engine, the modules and the optimizers do
meanwhile); later calls *replay* that list, ``for f, args in entries: f(*args)``.

This module is the part around the tape:

- **a replay changes nothing if it fails.** Whatever raises in the middle of a replay (a
  Function of yours, numpy under ``np.errstate(all="raise")``, Ctrl-C), the parameters, their
  ``.grad``, the optimizers' state and the random generators are as before the call. A replay
  writes no array the user can see: a trace has two *runs*, the recorded entries and the same
  entries with the memory of the parameters and of the gradients swapped for a second copy
  (``mirror``); calls alternate between them, each reading the arrays the last one left and
  writing the others. What a replay sets (``p.data``, ``p.grad``) and the state that Python
  code changes (an optimizer's, a generator's) are saved before it and put back on failure.
- **settings.** Before a replay, each ``Settings`` of the trace follows the hyperparameters of
  a recorded update (a new ``lr`` is written into the cells the tape reads) and refuses the
  trace if a change may take the step down another path.
- **retracing.** One trace per signature of the arguments (shapes, dtypes, other values); a
  tensor from outside with a new shape or dtype, or an optimizer with other parameters, makes
  the step be recorded again. A failed guard (tape.py) or setting means the step took another
  path through its Python: the next trace of that signature is tried, else the call is
  recorded.
- **threads.** Each thread records its own traces; calls of one compiled function run one at a
  time (a lock), so two threads sharing a model step it as eager calls in that order would.

The replay makes the same numpy calls on the same values as the eager step, so its results
are equal to the last bit; only the arrays they write into differ.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import hooks
from ..tensor import Tensor
from .memory import Views, roots
from .recorder import (
    Recorder,
    Retrace,
    optimizer_state,
    random_state,
    set_optimizer_state,
    set_random_state,
    sync,
)
from .tape import GuardFailed, TraceError, step_in_place

__all__ = ["TraceError", "compile"]


def grad_changed_outside(tensor: Tensor) -> TraceError:
    """Before a replay: the step was recorded storing a first gradient into this ``.grad``."""
    return TraceError(
        f"compile: the .grad of a tensor of shape {tensor.shape} was None when the step was "
        "recorded but is set now: it was changed outside optimizer.zero_grad() or "
        "model.zero_grad() (e.g. p.grad = None), which compile cannot see. Clear "
        "gradients with zero_grad(), inside the step or before each call."
    )


def mirror(recorder: Recorder) -> tuple[Views, list[np.ndarray]]:
    """How the second run differs from the first: each updated parameter's two buffers
    swapped (it reads the one the first run writes, and writes the other), and new memory for
    every block a ``.grad`` lives in; the rest (inputs, intermediates) is shared."""
    moved: dict[int, np.ndarray] = {}
    views = Views(moved)
    outside = {id(e.buffer) for e in recorder.externals.values()}
    for e in recorder.externals.values():
        if e.next is not None:
            moved[id(e.buffer)], moved[id(e.next)] = e.next, e.buffer
            for array, memory in [(e.buffer, e.buffer), (e.next, e.next)]:
                views.reuse(array, memory)
            views.reuse(e.view, e.buffer)  # the views tensors hold stay the same objects
            views.reuse(e.next_view, e.next)
    number = {id(b): k for k, b in enumerate(recorder.buffers)}
    memory = []
    for root in roots(list(recorder.views.values()), number):
        if id(root) not in moved and id(root) not in outside:
            moved[id(root)] = np.empty_like(root)
            memory.append(moved[id(root)])
    return views, memory


class Run:
    """One of a trace's two runs: the syncs before its entries, the entries, the outputs."""

    def __init__(self, syncs: list[Any], entries: list[Any], out: Any):
        self.syncs, self.entries, self.out = syncs, entries, out


class Trace:
    """A recorded step, ready to replay."""

    def __init__(self, recorder: Recorder, outputs: Any):
        entries = recorder.entries  # optimized (tape_optimizer.py), memory shared
        self.recorded_calls = recorder.recorded_calls
        views, memory = mirror(recorder)
        self.runs = (
            Run(recorder.syncs, entries, outputs),
            Run(*views.rewrite((recorder.syncs, entries, outputs), writeable=None)),
        )
        self.turn = 1  # the recording left the parameters where the first run writes them
        self.fresh_grads = recorder.fresh_grads
        self.inputs = recorder.inputs
        self.optimizers = [(opt, [id(p) for p in params]) for opt, params in recorder.optimizers]
        self.settings = recorder.settings
        self.generators = list(recorder.generators.values())
        self.steppers = list({id(o): o for o in recorder.steppers}.values())
        # what a replay sets on tensors, saved before it and put back if it fails
        watched = {(id(t), name): (t, name) for t, name, _, _ in recorder.syncs}
        for function, args in entries:
            if function is setattr:
                watched[(id(args[0]), args[1])] = (args[0], args[1])
            elif function is step_in_place:
                watched.update({(id(t), "_data"): (t, "_data") for t, _, _ in args[1]})
        self.watched = [t for t, _ in watched.values()]
        self.names = [name for _, name in watched.values()]
        self.buffers = recorder.buffers + memory

    @property
    def entries(self) -> list[Any]:
        """The recorded entries (the second run's are the same calls on other memory)."""
        return self.runs[0].entries

    @property
    def calls(self) -> int:
        """The calls a replay makes (its entries), after ``tape_optimizer.optimize``; the
        recording made ``recorded_calls``."""
        return len(self.entries)

    @property
    def syncs(self) -> list[Any]:
        return self.runs[0].syncs

    def nbytes(self) -> int:
        """Memory the trace allocated: its buffers, copies of inputs and parameters included."""
        return sum(b.nbytes for b in self.buffers)

    def replay(self, arrays: list[np.ndarray]) -> Any:
        for optimizer, ids in self.optimizers:
            if list(map(id, optimizer.params)) != ids:
                raise Retrace
            optimizer.check_changed_param_groups()  # a bad value in a group raises as in step()
        for settings in self.settings:
            settings.follow()
        run = self.runs[self.turn]
        saved = list(map(getattr, self.watched, self.names))
        states = [random_state(rng) for rng in self.generators]
        optimizers = [optimizer_state(optimizer) for optimizer in self.steppers]
        try:
            for tensor, name, buffer, view in run.syncs:
                if getattr(tensor, name) is not view:
                    sync(tensor, name, buffer, view)
            for tensor in self.fresh_grads:
                if tensor.grad is not None:
                    raise grad_changed_outside(tensor)
            for buffer, array in zip(self.inputs, arrays):
                np.copyto(buffer, array)
            for function, args in run.entries:
                function(*args)
            result = outputs(run.out)
        except BaseException:  # as before the call (GuardFailed: another trace runs instead)
            for tensor, name, value in zip(self.watched, self.names, saved):
                setattr(tensor, name, value)
            for rng, state in zip(self.generators, states):
                set_random_state(rng, state)
            for state in optimizers:
                set_optimizer_state(state)
            raise
        self.turn ^= 1
        return result


def outputs(out: Any) -> Any:
    """What the step returned, as copies: the buffers are overwritten by the next replay."""
    if out is None:
        return None
    if isinstance(out, np.ndarray):
        return copied(out)
    kind, arrays = out
    return kind(copied(a) for a in arrays)


# --- the public function ----------------------------------------------------------------------


PATHS = 8  # traces kept per signature: one per path through the step's guards


class Compiled:
    """The callable ``compile`` returns. Per signature of the arguments it keeps a list of
    traces, one per path the step took (guards tell them apart), most recently used first;
    and one such dictionary per thread (the recording ran under the thread's grad mode, its
    generators). Calls run one at a time (``lock``): a replay writes into its trace's buffers
    and steps the model."""

    def __init__(self, step_fn: Callable[..., Any]):
        self.step_fn = step_fn
        self.per_thread = threading.local()
        self.lock = threading.Lock()
        self.running: int | None = None  # the thread whose call holds the lock
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
        if self.running == threading.get_ident():
            raise TraceError(
                "compile: a compiled function was called while it runs (from a Function of "
                "yours or an optimizer's step?)."
            )
        with self.lock:
            self.running = threading.get_ident()
            try:
                return self.call(args, kwargs)
            finally:
                self.running = None

    def call(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
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
        recorder = Recorder()
        hooks.recorder = recorder
        try:
            recorder.take_inputs(tensors)
            trace = Trace(recorder, recorder.finish(self.step_fn(*call_args, **call_kwargs)))
            detached = outputs(trace.runs[0].out)
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

"""The tape of a compiled step: each numpy call written down once, then repeated into buffers.

While ``compile`` records a step, the arrays flowing through it are ``Traced`` arrays: a numpy
array subclass whose only job is to be noticed. numpy hands every call that involves one to
its ``__array_ufunc__`` (``+``, ``np.exp``, ``@``, ``.sum()``: every ufunc and its reductions)
or ``__array_function__`` (``np.where``, ``np.dot``, ...), the two hooks numpy offers to
array-like types. Each hook runs the call on plain arrays, so the recorded step computes
exactly what the eager step would, and tells the ``Tape``, which writes an *entry*:

    (function, arguments)      e.g.  (np.multiply, (g, mask, buffer_7))

The arguments are plain arrays, and the result goes into a *buffer*: an array allocated once,
while recording, that the entry fills again (``out=``) on every replay. Replaying is then a
flat loop over numpy calls, ``for f, args in entries: f(*args)``, with no allocation, no
Tensors, no graph. Because the buffers never move, a view of one (``W.T``, ``x[:, None]``)
stays a view of the same memory: views cost nothing to record and nothing to replay.

Memory stays as low as the eager step's: when the last Traced array using a buffer is freed
while recording (the engine drops intermediates as soon as backward has read them), the buffer
goes back to a pool and the next result of the same shape, dtype and layout is written into it.

A Python decision on a value (``if np.isfinite(total):``) cannot be written as a numpy call.
It becomes a *guard*: an entry that checks, on every replay, that the value is still what it
was while recording, and stops the replay (``GuardFailed``) if not; ``compile`` then runs that
call eagerly.
"""

from __future__ import annotations

import functools
import operator
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import tracing

__all__ = ["GuardFailed", "Tape", "TraceError", "Traced", "plain"]


class TraceError(RuntimeError):
    """The step does something that a replay of its tape could not repeat faithfully."""


class GuardFailed(Exception):
    """A value the recorded step branched on is different now: the tape does not apply."""


# numpy functions that read only shapes and dtypes, never values: nothing to record.
SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory}


def plain(x: Any) -> Any:
    """``x`` with every Traced array replaced by a plain view of the same memory."""
    if isinstance(x, Traced):
        return x.view(np.ndarray)
    if isinstance(x, (tuple, list)):
        return type(x)(plain(v) for v in x)
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    return x


def traced_in(x: Any) -> list[Traced]:
    """The Traced arrays among ``x`` (nested in tuples, lists and dicts)."""
    if isinstance(x, Traced):
        return [x]
    if isinstance(x, (tuple, list)):
        return [t for v in x for t in traced_in(v)]
    if isinstance(x, dict):
        return traced_in(list(x.values()))
    return []


def into(out: np.ndarray, function: Callable[..., Any], *args: Any) -> None:
    """The entry for a call that has no ``out=``: compute, then copy into the buffer."""
    np.copyto(out, function(*args))


def into_each(
    outs: tuple[np.ndarray | None, ...], function: Callable[..., Any], *args: Any
) -> None:
    """``into`` for a call returning several arrays (None: a view, nothing to copy)."""
    for out, result in zip(outs, function(*args)):
        if out is not None:
            np.copyto(out, result)


def check(expected: Any, function: Callable[..., Any], *args: Any) -> None:
    """A guard: the value the recording branched on must be the same on this replay."""
    if function(*args) != expected:
        raise GuardFailed


class Traced(np.ndarray):
    """An array that tells the current thread's tape about every numpy call made on it.

    With no tape recording (the step has ended), it behaves as a plain array."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        args, options = plain(inputs), plain(kwargs)
        result = getattr(ufunc, method)(*args, **options)
        tape = tracing.recorder
        if tape is None:
            return result
        return tape.ufunc(ufunc, method, args, options, result, kwargs.get("out"), inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        pargs, pkwargs = plain(args), plain(kwargs)
        result = func(*pargs, **pkwargs)
        tape = tracing.recorder
        if tape is None or func in SHAPE_ONLY:
            return result
        call = functools.partial(func, **pkwargs) if pkwargs else func
        return tape.result(call, pargs, result, traced_in((args, kwargs)))

    def __array_finalize__(self, obj: Any) -> None:
        # A new array not sharing obj's memory was computed by an ndarray method that numpy
        # does not route through the hooks above: a replay would not recompute it.
        if obj is not None and not np.may_share_memory(self, obj):
            self.escaped = True

    # --- ndarray methods that compute without calling a ufunc: recorded explicitly ---

    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(np.ndarray, name)
        pargs, pkwargs = plain((self, *args)), plain(kwargs)
        result = method(*pargs, **pkwargs)
        tape = tracing.recorder
        if tape is None:
            return result
        call = functools.partial(method, **pkwargs) if pkwargs else method
        return tape.result(call, pargs, result, traced_in((self, args, kwargs)))

    def __getitem__(self, index: Any) -> Any:
        return self._method("__getitem__", index)

    def astype(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("astype", *args, **kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("copy", *args, **kwargs)

    def reshape(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("reshape", *args, **kwargs)

    def ravel(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("ravel", *args, **kwargs)

    def flatten(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("flatten", *args, **kwargs)

    def dot(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("dot", *args, **kwargs)

    def argmax(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmax", *args, **kwargs)

    def argmin(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("argmin", *args, **kwargs)

    def repeat(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("repeat", *args, **kwargs)

    def take(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("take", *args, **kwargs)

    def cumsum(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("cumsum", *args, **kwargs)

    def cumprod(self, *args: Any, **kwargs: Any) -> Any:
        return self._method("cumprod", *args, **kwargs)

    def __setitem__(self, index: Any, value: Any) -> None:
        target, index_, value_ = plain((self, index, value))
        target[index] = value_  # noqa: the plain view writes the same memory
        tape = tracing.recorder
        if tape is not None:
            tape.write(operator.setitem, (target, index_, value_))

    # --- values read into Python: guards ---

    def _read(self, convert: Callable[[Any], Any]) -> Any:
        value = convert(self.view(np.ndarray))
        tape = tracing.recorder
        if tape is not None:
            tape.guard(value, convert, self.view(np.ndarray))
        return value

    def __bool__(self) -> bool:
        return self._read(bool)

    def __float__(self) -> float:
        return self._read(float)

    def __int__(self) -> int:
        return self._read(int)

    def __index__(self) -> int:
        return self._read(operator.index)

    def item(self, *args: Any) -> Any:
        return self._read(lambda a: a.item(*args))

    def tolist(self) -> Any:
        return self._read(np.ndarray.tolist)


class Tape:
    """The entries of a step, its buffers, and the pool of buffers free for reuse."""

    def __init__(self) -> None:
        self.entries: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.buffers: list[np.ndarray] = []  # every buffer allocated, for memory accounting
        self.free: dict[tuple[Any, ...], list[np.ndarray]] = {}
        self.recording = True
        self.guards = 0
        self.effects = False  # True once an entry changed parameters or optimizer state

    # --- buffers ---

    def buffer(self, value: np.ndarray) -> np.ndarray:
        """A buffer holding ``value``, with its shape, dtype and memory layout (a reduction or
        a matrix product reads memory in order: the layout must be the eager result's)."""
        key = (value.shape, value.dtype, value.strides)
        pool = self.free.get(key)
        if pool:
            buffer = pool.pop()
            np.copyto(buffer, value)
            return buffer
        if value.base is None and value.flags.writeable and value.flags.owndata:
            buffer = value  # a fresh result: adopt it
        else:
            buffer = np.empty_like(value)  # same layout, unless value is a broadcast view
            np.copyto(buffer, value)
        self.buffers.append(buffer)
        return buffer

    def traced(self, buffer: np.ndarray) -> Traced:
        """The Traced array the step sees for ``buffer``; when it (and every view of it) is
        freed, the buffer returns to the pool."""
        array = buffer.view(Traced)
        array.buffer = buffer
        key = (buffer.shape, buffer.dtype, buffer.strides)
        weakref.finalize(array, self.release, key, buffer)
        return array

    def release(self, key: tuple[Any, ...], buffer: np.ndarray) -> None:
        if self.recording:
            self.free.setdefault(key, []).append(buffer)

    # --- entries ---

    def write(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.entries.append((function, args))

    def check_inputs(self, arrays: list[Traced], what: str) -> None:
        for array in arrays:
            if getattr(array, "escaped", False):
                raise TraceError(
                    f"compile: {what} reads an array computed by a numpy method that compile "
                    "cannot record (it does not go through numpy's ufunc or function hooks); a "
                    "replay would reuse its recorded values. Use a numpy function instead."
                )

    def ufunc(
        self,
        ufunc: np.ufunc,
        method: str,
        args: tuple[Any, ...],
        options: dict[str, Any],
        result: Any,
        out: Any,
        inputs: tuple[Any, ...],
    ) -> Any:
        """Record ``ufunc.method(*args, **options)``, which gave ``result``."""
        self.check_inputs(traced_in(inputs), f"np.{ufunc.__name__}")
        call = getattr(ufunc, method)
        if method == "at" or out is not None:  # writes into arrays the step already has
            self.write(functools.partial(call, **options) if options else call, args)
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        buffers = tuple(self.buffer(np.asarray(r)) for r in results)
        if method == "__call__" and not options and ufunc not in (np.maximum, np.minimum):
            self.write(ufunc, (*args, *buffers))  # out= given by position: the fastest call
        else:
            target = buffers if len(buffers) > 1 else buffers[0]
            self.write(functools.partial(call, **options, out=target), args)
        traced = tuple(self.traced(b) for b in buffers)
        return traced if isinstance(result, tuple) else traced[0]

    def result(
        self, call: Callable[..., Any], args: tuple[Any, ...], result: Any, sources: list[Traced]
    ) -> Any:
        """Record a call that has no ``out=``: an array result is a view of an input (nothing
        to record) or new values (recomputed and copied into a buffer on each replay); a
        Python value (a bool, a number) is guarded; None means it wrote into its arguments."""
        self.check_inputs(sources, getattr(call, "__name__", "a numpy function"))
        if result is None:
            self.write(call, args)
            return None
        if isinstance(result, (tuple, list)) and all(isinstance(r, np.ndarray) for r in result):
            views = [self.view_of(r, sources) for r in result]
            buffers = tuple(
                None if v is not None else self.buffer(r) for r, v in zip(result, views)
            )
            self.write(into_each, (buffers, call, *args))
            return type(result)(
                v if v is not None else self.traced(b) for v, b in zip(views, buffers)
            )
        if isinstance(result, (np.ndarray, np.generic)):
            result = np.asarray(result)
            view = self.view_of(result, sources)
            if view is not None:
                return view
            buffer = self.buffer(result)
            self.write(into, (buffer, call, *args))
            return self.traced(buffer)
        self.guard(result, call, *args)
        return result

    def view_of(self, result: np.ndarray, sources: list[Traced]) -> Traced | None:
        """``result`` as a Traced view if it shares memory with one of ``sources`` (which
        it keeps alive, so their buffer is not reused while the view is)."""
        for source in sources:
            if np.may_share_memory(result, source):
                view = result.view(Traced)
                view.source = source
                return view
        return None

    def guard(self, expected: Any, function: Callable[..., Any], *args: Any) -> None:
        if self.effects:
            raise TraceError(
                "compile: the step reads a value into Python after optimizer.step(); a replay "
                "could not undo the update if that value changed. Read it before the step."
            )
        self.guards += 1
        self.write(check, (expected, function, *args))

    def stop(self) -> None:
        """The recording is over: buffers are no longer handed out again."""
        self.recording = False
        self.free.clear()

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

Memory stays close to the eager step's because buffers share memory, as registers do in a
compiler: each buffer *lives* from the entry that writes it to the last entry that reads it,
and once the recording is over, ``share_memory`` places buffers whose lives do not overlap in
the same block of memory. An elementwise ufunc may even write over the input it reads last
(``relu(W @ x + b)`` runs in place after the product): numpy allows that overlap.

A Python decision on a value (``if np.isfinite(total):``) cannot be written as a numpy call.
It becomes a *guard*: an entry that checks, on every replay, that the value is still what it
was while recording, and stops the replay (``GuardFailed``) if not; ``compile`` then replays
or records the other path.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from ..engine import hooks

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


def numbers_as_arrays(ufunc: np.ufunc, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with each Python number made a 0-d array of the dtype numpy converts it to
    (``x32 * 0.5`` multiplies by float32(0.5)): the same loop runs, so the same bits come out,
    and a call with arrays only is faster."""
    numbers = [type(a) in (bool, int, float) for a in args]
    if not any(numbers) or not all(n or isinstance(a, np.ndarray) for n, a in zip(numbers, args)):
        return args
    kinds = [type(a) if n else a.dtype for n, a in zip(numbers, args)]
    try:
        dtypes = ufunc.resolve_dtypes((*kinds, *[None] * ufunc.nout))
    except (TypeError, ValueError):  # no loop for these alone (a value-based rule): keep
        return args
    return tuple(
        np.array(a, d) if type(a) in (bool, int, float) else a for a, d in zip(args, dtypes)
    )


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
        tape = hooks.recorder
        if tape is None:
            return result
        return tape.ufunc(ufunc, method, args, options, result, kwargs.get("out"), inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        pargs, pkwargs = plain(args), plain(kwargs)
        result = func(*pargs, **pkwargs)
        tape = hooks.recorder
        if tape is None or func in SHAPE_ONLY:
            return result
        call = functools.partial(func, **pkwargs) if pkwargs else func
        return tape.result(call, pargs, result, traced_in((args, kwargs)))

    def __array_finalize__(self, obj: Any) -> None:
        # A new array not sharing obj's memory was computed by an ndarray method that numpy
        # does not route through the hooks above: a replay would not recompute it.
        if obj is not None and self.size and not np.may_share_memory(self, obj):
            self.escaped = True

    # --- ndarray methods that compute without calling a ufunc: recorded explicitly ---

    def _method(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(np.ndarray, name)
        pargs, pkwargs = plain((self, *args)), plain(kwargs)
        result = method(*pargs, **pkwargs)
        tape = hooks.recorder
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
        target[index_] = value_  # the plain view writes the same memory
        tape = hooks.recorder
        if tape is not None:
            tape.write(operator.setitem, (target, index_, value_))

    # --- values read into Python: guards ---

    def _read(self, convert: Callable[[Any], Any]) -> Any:
        value = convert(self.view(np.ndarray))
        tape = hooks.recorder
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
    """The entries of a step and the buffers they write."""

    def __init__(self) -> None:
        self.entries: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.buffers: list[np.ndarray] = []  # every buffer allocated
        self.guards = 0
        self.effects = False  # True once an entry changed parameters or optimizer state

    # --- buffers ---

    def buffer(self, value: np.ndarray) -> np.ndarray:
        """A buffer holding ``value``, with its shape, dtype and memory layout (a reduction or
        a matrix product reads memory in order: the layout must be the eager result's)."""
        if value.base is None and value.flags.writeable and value.flags.owndata:
            buffer = value  # a fresh result: adopt it
        else:
            buffer = np.empty_like(value)  # same layout, unless value is a broadcast view
            np.copyto(buffer, value)
        self.buffers.append(buffer)
        return buffer

    def traced(self, buffer: np.ndarray) -> Traced:
        """The Traced array the step sees for ``buffer``."""
        array = buffer.view(Traced)
        array.buffer = buffer
        return array

    # --- entries ---

    def write(self, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """Append the entry ``function(*args)``."""
        self.entries.append((function, args))

    def check_inputs(self, arrays: list[Traced], what: str) -> None:
        """Refuse arrays an unrecorded ndarray method computed (``__array_finalize__``)."""
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
        call = ufunc if method == "__call__" else getattr(ufunc, method)
        if method == "at" or out is not None:  # writes into arrays the step already has
            self.write(functools.partial(call, **options) if options else call, args)
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        buffers = tuple(self.buffer(np.asarray(r)) for r in results)
        if method == "__call__":
            args = numbers_as_arrays(ufunc, args)
        # out= given by position is the fastest call (numpy deprecates it for max and min)
        if method == "__call__" and not options and ufunc not in (np.maximum, np.minimum):
            self.write(ufunc, (*args, *buffers))
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
        if isinstance(result, (tuple, list)) and all(
            r is None or isinstance(r, np.ndarray) for r in result
        ):  # several arrays (np.split), or a rule's gradients (None: no gradient)
            views = [None if r is None else self.view_of(r, sources) for r in result]
            buffers = tuple(
                None if r is None or v is not None else self.buffer(r)
                for r, v in zip(result, views)
            )
            self.write(into_each, (buffers, call, *args))
            return type(result)(
                v if v is not None else None if b is None else self.traced(b)
                for v, b in zip(views, buffers)
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
        """Append a check that ``function(*args)`` still gives ``expected`` on replay."""
        if self.effects:
            raise TraceError(
                "compile: the step reads a value into Python after optimizer.step(); a replay "
                "could not undo the update if that value changed. Read it before the step."
            )
        self.guards += 1
        self.write(check, (expected, function, *args))

    def share_memory(self, outside: list[np.ndarray], after: list[Any]) -> list[Any]:
        """Let buffers whose lives do not overlap use the same memory; rewrite the entries,
        and return ``after`` rewritten the same way.

        A buffer lives from the entry that first writes it to the last entry that reads it;
        arrays in ``after`` (a ``.grad``, a returned tensor) are read after the replay, so
        they live to the end. Buffers in ``outside`` (parameters, inputs) hold values from
        before the replay and keep their own memory.

        The others are placed, in the order they are first written, into *blocks* of memory:
        the block of an input with the same layout whose life ends at the elementwise ufunc
        that writes the new buffer (in place: numpy computes ``relu(z + b)`` in place
        correctly, and memory already in cache is faster to write), else the smallest block
        big enough whose last occupant's life has ended (the most recently used of those)."""
        number = {id(b): k for k, b in enumerate(self.buffers)}
        first: dict[int, float] = {}
        last: dict[int, float] = {}
        for i, entry in enumerate(self.entries):
            for b in roots(entry, number):
                first.setdefault(number[id(b)], i)
                last[number[id(b)]] = i
        for b in roots(after, number):
            last[number[id(b)]] = np.inf
        own = {number[id(b)] for b in roots(outside, number)}
        own |= {
            k
            for k, b in enumerate(self.buffers)
            if not (b.flags.c_contiguous or b.flags.f_contiguous)
        }

        blocks: list[Block] = []
        moved: dict[int, np.ndarray] = {}  # id of a buffer → the block memory it now uses
        for k in sorted(set(first) - own, key=first.__getitem__):
            buffer = self.buffers[k]
            writer = self.entries[int(first[k])][0]
            writer = writer.func if isinstance(writer, functools.partial) else writer
            in_place = isinstance(writer, np.ufunc) and writer.signature is None
            layout = (buffer.shape, buffer.dtype, buffer.strides)
            dying = [b for b in blocks if b.end == first[k] and in_place and b.layout == layout]
            free = dying or [b for b in blocks if b.end < first[k]]
            free = [b for b in free if b.memory.nbytes >= buffer.nbytes]
            block = min(free, key=lambda b: (b.memory.nbytes, -b.end), default=None)
            if block is None:
                block = Block(buffer)
                blocks.append(block)
            moved[id(buffer)] = block.memory
            block.end, block.layout = last[k], layout
        views = Views(moved)
        self.entries = [
            (views.rewrite(f), views.rewrite(args, writeable=f is not setattr))  # .grad: read-only
            for f, args in self.entries
        ]
        self.buffers = [block.memory for block in blocks] + [self.buffers[k] for k in own]
        for array in after:  # the recorded call's results, to where they live now
            target = views.view(array, writeable=True)
            if target is not None and not np.shares_memory(target, array):
                np.copyto(target, array)
        return views.rewrite(after, writeable=False)


class Block:
    """Memory that buffers with lives one after another share (see ``share_memory``)."""

    def __init__(self, buffer: np.ndarray):
        self.memory = buffer
        self.end: float = 0  # the last entry that reads its latest occupant
        self.layout: tuple[Any, ...] = ()


def roots(x: Any, number: dict[int, int]) -> list[np.ndarray]:
    """The buffers (keys of ``number``: ids) that the arrays in ``x`` are views of."""
    if isinstance(x, np.ndarray):
        while x is not None and id(x) not in number:
            x = x.base
        return [] if x is None else [x]
    if isinstance(x, functools.partial):
        return roots((x.args, x.keywords), number)
    if isinstance(x, (tuple, list)):
        return [r for v in x for r in roots(v, number)]
    if isinstance(x, dict):
        return roots(list(x.values()), number)
    return []


class Views:
    """Arrays of the entries remade as views of the memory their buffer now uses.

    Equal views become one object: numpy checks whether a ufunc's output overlaps an input
    unless the two are the same object, as they now are for every in-place entry. They are
    writeable, except those handed to users (a ``.grad``, a returned tensor)."""

    def __init__(self, moved: dict[int, np.ndarray]):
        self.moved = moved  # id of a buffer → the memory it uses now
        self.made: dict[tuple[Any, ...], np.ndarray] = {}

    def view(self, x: np.ndarray, writeable: bool = True) -> np.ndarray | None:
        """The same view as ``x`` of its buffer's memory now (None: not a view of one)."""
        base = x
        while base is not None and id(base) not in self.moved:
            base = base.base
        if base is None:
            return None
        memory = self.moved[id(base)]
        offset = x.__array_interface__["data"][0] - base.__array_interface__["data"][0]
        key = (id(memory), offset, x.shape, x.strides, x.dtype, writeable)
        if key not in self.made:
            raw = memory.reshape(-1, order="A").view(np.uint8)  # its bytes, in order
            view = np.ndarray(x.shape, x.dtype, raw, offset, x.strides)
            view.flags.writeable = writeable
            self.made[key] = view
        return self.made[key]

    def rewrite(self, x: Any, writeable: bool = True) -> Any:
        """``x`` (an entry, nested) with every array remade by ``view``."""
        if isinstance(x, np.ndarray):
            view = self.view(x, writeable)
            return x if view is None else view
        if isinstance(x, functools.partial):
            args, keywords = self.rewrite((x.args, x.keywords), writeable)
            return functools.partial(x.func, *args, **keywords)
        if isinstance(x, (tuple, list)):
            return type(x)(self.rewrite(v, writeable) for v in x)
        if isinstance(x, dict):
            return {k: self.rewrite(v, writeable) for k, v in x.items()}
        return x

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
and once the recording is over, ``share_memory`` (``memory.py``) places buffers whose lives do
not overlap in the same block of memory. An elementwise ufunc may even write over the input it
reads last (``relu(W @ x + b)`` runs in place after the product): numpy allows that overlap.

A number in an entry is a constant (the ``0`` of ``relu``), except a ``Setting``: an optimizer's
hyperparameter while its update is recorded (``lr * g``). The entry then reads a *cell*, a 0-d
array that ``compile`` fills with the attribute's current value before each replay.

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
from ..tensor import Tensor
from .memory import share_memory

__all__ = ["GuardFailed", "Setting", "Tape", "TraceError", "Traced", "plain"]


class TraceError(RuntimeError):
    """The step does something that a replay of its tape could not repeat faithfully."""


class GuardFailed(Exception):
    """A value the recorded step branched on is different now: the tape does not apply."""


# numpy functions that read only shapes and dtypes, never values: nothing to record.
SHAPE_ONLY = {np.shape, np.ndim, np.size, np.result_type, np.may_share_memory, np.shares_memory}


class Setting:
    """A hyperparameter (``optimizer.lr``) while ``compile`` records the update that reads it:
    it stands for the number and tells the tape where the number comes from, so that each
    replay reads the attribute again instead of a value frozen at the recording.

    An update may use it as an operand of numpy calls on arrays (``lr * g``: the entry reads a
    cell, see ``Tape.cell``) and test it (``if self.weight_decay:``; ``tested`` records that
    whether it is 0 chose the path). Arithmetic or comparisons in Python (``lr * wd``,
    ``lr > 1``) would be computed once: they raise TypeError."""

    __slots__ = ("name", "owner", "tested", "value")

    def __init__(self, owner: Any, name: str, value: float):
        self.owner, self.name, self.value, self.tested = owner, name, value, False

    def __bool__(self) -> bool:
        self.tested = True
        return bool(self.value)

    def __eq__(self, other: Any) -> bool:
        raise TypeError(f"{type(self.owner).__name__}.{self.name} compared in Python")

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Setting({type(self.owner).__name__}.{self.name} = {self.value!r})"


def values_of(args: tuple[Any, ...]) -> tuple[Any, ...]:
    """``args`` with each Setting replaced by its number: what the call computes with."""
    return tuple(a.value if type(a) is Setting else a for a in args)


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


NUMBERS = (bool, int, float)


def numbers_as_arrays(
    ufunc: np.ufunc, args: tuple[Any, ...], cell: Callable[[Setting, np.dtype], np.ndarray]
) -> tuple[Any, ...]:
    """``args`` with each Python number made a 0-d array of the dtype numpy converts it to
    (``x32 * 0.5`` multiplies by float32(0.5)): the same loop runs, so the same bits come out,
    and a call with arrays only is faster. A Setting becomes ``cell(setting, dtype)``."""
    numbers = [type(a) in NUMBERS or type(a) is Setting for a in args]
    if not any(numbers) or not all(n or isinstance(a, np.ndarray) for n, a in zip(numbers, args)):
        return args
    kinds = [type(v) if n else v.dtype for n, v in zip(numbers, values_of(args))]
    try:
        dtypes = ufunc.resolve_dtypes((*kinds, *[None] * ufunc.nout))
    except (TypeError, ValueError):  # no loop for these alone (a value-based rule): keep
        return args
    return tuple(
        cell(a, d) if type(a) is Setting else np.array(a, d) if type(a) in NUMBERS else a
        for a, d in zip(args, dtypes)
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


def check_choosing(
    out: np.ndarray, expected: Any, function: Callable[..., Any], *args: Any
) -> None:
    """A guard in an op's forward that only chooses how the op's result ``out`` is computed
    (its op class sets ``guards_choose_only_out``, as BCE with logits does): a ``check``, which
    ``tape_optimizer`` drops when nothing reads ``out`` (either path leaves all else the same)."""
    check(expected, function, *args)


class Traced(np.ndarray):
    """An array that tells the current thread's tape about every numpy call made on it.

    With no tape recording (the step has ended), it behaves as a plain array."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if any(isinstance(x, Tensor) for x in inputs):
            return NotImplemented  # mask * tensor: the Tensor's hook records the op
        args, options = plain(inputs), plain(kwargs)
        result = getattr(ufunc, method)(*values_of(args), **options)
        tape = hooks.recorder
        if tape is None:
            return result
        return tape.ufunc(ufunc, method, args, options, result, kwargs.get("out"), inputs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if Tensor in types:
            return NotImplemented
        pargs, pkwargs = plain(args), plain(kwargs)
        result = func(*pargs, **pkwargs)
        tape = hooks.recorder
        if tape is None or func in SHAPE_ONLY:
            return result
        call = functools.partial(func, **pkwargs) if pkwargs else func
        return tape.result(call, pargs, result, traced_in((args, kwargs)))

    def __array_finalize__(self, obj: Any) -> None:
        # Which recording made it: a tensor holding another thread's Traced array is refused.
        tape = hooks.recorder
        self.tape = None if tape is None else tape.token
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
        self.buffer_ids: set[int] = set()
        self.cells: dict[tuple[int, str, np.dtype], np.ndarray] = {}  # see cell()
        self.token = object()  # what the Traced arrays of this recording carry
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
        self.own(buffer)
        return buffer

    def own(self, buffer: np.ndarray) -> None:
        self.buffers.append(buffer)
        self.buffer_ids.add(id(buffer))

    def computed(self, array: np.ndarray) -> bool:
        """Is ``array`` a buffer of this tape, or a view of one?"""
        while array is not None:
            if id(array) in self.buffer_ids or getattr(array, "tape", None) is self.token:
                return True
            array = array.base
        return False

    def cell(self, setting: Setting, dtype: np.dtype) -> np.ndarray:
        """The 0-d array of ``dtype`` that entries read in place of ``setting``: one per
        attribute and dtype, holding the number as numpy would convert it for the call."""
        key = (id(setting.owner), setting.name, dtype)
        if key not in self.cells:
            self.cells[key] = np.array(setting.value, dtype)
        return self.cells[key]

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
        writes = method == "at" or out is not None  # into arrays the step already has
        if method == "__call__" and not (writes and Setting not in map(type, args)):
            args = numbers_as_arrays(ufunc, args, self.cell)
        for a in args:
            if type(a) is Setting:
                raise TraceError(
                    f"compile: {type(a.owner).__name__}.{a.name} is used in "
                    f"np.{ufunc.__name__}.{method} with operands compile cannot convert; a "
                    "recorded update may use its hyperparameters only as operands of "
                    "elementwise numpy calls on arrays (lr * g)."
                )
        if writes:
            self.write(functools.partial(call, **options) if options else call, args)
            return out[0] if isinstance(out, tuple) and len(out) == 1 else out
        results = result if isinstance(result, tuple) else (result,)
        buffers = tuple(self.buffer(np.asarray(r)) for r in results)
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
        what = getattr(call, "__name__", "a numpy function")
        self.check_inputs(sources, what)
        if Setting in map(type, args):
            raise TraceError(
                f"compile: a hyperparameter is passed to {what}; a recorded update may use its "
                "hyperparameters only as operands of elementwise numpy calls on arrays (lr * g)."
            )
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
        """Let buffers whose lives do not overlap use the same memory (``memory.py``): the
        entries and buffers rewritten, and ``after`` returned rewritten the same way."""
        self.entries, self.buffers, after = share_memory(self.entries, self.buffers, outside, after)
        return after


def step_in_place(optimizer: Any, params: list[tuple[Any, np.ndarray, np.ndarray]]) -> None:
    """``optimizer.step()`` as Python, then each parameter's new value copied into the buffer
    its next value goes to, which the tensor holds (a read-only view of) from then on."""
    optimizer.step()
    for tensor, buffer, view in params:
        if tensor._data is not view:
            np.copyto(buffer, tensor._data)
            tensor._data = view

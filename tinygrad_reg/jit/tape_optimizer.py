"""Rewrites of a recorded tape before it is replayed: fewer calls, the same bits.

A recording writes down every numpy call the eager step made, including those whose results
nobody reads in the end (the cost of a step that returns nothing) and Python stores a later
entry overwrites. ``optimize`` runs the passes below, one after the other, on the entries of
``Recorder.finish`` (before ``memory.share_memory`` places the buffers, so that each buffer
still holds one value). Each pass only removes or merges entries; none changes a
floating-point operation that an entry kept computes, its operands or their order, which is
why a replay stays equal to the eager step to the last bit (tests/jit/test_tape_optimizer.py
checks each pass fires, and tests/jit/test_compile.py that replays equal eager steps).

What is lost: a floating-point error of a dropped computation. Under
``np.errstate(all="raise")`` the eager step raises where a value nobody reads overflows; the
optimized replay does not compute that value, so it does not raise (nor warn).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from .memory import roots
from .tape import check, check_choosing, into, into_each, step_in_place

Entry = tuple[Callable[..., Any], tuple[Any, ...]]

__all__ = ["optimize"]


def optimize(
    entries: list[Entry], buffers: list[np.ndarray], outside: list[np.ndarray], after: list[Any]
) -> list[Entry]:
    """The tape's entries after every pass. ``buffers`` are the tape's own, ``outside`` the
    arrays from before the replay (parameters, inputs), ``after`` what is read once the replay
    is over (the ``.grad`` views, the returned arrays)."""
    entries = without_cleared_grads(entries)
    return without_unread_results(entries, buffers, outside, after)


def without_cleared_grads(entries: list[Entry]) -> list[Entry]:
    """Fold ``zero_grad`` into the first store of a gradient: each ``p.grad = None`` that a
    later ``setattr(p, "grad", ...)`` overwrites before anything could read it (an optimizer
    stepping as Python reads ``.grad``) is a dead store, and dropped.

    Bit-identical: no array is involved, only which object ``.grad`` names in between, which
    no entry reads."""
    overwritten: set[int] = set()
    kept = []
    for function, args in reversed(entries):
        if function is setattr:
            if args[1] == "grad" and args[2] is None and id(args[0]) in overwritten:
                continue
            if args[1] == "grad":
                overwritten.add(id(args[0]))
        elif function is step_in_place:
            overwritten.clear()
        kept.append((function, args))
    return kept[::-1]


def without_unread_results(
    entries: list[Entry], buffers: list[np.ndarray], outside: list[np.ndarray], after: list[Any]
) -> list[Entry]:
    """Drop every entry that computes values nobody reads: a *pure* entry (a numpy call that
    only writes its result into buffers of the tape) none of whose buffers a later kept entry,
    or the code after the replay, reads. One backward scan, as a compiler removes dead code:
    the reads of each kept entry make what they read live.

    Everything else is kept as it is: guards (a value read into Python chose the path),
    stores into tensors (``setattr``), writes into arrays from outside (a parameter's next
    values), calls with effects of their own (a random draw, an op of yours run as Python,
    an optimizer's Python step), and calls that write into part of a buffer (``x[i] = v``,
    ``np.add.at``, ``where=``).

    A guard that only chooses how an op's result is computed (``check_choosing``) counts as
    pure, writing that result: with the result unread, either path leaves the same values.

    Bit-identical: a kept entry reads exactly the buffers it read before, and every writer of
    those buffers is kept, in its place."""
    number = {id(b): k for k, b in enumerate(buffers)}
    outside_ids = {id(b) for b in roots(outside, number)} | {id(b) for b in outside}
    live = {id(b) for b in roots(after, number)}
    kept: list[Entry] = []
    for function, args in reversed(entries):
        written = pure_outputs(function, args)
        if written is not None:
            targets = [roots(array, number) for array in written]
            own = all(
                len(t) == 1 and t[0].nbytes == array.nbytes and id(t[0]) not in outside_ids
                for t, array in zip(targets, written)
            )  # each a whole buffer of the tape's own
            if own and not any(id(t[0]) in live for t in targets):
                continue  # nobody reads what it computes
        if function is check_choosing:  # kept: a plain guard (it does not read its result)
            function, args = check, args[1:]
        live.update(id(b) for b in roots((function, args), number))
        kept.append((function, args))
    return kept[::-1]


PURE_CALLS = (np.ufunc, type(np.where))  # ufuncs and numpy functions (their dispatchers)


def pure_outputs(function: Callable[..., Any], args: tuple[Any, ...]) -> list[Any] | None:
    """The arrays a pure entry writes whole, or None if the entry is not pure (or writes only
    part of an array)."""
    if function is check_choosing:
        return [args[0]]
    if function is into:
        return [args[0]] if pure_call(args[1]) else None
    if function is into_each:
        return [out for out in args[0] if out is not None] if pure_call(args[1]) else None
    if function in (check, setattr, operator.setitem):
        return None
    options: dict[str, Any] = {}
    if isinstance(function, functools.partial):
        options, function = function.keywords, function.func
    if "where" in options:
        return None  # writes only part of out: the rest is the old values
    if isinstance(function, np.ufunc):
        if "out" in options:
            out = options["out"]
            return list(out) if isinstance(out, tuple) else [out]
        outs = args[function.nin :]
        return list(outs) if len(outs) == function.nout else None
    owner = getattr(function, "__self__", None)  # np.add.reduce: a method of np.add
    if isinstance(owner, np.ufunc) and function.__name__ in ("reduce", "accumulate"):
        return [options["out"]] if "out" in options else None
    return None


def pure_call(function: Callable[..., Any]) -> bool:
    """A call that computes from its arguments only: a numpy function or ufunc, or an
    ``ndarray`` method (``astype``, ``copy``); not a generator's draw or an op of yours."""
    if isinstance(function, functools.partial):
        function = function.func
    if isinstance(function, PURE_CALLS):
        return True
    return getattr(function, "__objclass__", None) is np.ndarray

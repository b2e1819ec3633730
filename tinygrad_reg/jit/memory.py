"""Where a tape's buffers live: buffers whose lives do not overlap share memory.

Give every result of a recorded step its own buffer and a replay holds every intermediate at
once, far more than the eager step, which frees each array when its last reader is done. So once
the recording is over, ``share_memory`` places the buffers in *blocks* of memory, as a compiler
places values in registers, and ``Views`` rewrites the tape's entries to point into the blocks:
the same view (shape, strides, byte offset) of the memory the buffer now uses.

``Views`` also makes the second run of a trace (``compiler.Trace``): the same entries with the
memory of the parameters and of the gradients swapped for another copy, so that a replay never
writes an array the user can see until it has succeeded.

Both are linear in the number of entries: a heap of the blocks in use, ordered by the end of
their occupant's life, and a sorted list of the free ones.
"""

from __future__ import annotations

import bisect
import functools
import heapq
from typing import Any

import numpy as np

__all__ = ["Views", "share_memory"]


class Block:
    """Memory that buffers with lives one after another share."""

    def __init__(self, buffer: np.ndarray, index: int):
        self.memory = buffer
        self.index = index  # creation order: the tie-break between equal blocks
        self.end: float = 0  # the last entry that reads its latest occupant
        self.layout: tuple[Any, ...] = ()
        self.version = 0  # counts occupants: a heap item of an earlier one is stale

    def free_key(self) -> tuple[int, float, int]:
        """The smallest memory first; among equal sizes the most recently used."""
        return (self.memory.nbytes, -self.end, self.index)


def share_memory(
    entries: list[Any], buffers: list[np.ndarray], outside: list[Any], after: list[Any]
) -> tuple[list[Any], list[np.ndarray], list[Any]]:
    """Let buffers whose lives do not overlap use the same memory: the entries rewritten, the
    memory now allocated, and ``after`` rewritten the same way.

    A buffer lives from the first entry that mentions it to the last; arrays in ``after`` (a
    ``.grad``, a returned tensor) are read after the replay, so they live to the end. Buffers
    in ``outside`` (parameters, inputs) hold values from before the replay and keep their own
    memory, as do buffers that are not contiguous.

    The others are placed, in the order they are first written, into blocks: the block of an
    input with the same layout whose life ends at the elementwise ufunc that writes the new
    buffer (in place: numpy computes ``relu(z + b)`` in place correctly, and memory already in
    cache is faster to write), else the smallest block big enough whose last occupant's life
    has ended (the most recently used of those), else a new block."""
    number = {id(b): k for k, b in enumerate(buffers)}
    first: dict[int, int] = {}
    last: dict[int, float] = {}
    for i, entry in enumerate(entries):
        for b in roots(entry, number):
            first.setdefault(number[id(b)], i)
            last[number[id(b)]] = i
    for b in roots(after, number):
        last[number[id(b)]] = np.inf
    own = {number[id(b)] for b in roots(outside, number)}
    own |= {k for k, b in enumerate(buffers) if not (b.flags.c_contiguous or b.flags.f_contiguous)}

    blocks: list[Block] = []
    busy: list[tuple[float, int, int, Block]] = []  # (end, index, version, block): a heap
    ending: dict[tuple[float, Any], list[Block]] = {}  # (end, layout) → blocks in use
    free: list[tuple[tuple[int, float, int], Block]] = []  # sorted by Block.free_key
    moved: dict[int, np.ndarray] = {}  # id of a buffer → the block memory it now uses
    for k in sorted(set(first) - own, key=first.__getitem__):
        start, buffer = first[k], buffers[k]
        while busy and busy[0][0] < start:  # lives that ended before this one starts
            end, _, version, block = heapq.heappop(busy)
            if version == block.version:
                ending[(end, block.layout)].remove(block)
                bisect.insort(free, (block.free_key(), block))
        writer = entries[start][0]
        writer = writer.func if isinstance(writer, functools.partial) else writer
        in_place = isinstance(writer, np.ufunc) and writer.signature is None
        layout = (buffer.shape, buffer.dtype, buffer.strides)
        dying = ending.get((start, layout), []) if in_place else []
        block = None
        if dying:  # same layout, so big enough: the smallest, then the first made
            block = min(dying, key=lambda b: (b.memory.nbytes, b.index))
            dying.remove(block)
        else:
            i = bisect.bisect_left(free, ((buffer.nbytes,),))
            if i < len(free):
                block = free.pop(i)[1]
        if block is None:
            block = Block(buffer, len(blocks))
            blocks.append(block)
        moved[id(buffer)] = block.memory
        block.end, block.layout = last[k], layout
        block.version += 1
        heapq.heappush(busy, (block.end, block.index, block.version, block))
        ending.setdefault((block.end, layout), []).append(block)

    views = Views(moved)
    entries = [
        (views.rewrite(f), views.rewrite(args, writeable=f is not setattr))  # .grad: read-only
        for f, args in entries
    ]
    memory = [block.memory for block in blocks] + [buffers[k] for k in sorted(own)]
    for array in after:  # the recorded call's results, to where they live now
        target = views.view(array, writeable=True)
        if target is not None and not np.shares_memory(target, array):
            np.copyto(target, array)
    return entries, memory, views.rewrite(after, writeable=False)


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


def address(array: np.ndarray) -> int:
    return array.__array_interface__["data"][0]


def memory_bytes(memory: np.ndarray) -> np.ndarray:
    """The bytes of a buffer, from its first element on. A buffer is dense with positive
    strides (numpy allocates results so), though perhaps neither C- nor F-ordered (a
    transposed layout kept for a reduction's sake)."""
    in_order = np.lib.stride_tricks.as_strided(memory, (memory.size,), (memory.itemsize,))
    return in_order.view(np.uint8)


class Views:
    """Arrays of the entries remade as views of the memory their buffer now uses.

    Equal views become one object: numpy checks whether a ufunc's output overlaps an input
    unless the two are the same object, as they now are for every in-place entry. They are
    writeable, except those handed to users (a ``.grad``, a returned tensor)."""

    def __init__(self, moved: dict[int, np.ndarray]):
        self.moved = moved  # id of a buffer → the memory it uses now
        self.made: dict[tuple[Any, ...], np.ndarray] = {}

    def key(self, memory: np.ndarray, x: np.ndarray, offset: int, writeable: bool) -> tuple:
        return (id(memory), offset, x.shape, x.strides, x.dtype, writeable)

    def reuse(self, array: np.ndarray, memory: np.ndarray) -> None:
        """Let ``array`` (a view of ``memory``, a target of ``moved``) be the view made for
        its place: a view that a tensor holds stays the object the trace expects there."""
        offset = address(array) - address(memory)
        self.made[self.key(memory, array, offset, array.flags.writeable)] = array

    def view(self, x: np.ndarray, writeable: bool | None = True) -> np.ndarray | None:
        """The same view as ``x`` of its buffer's memory now (None: not a view of one);
        ``writeable=None`` keeps ``x``'s flag."""
        base = x
        while base is not None and id(base) not in self.moved:
            base = base.base
        if base is None:
            return None
        memory = self.moved[id(base)]
        offset = address(x) - address(base)
        writeable = x.flags.writeable if writeable is None else writeable
        key = self.key(memory, x, offset, writeable)
        if key not in self.made:
            view = np.ndarray(x.shape, x.dtype, memory_bytes(memory), offset, x.strides)
            view.flags.writeable = writeable
            self.made[key] = view
        return self.made[key]

    def rewrite(self, x: Any, writeable: bool | None = True) -> Any:
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

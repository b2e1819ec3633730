"""Anomaly detection: find the op where a NaN or inf first appeared.

Inside ``detect_anomaly()``, every op checks its result (forward) and the gradients it sends
to its inputs (backward). The first non-finite value raises ``FloatingPointError`` naming the op,
the shapes of its inputs, which value went bad, and the line of *your* code that created the
op. It attaches to the engine through ``engine.hooks.observer`` (per thread); outside it, the
engine only finds that hook empty, once per op.

    >>> with detect_anomaly():
    ...     loss = model(X).log().sum()   # raises at the log if an output is 0
    ...     loss.backward()
"""

from __future__ import annotations

import os
import sys
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from ..engine import hooks

if TYPE_CHECKING:
    from ..engine import Function


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _Saved(threading.local):
    """Per thread: the observers to put back, one per ``detect_anomaly`` block entered and not
    yet left (so nested and repeated blocks restore correctly)."""

    def __init__(self) -> None:
        self.observers: list[Any] = []


_saved = _Saved()


class AnomalyObserver:
    """What the engine calls after each forward and each gradient rule while inside
    ``detect_anomaly`` (it is the engine's ``hooks.observer`` then)."""

    def forward(self, fn: Function, arrays: tuple[np.ndarray, ...], out: np.ndarray) -> None:
        fn.created_at = check_forward(fn, arrays, out)  # kept for the backward's message

    def backward(self, fn: Function, grads: tuple[Any, ...]) -> None:
        check_backward(fn, grads, getattr(fn, "created_at", None))


OBSERVER = AnomalyObserver()


def is_enabled() -> bool:
    """True inside ``detect_anomaly()`` (in this thread)."""
    return hooks.observer is OBSERVER


class detect_anomaly:
    """Context manager: raise at the first op whose output or gradient is NaN or inf."""

    def __enter__(self) -> detect_anomaly:
        _saved.observers.append(hooks.observer)
        hooks.observer = OBSERVER
        return self

    def __exit__(self, *exc_info: object) -> None:
        hooks.observer = _saved.observers.pop()


def user_source_line() -> str:
    """``file:line: code`` of the innermost caller outside this package."""
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR):
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "<unknown>"
    import linecache

    code = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return f"{frame.f_code.co_filename}:{frame.f_lineno}: {code}"


def _badness(array: Any) -> str | None:
    """'NaN' or 'inf' (with a count) if ``array`` has non-finite values, else None."""
    array = np.asarray(array)
    if array.dtype.kind != "f" or np.isfinite(array).all():
        return None
    nans = int(np.isnan(array).sum())
    infs = int(np.isinf(array).sum())
    parts = [f"{nans} NaN" if nans else "", f"{infs} inf" if infs else ""]
    return " and ".join(p for p in parts if p) + f" of {array.size} values"


def check_forward(fn: Function, arrays: tuple[np.ndarray, ...], out: np.ndarray) -> str:
    """Raise if ``out`` is non-finite; return where the op was created (kept for backward)."""
    created_at = user_source_line()
    bad = _badness(out)
    if bad is not None:
        inputs = "; ".join(
            f"input {i} {a.shape}" + (f" already had {_badness(a)}" if _badness(a) else " finite")
            for i, a in enumerate(arrays)
        )
        raise FloatingPointError(
            f"detect_anomaly: forward of {fn.name} produced {bad} (output shape {out.shape}). "
            f"Inputs: {inputs}. Created at {created_at}"
        )
    return created_at


def check_backward(fn: Function, grads: tuple[Any, ...], created_at: str | None) -> None:
    """Raise if a gradient ``fn.backward`` returned is non-finite."""
    for i, g in enumerate(grads):
        if isinstance(g, (np.ndarray, np.generic)):
            bad = _badness(g)
        elif hasattr(g, "_data"):  # a Tensor, when the backward pass is being recorded
            bad = _badness(g._data)
        else:  # None, or something the engine rejects next with a clear error
            continue
        if bad is not None:
            shapes = ", ".join(str(shape) for shape in fn.input_shapes)
            raise FloatingPointError(
                f"detect_anomaly: backward of {fn.name} gave input {i} a gradient with {bad} "
                f"(input shapes {shapes}). The op was created at {created_at or '<unknown>'}"
            )

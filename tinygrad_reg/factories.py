"""Making tensors: tensor (as ``torch.tensor``), zeros, ones, full, eye, arange, linspace,
zeros_like, ones_like, and random ones (randn, rand) from a numpy Generator or a seed;
``manual_seed`` and ``default_generator``, the thread's generator that everything random uses
when given no generator or seed.

Each takes ``dtype=`` (a float dtype; float64 unless said otherwise) and ``requires_grad=``
(False unless said otherwise). Shapes are given as numpy does, ``zeros((2, 3))``, or as
PyTorch does, ``zeros(2, 3)``.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .ops.cast import float_dtype
from .ops.helpers import is_axis
from .tensor import Tensor


def _shape(sizes: tuple[Any, ...], where: str) -> tuple[int, ...]:
    """``(2, 3)`` from ``((2, 3),)``, ``([2, 3],)`` or ``(2, 3)``; a clear error otherwise."""
    shape = sizes[0] if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) else sizes
    if not all(is_axis(n) and n >= 0 for n in shape):
        raise ValueError(f"{where}: shape {sizes!r}; expected non-negative ints, e.g. (2, 3).")
    return tuple(int(n) for n in shape)


def _tensor(array: np.ndarray, dtype: Any, requires_grad: bool, where: str) -> Tensor:
    return Tensor(array.astype(float_dtype(dtype, where), copy=False), requires_grad)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new tensor holding a copy of ``data`` (numbers, nested lists, an array, a Tensor), as
    ``torch.tensor``: ``tinygrad_reg.tensor([[1.0, 2.0]], requires_grad=True)``. ``dtype``: a
    float dtype; by default the data's own float dtype, float64 for ints, bools and numbers."""
    values = Tensor(data.data if isinstance(data, Tensor) else data).data
    return _tensor(values, values.dtype if dtype is None else dtype, requires_grad, "tensor")


def zeros(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _tensor(np.zeros(_shape(shape, "zeros")), dtype, requires_grad, "zeros")


def ones(*shape: Any, dtype: Any = np.float64, requires_grad: bool = False) -> Tensor:
    """A tensor of ones: ``ones(2, 3)`` or ``ones((2, 3))``."""
    return _tensor(np.ones(_shape(shape, "ones")), dtype, requires_grad, "ones")


def full(
    shape: Any, fill_value: float, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """A tensor of ``shape`` with every element ``fill_value``."""
    shape = _shape(tuple(shape) if isinstance(shape, (tuple, list)) else (shape,), "full")
    if not isinstance(fill_value, (int, float, np.integer, np.floating)):
        raise TypeError(f"full: fill_value={fill_value!r}; expected a real number.")
    return _tensor(np.full(shape, float(fill_value)), dtype, requires_grad, "full")


def eye(
    n: int, m: int | None = None, k: int = 0, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """An n x m matrix (m = n by default) with ones on the ``k`` diagonal, as ``np.eye``."""
    _shape((n,) if m is None else (n, m), "eye")
    if not is_axis(k):
        raise TypeError(f"eye: k={k!r}; expected an int.")
    return _tensor(np.eye(n, m, k), dtype, requires_grad, "eye")


def arange(
    start: float,
    stop: float | None = None,
    step: float = 1,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """start, start + step, ... up to but excluding stop, as ``np.arange`` (``arange(n)`` is
    0 .. n-1)."""
    if step == 0:
        raise ValueError("arange: step=0; expected a non-zero step.")
    return _tensor(np.arange(start, stop, step, dtype=np.float64), dtype, requires_grad, "arange")


def linspace(
    start: float,
    stop: float,
    num: int = 50,
    endpoint: bool = True,
    dtype: Any = np.float64,
    requires_grad: bool = False,
) -> Tensor:
    """``num`` evenly spaced values from start to stop (included unless ``endpoint=False``), as
    ``np.linspace``."""
    if not is_axis(num) or num < 0:
        raise ValueError(f"linspace: num={num!r}; expected a non-negative int.")
    values = np.linspace(start, stop, num, endpoint=endpoint)
    return _tensor(values, dtype, requires_grad, "linspace")


def _like_dtype(like: Any, dtype: Any) -> Any:
    if dtype is not None:
        return dtype
    kind_of_like = np.asarray(like).dtype
    return kind_of_like if kind_of_like.kind == "f" else np.float64


def zeros_like(like: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of ``like``'s shape (a Tensor or an array) and, unless ``dtype`` is given, its
    float dtype (float64 for int or bool arrays)."""
    return zeros(np.shape(like), dtype=_like_dtype(like, dtype), requires_grad=requires_grad)


def ones_like(like: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones of ``like``'s shape and (unless given) float dtype, as ``zeros_like``."""
    return ones(np.shape(like), dtype=_like_dtype(like, dtype), requires_grad=requires_grad)


class _DefaultGenerator(threading.local):
    """Each thread has its own default generator, made from fresh entropy on first use, so a
    seed set in one thread never changes the numbers another draws."""

    generator: np.random.Generator | None = None


_default = _DefaultGenerator()


def default_generator() -> np.random.Generator:
    """This thread's default generator: what ``randn``, ``rand``, the layers' initialization,
    ``Dropout``'s masks and ``nn.init`` draw from when given no ``rng=``/``generator=``/seed.
    Unseeded, it starts from fresh entropy (different numbers on every run)."""
    if _default.generator is None:
        _default.generator = np.random.default_rng()
    return _default.generator


def manual_seed(seed: int) -> np.random.Generator:
    """Seed this thread's default generator, as ``torch.manual_seed``: after ``manual_seed(0)``,
    ``nn.Linear(3, 2)`` has the same weights on every run. The generator is reseeded in place,
    so layers built before the call (a Dropout holds the generator) follow the new seed too.
    Other threads keep their own generators. Returns the generator."""
    if not (is_axis(seed) and 0 <= seed < 2**64):
        raise ValueError(f"manual_seed: seed={seed!r}; expected an integer in [0, 2**64).")
    generator = default_generator()
    generator.bit_generator.state = np.random.default_rng(int(seed)).bit_generator.state
    return generator


def _generator(rng: Any, where: str) -> np.random.Generator:
    if rng is None:
        return default_generator()
    if is_axis(rng) or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    raise TypeError(
        f"{where}: rng={rng!r}; expected a numpy Generator (np.random.default_rng(...)), an int "
        "seed or None (this thread's default generator, see manual_seed)."
    )


def randn(
    *shape: Any, rng: Any = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Samples of the standard normal distribution: ``randn(2, 3, rng=0)``. ``rng`` is a numpy
    Generator (its state advances) or a seed; None draws from this thread's default generator
    (``manual_seed``)."""
    values = _generator(rng, "randn").standard_normal(_shape(shape, "randn"))
    return _tensor(values, dtype, requires_grad, "randn")


def rand(
    *shape: Any, rng: Any = None, dtype: Any = np.float64, requires_grad: bool = False
) -> Tensor:
    """Samples uniform on [0, 1): ``rand(2, 3, rng=0)``; ``rng`` as for ``randn``."""
    values = _generator(rng, "rand").random(_shape(shape, "rand"))
    target = float_dtype(dtype, "rand")
    # Rounding to a shorter float can turn 0.99999999 into 1.0: keep the interval half-open.
    below_one = np.nextafter(target.type(1), target.type(0))
    return Tensor(np.minimum(values.astype(target), below_one), requires_grad)

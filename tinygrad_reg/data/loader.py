"""``DataLoader``: mini-batches of (X, Y), epoch after epoch, from the loader's own generator.

As PyTorch's ``torch.utils.data.DataLoader`` over a ``TensorDataset(X, Y)``::

    loader = DataLoader(X, Y, batch_size=64, shuffle=True, seed=0)
    for epoch in range(10):
        for X_batch, Y_batch in loader:          # Tensors, one batch of examples each
            ...

Where the examples are: in the course layout they are the columns of X (n_features, m); in
an image batch (m, C, H, W), the NCHW layout of ``nn.Conv2d``, they are along axis 0. The loader
takes a 2-D X as the first and a 4-D X as the second; any other X needs ``examples_axis=``
(a 2-D X with one row per example too: ``examples_axis=0``). Y holds one label per example
along its last axis: (1, m) class indices or 0/1 labels, (C, m) one-hot columns, or (m,).

Each epoch visits every example exactly once: in order, or with ``shuffle=True`` in the order
``generator.permutation(m)`` (one draw per epoch), cut into batches of ``batch_size``; the last
one is smaller when m is not a multiple, or left out with ``drop_last=True`` (PyTorch's rule,
so ``len(loader)`` is ⌈m / batch_size⌉ or ⌊m / batch_size⌋). ``iter(loader)`` goes on from
where the loader is: the rest of an epoch left part-way, else a new epoch.

The generator is the loader's own: ``seed=s`` makes ``np.random.RandomState(s)`` (so the
batches are those of ``fit(..., batch_size=B, seed=s)``), ``generator=`` takes a numpy
RandomState or Generator you made; with neither, the loader's generator is seeded from the
thread's default generator (``manual_seed``). ``state_dict()`` is the epoch, the position
in it and the generator's state at the epoch's start, as JSON; ``load_state_dict`` puts a
loader exactly there, so a resumed run gets the very batches it would have had.

The loader keeps a private read-only copy of X and Y (none for arrays that are already
read-only and own their memory, as ``Tensor`` does): the user's arrays are never changed, and
changing them afterwards does not change the batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from ..factories import default_generator
from ..tensor import Tensor, as_float_array
from .generators import Rng, _describe, _is_integer, generator_state, raw_state, set_generator_state

#: The layouts a loader recognizes by X's number of dimensions: where the examples are.
EXAMPLES_AXIS_BY_NDIM = {2: 1, 4: 0}  # (n_features, m): columns; (m, C, H, W): axis 0


class DataLoader:
    """Batches of (X, Y) as Tensors; see the module docstring for the layouts and the order.

    ``batch_size`` >= 1 (more than m gives one batch of all, or none with ``drop_last``);
    ``shuffle``: a new order every epoch; ``seed``/``generator``: the order's generator (at
    most one of them); ``examples_axis``: X's axis of examples, when its layout is not the
    course's 2-D (n_features, m) or an image batch (m, C, H, W).
    """

    def __init__(
        self,
        X: Any,
        Y: Any,
        *,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        seed: int | None = None,
        generator: Rng | None = None,
        examples_axis: int | None = None,
    ):
        self.X = as_float_array(X, "DataLoader (X)")
        self.Y = as_float_array(Y, "DataLoader (Y)")
        self.examples_axis = _examples_axis(self.X.shape, self.Y.shape, examples_axis)
        self.m = self.X.shape[self.examples_axis]
        _check_labels(self.X.shape, self.examples_axis, self.Y.shape)
        if not (_is_integer(batch_size) and batch_size >= 1):
            raise ValueError(f"DataLoader: batch_size = {batch_size!r}; expected an integer >= 1.")
        for name, value in [("shuffle", shuffle), ("drop_last", drop_last)]:
            if not isinstance(value, (bool, np.bool_)):
                raise TypeError(f"DataLoader: {name} = {value!r}; expected True or False.")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), drop_last
        self.generator = _own_generator(seed, generator)
        self.epoch = 0  # epochs completed
        self.position = 0  # examples of this epoch already handed out
        self._order: np.ndarray | None = None  # this epoch's permutation (shuffle)
        self._epoch_start: Any = None  # raw_state(generator) before drawing it
        self._before_x = (slice(None),) * self.examples_axis  # X[before_x + (batch,)]

    def __len__(self) -> int:
        """Batches per epoch: ⌈m / batch_size⌉, or ⌊m / batch_size⌋ with ``drop_last``."""
        if self.drop_last:
            return self.m // self.batch_size
        return -(-self.m // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        """The batches left in the current epoch (all of them at the start of one)."""
        if len(self) == 0:  # drop_last and fewer examples than one batch
            self.epoch += 1
            return
        epoch = self.epoch
        while self.epoch == epoch:
            yield self.next_batch()

    def next_batch(self) -> tuple[Tensor, Tensor]:
        """The next batch, going on into the next epoch after the last of this one."""
        if len(self) == 0:
            raise ValueError(
                f"DataLoader: no batch to give: drop_last=True and the {self.m} examples are "
                f"fewer than batch_size = {self.batch_size}."
            )
        if self.position == 0 and self.shuffle:  # a new epoch: draw its order
            self._epoch_start = raw_state(self.generator)
            self._order = self.generator.permutation(self.m)
        start, stop = self.position, self.position + self.batch_size
        batch = slice(start, stop) if self._order is None else self._order[start:stop]
        self.position = stop
        if self.m - stop < (self.batch_size if self.drop_last else 1):  # the epoch is over
            self.epoch, self.position, self._order = self.epoch + 1, 0, None
        return Tensor(self.X[(*self._before_x, batch)]), Tensor(self.Y[..., batch])

    def __repr__(self) -> str:
        return (
            f"DataLoader(X {self.X.shape}, Y {self.Y.shape}, examples_axis={self.examples_axis}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )

    def state_dict(self) -> dict[str, Any]:
        """{"epoch", "position" (examples handed out in this epoch), "generator" (its state at
        the start of this epoch)}: plain JSON, to save with a run."""
        mid_epoch = self.position > 0 and self._epoch_start is not None
        snapshot = self._epoch_start if mid_epoch else None
        return {
            "epoch": self.epoch,
            "position": self.position,
            "generator": generator_state(self.generator, snapshot),
        }

    def load_state_dict(self, state: Any, where: str = "DataLoader.load_state_dict") -> None:
        """Continue from a ``state_dict()`` (of a loader over the same m examples): checked
        first, a ValueError naming ``where`` and nothing changed if it does not fit. A state
        without "epoch" (saved before the loader counted them) is taken as epoch 0."""
        keys = set(state) if isinstance(state, dict) else set()
        if keys not in ({"epoch", "position", "generator"}, {"position", "generator"}):
            raise ValueError(
                f"{where}: the batch order is {_describe(state)}; expected a dict with 'epoch', "
                "'position' and 'generator' (DataLoader.state_dict())."
            )
        epoch, position = state.get("epoch", 0), state["position"]
        if not (_is_integer(epoch) and epoch >= 0):
            raise ValueError(
                f"{where}: the batch order is at epoch {epoch!r}; expected an integer >= 0."
            )
        if not (_is_integer(position) and 0 <= position < self.m):
            raise ValueError(
                f"{where}: the batch order is at example {position!r} of its epoch; expected "
                f"an integer from 0 to m - 1 = {self.m - 1} (the same examples as the run "
                "that saved it)."
            )
        set_generator_state(self.generator, state["generator"], where)  # checked, then set
        self.epoch, self.position, self._order = int(epoch), int(position), None
        self._epoch_start = raw_state(self.generator)
        if position and self.shuffle:  # mid-epoch: draw this epoch's order again
            self._order = self.generator.permutation(self.m)


def _own_generator(seed: Any, generator: Any) -> Rng:
    """The loader's generator, from ``seed=`` or ``generator=`` or the thread's default."""
    if seed is not None and generator is not None:
        raise ValueError("DataLoader: seed and generator both given; expected at most one.")
    if generator is not None:
        if not isinstance(generator, (np.random.RandomState, np.random.Generator)):
            raise TypeError(
                f"DataLoader: generator is a {type(generator).__name__}; expected a numpy "
                "RandomState or Generator (or seed=an integer)."
            )
        return generator
    if seed is None:
        source = default_generator()
        draw = source.integers if isinstance(source, np.random.Generator) else source.randint
        seed = int(draw(2**32))
    if not (_is_integer(seed) and 0 <= seed < 2**32):
        raise ValueError(f"DataLoader: seed = {seed!r}; expected an integer in [0, 2**32).")
    return np.random.RandomState(seed)


def _examples_axis(x_shape: tuple[int, ...], y_shape: tuple[int, ...], given: Any) -> int:
    """X's axis of examples: ``given``, or the one its layout implies (2-D: columns, 4-D: 0)."""
    ndim = len(x_shape)
    if given is None:
        if ndim not in EXAMPLES_AXIS_BY_NDIM:
            raise ValueError(
                f"DataLoader: X has shape {x_shape} and Y {y_shape}; a {ndim}-D X does not say "
                "where its examples are: expected the course's (n_features, m), an image batch "
                "(m, C, H, W), or examples_axis= naming X's axis of examples."
            )
        return EXAMPLES_AXIS_BY_NDIM[ndim]
    if not (_is_integer(given) and -ndim <= given < ndim):
        raise ValueError(
            f"DataLoader: examples_axis = {given!r}; expected an axis of X, whose shape is "
            f"{x_shape} (from {-ndim} to {ndim - 1})."
        )
    return int(given) % ndim


def _check_labels(x_shape: tuple[int, ...], axis: int, y_shape: tuple[int, ...]) -> None:
    """Y holds one label per example of X along its last axis, and X holds at least one."""
    m = x_shape[axis]
    if len(y_shape) in (1, 2) and y_shape[-1] == m and m > 0:
        return
    advice = "."
    if len(y_shape) == 2 and y_shape[0] == m:
        advice = "; Y looks like one row per example: pass Y.T."
    elif len(x_shape) == 2 and y_shape and y_shape[-1] == x_shape[1 - axis]:
        advice = f"; X looks like one {'row' if axis == 1 else 'column'} per example: pass X.T."
    raise ValueError(
        f"DataLoader: X has shape {x_shape} ({m} examples along axis {axis}) but Y has shape "
        f"{y_shape}; expected at least one example and Y of shape (1, {m}), (C, {m}) or ({m},): "
        f"one label per example along its last axis{advice}"
    )

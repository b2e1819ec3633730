"""The random streams of a training run, and their states as plain JSON, to save with it.

Two streams make a run random: the dropout masks (the model's generator, ``MLP.rng``) and the
order of the mini-batches (``BatchOrder``, built by ``fit`` from its ``seed``). A run saved
with both states and restored from them goes on with the very masks and batches it would have
had without the pause::

    saved = generator_state(model.rng)            # a dict of numbers: JSON, no pickle
    set_generator_state(other.rng, saved, "resume")
    history = fit(model, X, Y, batch_size=64, iterations=2000)
    fit(other, X, Y, batch_size=64, iterations=4000, start_iteration=2000,
        batch_order=history.batch_order)

As PyTorch's ``Generator.get_state``/``set_state`` and the ``state_dict`` of a stateful data
loader. Every state read back is checked first: a bad one is a ValueError naming it, and the
generator is left as it was.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Rng = np.random.RandomState | np.random.Generator

# np.random.RandomState's Mersenne Twister: 624 32-bit words and a position in them.
_MT_WORDS = 624


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def generator_state(rng: Rng) -> dict[str, Any]:
    """The state of a RandomState or Generator as a JSON-serializable dict."""
    if isinstance(rng, np.random.Generator):
        return {"bit_generator": rng.bit_generator.state}
    if not isinstance(rng, np.random.RandomState):
        raise TypeError(f"generator_state: expected a numpy RandomState or Generator; got {rng!r}.")
    return _random_state_json(rng.get_state())


def _random_state_json(state: tuple) -> dict[str, Any]:
    """RandomState.get_state()'s tuple as JSON."""
    _, keys, pos, has_gauss, cached_gaussian = state
    return {
        "keys": keys.tolist(),
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": float(cached_gaussian),
    }


def set_generator_state(rng: Rng, state: Any, where: str) -> None:
    """Put ``rng`` in the state ``generator_state`` returned; a state that does not fit is a
    ValueError (``where`` names the caller) and ``rng`` is unchanged."""
    if isinstance(rng, np.random.Generator):
        _set_bit_generator(rng, state, where)
        return
    expected = {"keys", "pos", "has_gauss", "cached_gaussian"}
    if not isinstance(state, dict) or set(state) != expected:
        raise ValueError(
            f"{where}: the generator state is {_describe(state)}; expected a RandomState's: "
            f"{sorted(expected)}."
        )
    keys, pos, has_gauss = state["keys"], state["pos"], state["has_gauss"]
    cached = state["cached_gaussian"]
    valid = (
        isinstance(keys, list)
        and len(keys) == _MT_WORDS
        and all(_is_integer(k) and 0 <= k < 2**32 for k in keys)
        and _is_integer(pos)
        and 0 <= pos <= _MT_WORDS
        and has_gauss in (0, 1)
        and not isinstance(has_gauss, bool)
        and isinstance(cached, (int, float))
        and not isinstance(cached, bool)
        and np.isfinite(cached)
    )
    if not valid:
        raise ValueError(
            f"{where}: the generator state does not hold a RandomState's: expected keys as "
            f"{_MT_WORDS} integers in [0, 2**32), pos in [0, {_MT_WORDS}], has_gauss 0 or 1 and "
            "a finite cached_gaussian."
        )
    rng.set_state(("MT19937", np.array(keys, dtype=np.uint32), pos, has_gauss, float(cached)))


def _set_bit_generator(rng: np.random.Generator, state: Any, where: str) -> None:
    saved = state.get("bit_generator") if isinstance(state, dict) else None
    name = type(rng.bit_generator).__name__
    if not isinstance(saved, dict) or saved.get("bit_generator") != name:
        raise ValueError(
            f"{where}: the generator state is {_describe(state)}; expected a {name} Generator's."
        )
    before = rng.bit_generator.state
    try:
        rng.bit_generator.state = saved
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        rng.bit_generator.state = before
        raise ValueError(f"{where}: the {name} state does not fit ({error}).") from None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    return f"a {type(value).__name__}"


class BatchOrder:
    """Which examples each iteration of ``fit`` trains on, and where a run is in that order.

    ``batch_size=None``: all m examples every time (the course). Otherwise each epoch draws an
    order ``np.random.RandomState(seed).permutation(m)`` (one draw per epoch, from one stream)
    and goes through it in batches of ``batch_size``, the last one smaller if m is not a
    multiple. ``state_dict()`` is the stream's state at the start of the current epoch and the
    position in its order; ``load_state_dict`` puts a new BatchOrder exactly there.
    """

    def __init__(self, m: int, batch_size: int | None, seed: int):
        self.m, self.batch_size = m, batch_size
        self.rng = np.random.RandomState(seed)
        self.epoch_start = self.rng.get_state()  # the stream before this epoch's order
        self.order: np.ndarray | None = None
        self.position = 0  # examples of this epoch's order already handed out

    def next_columns(self) -> np.ndarray | None:
        """The columns (examples) of the next batch; None for all of them."""
        if self.batch_size is None:
            return None
        if self.order is None:  # a new epoch
            self.epoch_start = self.rng.get_state()
            self.order = self.rng.permutation(self.m)
        columns = self.order[self.position : self.position + self.batch_size]
        self.position += self.batch_size
        if self.position >= self.m:
            self.order, self.position = None, 0
        return columns

    def state_dict(self) -> dict[str, Any]:
        """{"generator": the stream's state at the start of the epoch, "position": ...}, JSON."""
        start = self.epoch_start if self.order is not None else self.rng.get_state()
        return {"generator": _random_state_json(start), "position": self.position}

    def load_state_dict(self, state: Any, where: str = "BatchOrder.load_state_dict") -> None:
        """Continue from a ``state_dict()``: checked first (ValueError, nothing changed)."""
        if not isinstance(state, dict) or set(state) != {"generator", "position"}:
            raise ValueError(
                f"{where}: the batch order is {_describe(state)}; expected a dict with "
                "'generator' and 'position' (BatchOrder.state_dict())."
            )
        position = state["position"]
        if not (_is_integer(position) and 0 <= position < self.m):
            raise ValueError(
                f"{where}: the batch order is at example {position!r} of its epoch; expected "
                f"an integer from 0 to m - 1 = {self.m - 1} (the same examples as the run "
                "that saved it)."
            )
        rng = np.random.RandomState(0)  # its state comes next
        set_generator_state(rng, state["generator"], where)
        self.rng, self.epoch_start, self.order, self.position = rng, rng.get_state(), None, 0
        if position and self.batch_size is not None:  # mid-epoch: draw this epoch's order again
            self.order, self.position = rng.permutation(self.m), position
        elif position:  # whole-set batches never use the order: keep the place for later runs
            self.position = position

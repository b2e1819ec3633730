"""The states of random generators as plain JSON, to save with a run and continue it exactly.

Two streams make a training run random: the dropout masks (the model's generator, ``MLP.rng``)
and the order of the mini-batches (the ``DataLoader``'s generator, ``loader.py``; ``fit``
seeds it with its ``seed``). A run saved with both states and restored from them goes on with
the very masks and batches it would have had without the pause::

    saved = generator_state(model.rng)            # a dict of numbers: JSON, no pickle
    set_generator_state(other.rng, saved, "resume")
    history = fit(model, X, Y, batch_size=64, iterations=2000)
    fit(other, X, Y, batch_size=64, iterations=4000, start_iteration=2000,
        batch_order=history.batch_order)          # the DataLoader's state_dict()

As PyTorch's ``Generator.get_state``/``set_state``. Every state read back is checked first: a
bad one is a ValueError naming it, and the generator is left as it was. The module sits in
``data/`` (below ``train/``) because the DataLoader's ``state_dict`` needs it too.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Rng = np.random.RandomState | np.random.Generator

# np.random.RandomState's Mersenne Twister: 624 32-bit words and a position in them.
_MT_WORDS = 624


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def raw_state(rng: Rng) -> Any:
    """numpy's own snapshot of ``rng`` (cheap: no conversion), for ``generator_state`` later."""
    if isinstance(rng, np.random.Generator):
        return rng.bit_generator.state
    if not isinstance(rng, np.random.RandomState):
        raise TypeError(f"generator_state: expected a numpy RandomState or Generator; got {rng!r}.")
    return rng.get_state()


def generator_state(rng: Rng, snapshot: Any = None) -> dict[str, Any]:
    """The state of a RandomState or Generator as a JSON-serializable dict: its state now, or
    the ``snapshot`` that ``raw_state(rng)`` took earlier."""
    state = raw_state(rng) if snapshot is None else snapshot
    if isinstance(rng, np.random.Generator):
        return {"bit_generator": state}
    return _random_state_json(state)


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

"""data/generators.py: the random streams' states as JSON, checked when read back."""

import json

import numpy as np
import pytest

from tinygrad_reg.data.generators import generator_state, set_generator_state


@pytest.mark.parametrize(
    "make",
    [lambda: np.random.RandomState(7), lambda: np.random.default_rng(7)],
    ids=["RandomState", "Generator"],
)
def test_a_generator_state_round_trips_through_json(make):
    rng = make()
    rng.random(5)
    if isinstance(rng, np.random.RandomState):
        rng.standard_normal()  # a cached Gaussian is part of the state
    state = json.loads(json.dumps(generator_state(rng)))
    expected = rng.random(8)
    other = make()
    set_generator_state(other, state, "test")
    np.testing.assert_array_equal(other.random(8), expected)


def random_state():
    return generator_state(np.random.RandomState(0))


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.pop("keys"),
        lambda s: s.update(keys=s["keys"][:-1]),
        lambda s: s.update(keys=["a"] * 624),
        lambda s: s.update(keys=[2**32] * 624),
        lambda s: s.update(pos=625),
        lambda s: s.update(pos="1"),
        lambda s: s.update(has_gauss=True),
        lambda s: s.update(cached_gaussian=float("nan")),
        lambda s: s.update(extra=1),
    ],
)
def test_a_bad_generator_state_is_refused_and_changes_nothing(change):
    state = random_state()
    change(state)
    rng = np.random.RandomState(5)
    before = rng.get_state()[1].copy()
    with pytest.raises(ValueError, match="where: the generator state"):
        set_generator_state(rng, state, "where")
    np.testing.assert_array_equal(rng.get_state()[1], before)


def test_a_bad_generator_state_for_a_generator_is_refused():
    rng = np.random.default_rng(1)
    expected = np.random.default_rng(1).random(3)
    for state in [random_state(), {"bit_generator": {"bit_generator": "PCG64", "state": 5}}, 3]:
        with pytest.raises(ValueError, match="where: the"):
            set_generator_state(rng, state, "where")
    np.testing.assert_array_equal(rng.random(3), expected)

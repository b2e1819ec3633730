"""train/generators.py: the random streams' states as JSON, and BatchOrder continuing exactly."""

import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg.train.generators import BatchOrder, generator_state, set_generator_state


def draws(order, n):
    """The next n batches' columns (None for the whole set)."""
    return [order.next_columns() for _ in range(n)]


@given(
    m=st.integers(1, 40),
    batch_size=st.integers(1, 45),
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(0, 30),
)
def test_the_batches_are_each_epochs_permutation_of_one_seeded_stream(m, batch_size, seed, steps):
    """Epoch after epoch, RandomState(seed).permutation(m) cut into batches: the order fit has
    always used, so no earlier result changes."""
    batch_size = min(batch_size, m)
    rng = np.random.RandomState(seed)
    expected = []
    while len(expected) < steps + 1:
        order = rng.permutation(m)
        expected += [order[i : i + batch_size] for i in range(0, m, batch_size)]
    for mine, theirs in zip(draws(BatchOrder(m, batch_size, seed), steps + 1), expected):
        np.testing.assert_array_equal(mine, theirs)


@given(
    m=st.integers(1, 30),
    batch_size=st.integers(1, 30),
    seed=st.integers(0, 2**32 - 1),
    before=st.integers(0, 25),
    after=st.integers(1, 25),
)
def test_a_state_saved_anywhere_continues_with_the_same_batches(m, batch_size, seed, before, after):
    batch_size = min(batch_size, m)
    whole = draws(BatchOrder(m, batch_size, seed), before + after)
    first = BatchOrder(m, batch_size, seed)
    draws(first, before)
    saved = json.loads(json.dumps(first.state_dict()))  # through JSON, as in a checkpoint
    second = BatchOrder(m, batch_size, seed=12345)  # another seed: the state decides
    second.load_state_dict(saved)
    for mine, theirs in zip(draws(second, after), whole[before:]):
        np.testing.assert_array_equal(mine, theirs)


def test_the_whole_set_draws_nothing_and_keeps_its_place():
    order = BatchOrder(10, None, seed=3)
    assert draws(order, 3) == [None] * 3
    assert order.state_dict() == BatchOrder(10, None, seed=3).state_dict()
    mini = BatchOrder(10, 4, seed=3)
    mini.next_columns()
    saved = mini.state_dict()
    whole = BatchOrder(10, None, seed=0)
    whole.load_state_dict(saved)  # a mini-batch run continued on the whole set...
    assert whole.state_dict() == saved  # ...passes the place on unchanged


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


@pytest.mark.parametrize(
    "state, message",
    [
        ([], "expected a dict with 'generator' and 'position'"),
        ({"generator": random_state()}, "expected a dict"),
        ({"generator": random_state(), "position": 10}, "at example 10 of its epoch"),
        ({"generator": random_state(), "position": -1}, "at example -1"),
        ({"generator": random_state(), "position": 1.0}, "at example 1.0"),
        ({"generator": {}, "position": 0}, "the generator state"),
    ],
)
def test_a_bad_batch_order_is_refused(state, message):
    order = BatchOrder(10, 4, seed=3)
    expected = BatchOrder(10, 4, seed=3).state_dict()
    with pytest.raises(ValueError, match=message):
        order.load_state_dict(state, "here")
    assert order.state_dict() == expected

"""data/loader.py: DataLoader's batches, epochs, seeds and state, against torch's DataLoader."""

import json

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg.data.generators import generator_state
from tinygrad_reg.data.loader import DataLoader


def numbered(m, features=3):
    """X (features, m) whose column j holds j, 10j, 100j, ...; Y (1, m) holding j."""
    examples = np.arange(m, dtype=np.float64)
    return np.stack([examples * 10**k for k in range(features)]), examples.reshape(1, m)


def examples_of(batches):
    """The example numbers of each batch, read from its labels."""
    return [Y.numpy().ravel().astype(int).tolist() for _, Y in batches]


def next_batches(loader, n):
    return examples_of(loader.next_batch() for _ in range(n))


@given(
    m=st.integers(1, 40),
    batch_size=st.integers(1, 45),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_each_epoch_visits_every_example_once_in_batches_sized_as_torchs(
    m, batch_size, shuffle, drop_last, seed
):
    X, Y = numbered(m)
    loader = DataLoader(
        X, Y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, seed=seed
    )
    theirs = torch.utils.data.DataLoader(
        range(m), batch_size=batch_size, shuffle=shuffle, drop_last=drop_last
    )
    assert len(loader) == len(theirs)
    orders = []
    for epoch in range(3):
        batches = list(loader)
        assert loader.epoch == epoch + 1 and loader.position == 0
        assert [Xb.shape[1] for Xb, _ in batches] == [len(b) for b in theirs]
        for Xb, Yb in batches:  # the columns of X and Y travel together
            assert Xb.shape == (3, Yb.shape[1]) and Yb.shape[0] == 1
            np.testing.assert_array_equal(Xb.numpy(), X[:, Yb.numpy().ravel().astype(int)])
        seen = [j for batch in examples_of(batches) for j in batch]
        assert (
            len(seen)
            == len(set(seen))
            == len(loader) * batch_size
            - (0 if drop_last or m % batch_size == 0 else batch_size - m % batch_size)
        )
        if not shuffle:
            assert seen == list(range(len(seen)))
        orders.append(seen)
    if shuffle and len(orders[0]) >= 8:  # 8! orders: three equal epochs: a stuck generator
        assert not orders[0] == orders[1] == orders[2]


@given(m=st.integers(1, 30), batch_size=st.integers(1, 30), seed=st.integers(0, 2**32 - 1))
def test_a_seed_gives_fits_order_every_time(m, batch_size, seed):
    """Epoch after epoch, RandomState(seed).permutation(m) cut into batches: the order fit has
    always used, so fit's results do not change."""
    X, Y = numbered(m)
    loader = DataLoader(X, Y, batch_size=batch_size, shuffle=True, seed=seed)
    again = DataLoader(X, Y, batch_size=batch_size, shuffle=True, seed=seed)
    rng = np.random.RandomState(seed)
    for _ in range(2):
        order = rng.permutation(m).tolist()
        expected = [order[i : i + batch_size] for i in range(0, m, batch_size)]
        assert examples_of(loader) == expected == examples_of(again)


@given(
    m=st.integers(1, 30),
    batch_size=st.integers(1, 30),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
    before=st.integers(0, 25),
    after=st.integers(1, 25),
    numpy_generator=st.booleans(),
)
def test_a_state_saved_mid_epoch_gives_the_same_remaining_batches(
    m, batch_size, shuffle, drop_last, before, after, numpy_generator
):
    X, Y = numbered(m)
    batch_size = min(batch_size, m)  # at least one batch per epoch, drop_last or not

    def make(seed):
        generator = np.random.default_rng(seed) if numpy_generator else None
        return DataLoader(
            X,
            Y,
            batch_size=batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            generator=generator,
            seed=None if numpy_generator else seed,
        )

    whole = next_batches(make(5), before + after)
    first = make(5)
    next_batches(first, before)
    saved = json.loads(json.dumps(first.state_dict()))  # through JSON, as in a checkpoint
    assert saved["epoch"] == before // len(first)
    second = make(12345)  # another seed: the state decides
    second.load_state_dict(saved)
    assert second.state_dict() == saved
    assert next_batches(second, after) == whole[before:]
    assert next_batches(first, after) == whole[before:]  # saving changed nothing


def test_iterating_again_goes_on_with_the_epoch_left_part_way():
    X, Y = numbered(10)
    loader = DataLoader(X, Y, batch_size=3, shuffle=True, seed=2)
    expected = examples_of(DataLoader(X, Y, batch_size=3, shuffle=True, seed=2))
    first = next(iter(loader))  # a loop left after one batch
    assert examples_of([first]) + examples_of(loader) == expected
    assert loader.epoch == 1 and len(examples_of(loader)) == 4  # then a new epoch


def test_drop_last_with_fewer_examples_than_a_batch_gives_no_batch_as_torch():
    X, Y = numbered(5)
    loader = DataLoader(X, Y, batch_size=8, drop_last=True)
    assert len(loader) == 0 == len(torch.utils.data.DataLoader(range(5), 8, drop_last=True))
    assert list(loader) == [] and loader.epoch == 1
    assert examples_of(DataLoader(X, Y, batch_size=8)) == [[0, 1, 2, 3, 4]]


def test_image_batches_have_their_examples_on_axis_0():
    images = np.arange(6 * 2 * 3 * 3, dtype=np.float64).reshape(6, 2, 3, 3)
    labels = np.arange(6.0)  # (m,), as PyTorch's targets
    loader = DataLoader(images, labels, batch_size=4, shuffle=True, seed=1)
    assert loader.examples_axis == 0
    batches = list(loader)
    assert [(Xb.shape, Yb.shape) for Xb, Yb in batches] == [
        ((4, 2, 3, 3), (4,)),
        ((2, 2, 3, 3), (2,)),
    ]
    for Xb, Yb in batches:
        np.testing.assert_array_equal(Xb.numpy(), images[Yb.numpy().astype(int)])


def test_examples_axis_says_where_the_examples_are():
    rows = np.arange(12.0).reshape(4, 3)  # 4 examples as rows
    loader = DataLoader(rows, np.arange(4.0), batch_size=3, examples_axis=0)
    assert [Xb.shape for Xb, _ in loader] == [(3, 3), (1, 3)]
    sequences = np.zeros((2, 5, 7))  # (T, m, F): the examples on axis 1
    assert DataLoader(sequences, np.zeros(5), batch_size=2, examples_axis=-2).m == 5


def test_the_users_arrays_are_never_changed_and_later_changes_do_not_leak_in():
    X, Y = numbered(6)
    X_before, Y_before = X.copy(), Y.copy()
    loader = DataLoader(X, Y, batch_size=6)
    list(loader)
    assert X.flags.writeable and Y.flags.writeable
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Y, Y_before)
    X[:] = -1.0  # the loader's data is its own
    ((Xb, _),) = list(loader)
    np.testing.assert_array_equal(Xb.numpy(), X_before)


def test_without_seed_or_generator_each_loader_has_its_own_stream():
    X, Y = numbered(20)
    first, second = (DataLoader(X, Y, batch_size=20, shuffle=True) for _ in range(2))
    assert examples_of(first) != examples_of(second)  # 1 chance in 20! to fail


def test_a_state_from_before_the_loader_counted_epochs_continues():
    X, Y = numbered(10)
    loader = DataLoader(X, Y, batch_size=4, shuffle=True, seed=3)
    loader.next_batch()
    expected = next_batches(loader, 3)
    state = DataLoader(X, Y, batch_size=4, shuffle=True, seed=3).state_dict()
    state["position"] = 4
    del state["epoch"]  # what BatchOrder saved
    other = DataLoader(X, Y, batch_size=4, shuffle=True, seed=0)
    other.load_state_dict(state)
    assert next_batches(other, 3) == expected and other.epoch == 1


def random_state():
    return generator_state(np.random.RandomState(0))


@pytest.mark.parametrize(
    "state, message",
    [
        ([], "the batch order is a list; expected a dict with 'epoch', 'position'"),
        ({"generator": random_state()}, "expected a dict"),
        ({"epoch": 0, "generator": random_state(), "position": 10}, "at example 10 of its"),
        ({"epoch": 0, "generator": random_state(), "position": -1}, "at example -1"),
        ({"epoch": 0, "generator": random_state(), "position": 1.0}, "at example 1.0"),
        ({"epoch": -1, "generator": random_state(), "position": 0}, "at epoch -1"),
        ({"epoch": 0, "generator": {}, "position": 0}, "the generator state"),
        ({"epoch": 0, "generator": random_state(), "position": 0, "more": 1}, "expected a dict"),
    ],
)
def test_a_bad_state_is_refused_and_changes_nothing(state, message):
    X, Y = numbered(10)
    loader = DataLoader(X, Y, batch_size=4, shuffle=True, seed=3)
    loader.next_batch()
    expected = loader.state_dict()
    with pytest.raises(ValueError, match=message):
        loader.load_state_dict(state, "here")
    assert loader.state_dict() == expected


@pytest.mark.parametrize(
    "X, Y, options, error, message",
    [
        (np.zeros((3, 5)), np.zeros((1, 4)), {}, ValueError, r"X has shape \(3, 5\) \(5 examples"),
        (np.zeros((3, 5)), np.zeros((5, 1)), {}, ValueError, "pass Y.T"),
        (np.zeros((5, 3)), np.zeros(5), {}, ValueError, "one row per example: pass X.T"),
        (np.zeros((3, 0)), np.zeros((1, 0)), {}, ValueError, "at least one example"),
        (np.zeros((3, 5)), np.zeros((1, 1, 5)), {}, ValueError, r"Y has shape \(1, 1, 5\)"),
        (np.zeros((2, 3, 5)), np.zeros(5), {}, ValueError, "a 3-D X does not say where"),
        (np.zeros((3, 5)), np.zeros(5), {"examples_axis": 2}, ValueError, "examples_axis = 2"),
        (np.zeros((3, 5)), np.zeros(5), {"batch_size": 0}, ValueError, "batch_size = 0"),
        (np.zeros((3, 5)), np.zeros(5), {"batch_size": True}, ValueError, "batch_size = True"),
        (np.zeros((3, 5)), np.zeros(5), {"batch_size": 2.0}, ValueError, "batch_size = 2.0"),
        (np.zeros((3, 5)), np.zeros(5), {"shuffle": 1}, TypeError, "shuffle = 1"),
        (np.zeros((3, 5)), np.zeros(5), {"seed": -1}, ValueError, "seed = -1"),
        (
            np.zeros((3, 5)),
            np.zeros(5),
            {"seed": 1, "generator": np.random.default_rng()},
            ValueError,
            "seed and generator both given",
        ),
        (np.zeros((3, 5)), np.zeros(5), {"generator": 3}, TypeError, "generator is a int"),
        (np.array([["a"]]), np.zeros(1), {}, TypeError, r"DataLoader \(X\): unsupported dtype"),
    ],
)
def test_bad_arguments_get_an_error_naming_the_loader_and_the_shapes(X, Y, options, error, message):
    with pytest.raises(error, match=message) as caught:
        DataLoader(X, Y, **options)
    assert str(caught.value).startswith("DataLoader")

"""The digits loader: the course layout, a stratified seeded split, and a clear error without
scikit-learn (the ``digits`` extra, part of the test extra)."""

import sys

import numpy as np
import pytest

from tinygrad_reg.data import DataError, load_digits

sklearn_datasets = pytest.importorskip("sklearn.datasets", reason="the digits extra is missing")


def test_the_digits_come_in_the_course_layout_split_by_class():
    data = load_digits(test_fraction=0.25, seed=3)
    assert data.train_X.shape[0] == 64 and data.train_Y.shape == (1, data.train_X.shape[1])
    assert data.train_X.shape[1] + data.test_X.shape[1] == 1797
    assert data.train_X.dtype == data.train_Y.dtype == np.float64
    assert data.train_X.min() == 0.0 and data.train_X.max() == 1.0
    reference = sklearn_datasets.load_digits()
    for digit in range(10):
        in_class = int(np.sum(reference.target == digit))
        assert np.sum(data.test_Y == digit) == round(0.25 * in_class)
    # every image is in exactly one split, unchanged apart from the scale
    both = np.concatenate([data.train_X, data.test_X], axis=1).T * 16.0
    assert sorted(map(tuple, both)) == sorted(map(tuple, reference.data))


def test_the_split_depends_on_the_seed_only():
    first, again, other = load_digits(seed=1), load_digits(seed=1), load_digits(seed=2)
    np.testing.assert_array_equal(first.test_X, again.test_X)
    assert not np.array_equal(first.test_X, other.test_X)


def test_images_are_nchw_and_match_the_columns():
    columns, images = load_digits(seed=0), load_digits(seed=0, images=True)
    assert images.train_X.shape == (columns.train_X.shape[1], 1, 8, 8)
    np.testing.assert_array_equal(images.train_X.reshape(-1, 64).T, columns.train_X)
    np.testing.assert_array_equal(images.train_Y, columns.train_Y)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"test_fraction": 1.0}, r"load_digits: test_fraction must be in \(0, 1\), got 1\.0"),
        ({"test_fraction": True}, r"test_fraction must be in \(0, 1\), got True"),
        ({"seed": 1.5}, r"load_digits: seed must be an integer, got 1\.5"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(DataError, match=message):
        load_digits(**kwargs)


def test_without_scikit_learn_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError, match=r"load_digits needs scikit-learn: pip install 'tinygrad_r"):
        load_digits()

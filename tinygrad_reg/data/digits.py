"""The 8×8 handwritten digits, in the course layout, split once into train and test.

The 1,797 images (10 classes, pixel values 0..16) come with scikit-learn
(``sklearn.datasets.load_digits``, a copy of the UCI "Optical Recognition of Handwritten Digits"
test set); scikit-learn is an optional extra: ``pip install 'tinygrad_reg[digits]'``. Nothing is
downloaded: the data is inside scikit-learn's package.

``load_digits`` scales the pixels to [0, 1] and returns X of shape (64, m) (one column per
image, the course layout) and Y of shape (1, m) holding the class 0..9, float64, as every
dataset in ``data`` does. ``images=True`` gives X as (m, 1, 8, 8) instead, the NCHW layout
that ``nn.Conv2d`` takes. The split is a seeded permutation, stratified by class, so the same
seed gives the same split on every machine.
"""

from __future__ import annotations

import numpy as np

from .datasets import DataError, Dataset

__all__ = ["DIGITS_INSTALL_HINT", "load_digits"]

DIGITS_INSTALL_HINT = "pip install 'tinygrad_reg[digits]' (or pip install scikit-learn)"


def load_digits(test_fraction: float = 0.2, seed: int = 0, *, images: bool = False) -> Dataset:
    """The digits split into train and test: X (64, m) in [0, 1] (or (m, 1, 8, 8) with
    ``images=True``), Y (1, m) of class indices 0.0..9.0; ``test_fraction`` of each class goes
    to the test split, chosen by a generator seeded with ``seed``."""
    is_fraction = isinstance(test_fraction, (float, int)) and not isinstance(test_fraction, bool)
    if not (is_fraction and 0.0 < test_fraction < 1.0):
        raise DataError(f"load_digits: test_fraction must be in (0, 1), got {test_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"load_digits: seed must be an integer, got {seed!r}")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError:
        raise DataError(f"load_digits needs scikit-learn: {DIGITS_INSTALL_HINT}") from None
    bunch = sklearn_load_digits()
    pixels = np.asarray(bunch.data, dtype=np.float64) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)

    # A stratified split: each class gives the same fraction of its images to the test set, so
    # both splits keep the classes' proportions.
    rng = np.random.default_rng(seed)
    test_rows = []
    for digit in range(10):
        rows = rng.permutation(np.flatnonzero(labels == digit))
        test_rows.append(rows[: round(test_fraction * len(rows))])
    is_test = np.zeros(len(labels), dtype=bool)
    is_test[np.concatenate(test_rows)] = True

    def course_layout(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = pixels[rows].reshape(-1, 1, 8, 8) if images else pixels[rows].T.copy()
        return X, labels[rows].astype(np.float64).reshape(1, -1)

    train_X, train_Y = course_layout(np.flatnonzero(~is_test))
    test_X, test_Y = course_layout(np.flatnonzero(is_test))
    return Dataset(train_X, train_Y, test_X, test_Y, "digits")

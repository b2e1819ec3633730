"""Tests for tinygrad_reg.datasets: the generated datasets and the file loader."""

from __future__ import annotations

import os
import pickle
import re
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_reg import datasets
from tinygrad_reg.data.datasets import DataError, Dataset, load, load_file

BINARY_MAKERS = {
    "field": datasets.make_field,
    "moons": datasets.make_moons,
    "circles": datasets.make_circles,
}
MAKERS = {**BINARY_MAKERS, "spiral": datasets.make_spiral}
CLASSES = {"field": 2, "moons": 2, "circles": 2, "spiral": 3}


# --- generated datasets ----------------------------------------------------------------------


def test_names_lists_every_dataset_default_first():
    assert datasets.DEFAULT == "field"
    assert datasets.names() == ["field", "moons", "circles", "spiral"]


@pytest.mark.parametrize("name", list(MAKERS))
def test_same_seed_gives_identical_arrays(name):
    first, second = load(name, seed=7), load(name, seed=7)
    for a, b in zip(first[:4], second[:4]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", list(MAKERS))
def test_different_seeds_give_different_arrays(name):
    first, second = load(name, seed=0), load(name, seed=1)
    assert not np.array_equal(first.train_X, second.train_X)
    assert not np.array_equal(first.test_X, second.test_X)


@pytest.mark.parametrize("name", list(MAKERS))
def test_train_and_test_sets_are_different_draws(name):
    data = load(name)
    assert not np.array_equal(data.train_X, data.test_X)


@pytest.mark.parametrize("name", list(MAKERS))
@given(n_train=st.integers(2, 300), n_test=st.integers(2, 300), seed=st.integers(0, 2**32))
def test_course_layout_shapes_dtypes_and_labels(name, n_train, n_test, seed):
    data = MAKERS[name](n_train, n_test, seed=seed)
    assert isinstance(data, Dataset) and data.name == name
    for X, Y, m in ((data.train_X, data.train_Y, n_train), (data.test_X, data.test_Y, n_test)):
        assert X.shape == (2, m) and Y.shape == (1, m)
        assert X.dtype == np.float64 and Y.dtype == np.float64
        assert np.isfinite(X).all()
        assert set(np.unique(Y)) <= set(range(CLASSES[name]))


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize("seed", range(5))
def test_every_class_about_equally_common_in_both_splits(name, seed):
    data = load(name, seed=seed)
    K = CLASSES[name]
    for Y in (data.train_Y, data.test_Y):
        shares = np.bincount(Y[0].astype(int), minlength=K) / Y.shape[1]
        assert np.all(np.abs(shares - 1 / K) < 0.2 / K)


@given(m=st.integers(2, 101), K=st.integers(2, 7), seed=st.integers(0, 1000))
def test_spiral_classes_are_balanced_and_each_is_an_arm(m, K, seed):
    data = datasets.make_spiral(m, m, noise=0.0, seed=seed, n_classes=K)
    counts = np.bincount(data.train_Y[0].astype(int), minlength=K)
    assert counts.max() - counts.min() <= 1 and counts.sum() == m
    radius = np.linalg.norm(data.train_X, axis=0)
    assert radius.max() <= 1.0
    # Without noise, a point's angle is 2π·(k/K + turns·r): its class is read off from it.
    angle = np.arctan2(data.train_X[1], data.train_X[0]) / (2 * np.pi)
    k = np.round((angle - datasets.SPIRAL_TURNS * radius) * K) % K
    np.testing.assert_array_equal(k, data.train_Y[0])


def test_spiral_n_classes_is_checked():
    for bad in (1, 2.5, True):
        with pytest.raises(DataError, match="make_spiral: n_classes must be an integer >= 2"):
            datasets.make_spiral(n_classes=bad)


def test_default_spiral_is_for_the_regularization_story():
    """Few training examples, many test examples: the test accuracy is steady."""
    data = load("spiral")
    assert data.train_X.shape == (2, 150) and data.test_X.shape == (2, 600)


@pytest.mark.parametrize("name", ["moons", "circles"])
@given(m=st.integers(2, 101), seed=st.integers(0, 1000))
def test_moons_and_circles_are_balanced(name, m, seed):
    data = MAKERS[name](m, m, seed=seed)
    assert data.train_Y.sum() == m - m // 2
    assert data.test_Y.sum() == m - m // 2


def test_circles_radii_without_noise():
    data = datasets.make_circles(noise=0.0)
    radius = np.linalg.norm(data.train_X, axis=0)
    np.testing.assert_allclose(radius, np.where(data.train_Y[0] == 1, 0.5, 1.0))


def test_field_without_noise_is_split_by_the_boundary():
    data = datasets.make_field(noise=0.0)
    for X, Y in ((data.train_X, data.train_Y), (data.test_X, data.test_Y)):
        above = X[1] > datasets.field_boundary(X[0])
        np.testing.assert_array_equal(Y[0], above.astype(np.float64))
        assert np.abs(X).max() <= datasets.PITCH


def test_field_noise_flips_about_that_fraction_of_labels_and_nothing_else():
    clean = datasets.make_field(5000, 5000, noise=0.0, seed=3)
    noisy = datasets.make_field(5000, 5000, noise=0.1, seed=3)
    np.testing.assert_array_equal(clean.train_X, noisy.train_X)
    np.testing.assert_array_equal(clean.test_X, noisy.test_X)
    flipped = np.mean(clean.train_Y != noisy.train_Y)
    assert 0.08 < flipped < 0.12


def test_default_field_labels_are_noisy():
    """The default field has wrong labels for the unregularized network to learn by heart."""
    data = load()
    above = data.train_X[1] > datasets.field_boundary(data.train_X[0])
    wrong = np.mean(data.train_Y[0] != above)
    assert 0.03 < wrong < 0.15


def test_field_is_learnable():
    """Logistic regression on (x1, x2, x1²), features in which the curve is a straight line,
    trained on the noisy default training set, recovers the curve: it labels fresh noise-free
    players correctly almost everywhere."""
    data = load()

    def features(X: np.ndarray) -> np.ndarray:
        return np.vstack([X, X[:1] ** 2 / datasets.PITCH, np.ones((1, X.shape[1]))])

    A, Y = features(data.train_X), data.train_Y
    w = np.zeros((1, A.shape[0]))
    for _ in range(2000):
        p = 1 / (1 + np.exp(-(w @ A)))
        w -= 0.5 * (p - Y) @ A.T / Y.shape[1]
    clean = datasets.make_field(n_train=2000, noise=0.0, seed=1)
    accuracy = np.mean(((w @ features(clean.train_X)) > 0) == clean.train_Y)
    assert accuracy > 0.9


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 1}, "n_train must be an integer >= 2, got 1"),
        ({"n_test": 0}, "n_test must be an integer >= 2, got 0"),
        ({"n_train": 10.5}, "n_train must be an integer"),
        ({"n_train": True}, "n_train must be an integer"),
        ({"noise": -0.1}, "noise must be "),
        ({"noise": float("nan")}, "noise must be "),
        ({"noise": float("inf")}, "noise must be "),
        ({"noise": "0.1"}, "noise must be "),
        ({"seed": "zero"}, "seed must be an integer"),
    ],
)
@pytest.mark.parametrize("name", list(MAKERS))
def test_bad_arguments_are_named(name, kwargs, message):
    with pytest.raises(DataError, match=f"make_{name}: {re.escape(message)}"):
        MAKERS[name](**kwargs)


def test_field_noise_is_a_fraction():
    with pytest.raises(DataError, match="make_field: noise must be a fraction between 0 and 1"):
        datasets.make_field(noise=1.5)


def test_unknown_name_lists_the_choices():
    with pytest.raises(DataError, match="unknown dataset 'spirals'; choose one of: field, moons"):
        load("spirals")


# --- load_file: files that load -----------------------------------------------------------------

finite_features = arrays(
    np.float64,
    st.tuples(st.integers(1, 4), st.integers(1, 12)),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


def labels_for(X: np.ndarray, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 2, size=(1, X.shape[1])).astype(np.float64)


def write_csv(path: Path, rows: np.ndarray, header: str | None = None) -> None:
    lines = [header] if header is not None else []
    lines += [",".join(repr(float(v)) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


@given(X=finite_features, seed=st.integers(0, 1000))
def test_npz_round_trip_in_both_layouts(tmp_path_factory, X, seed):
    Y = labels_for(X, seed)
    folder = tmp_path_factory.mktemp("npz")
    np.savez(folder / "course.npz", X=X, Y=Y)
    np.savez(folder / "tools.npz", X=X.T, Y=Y[0])
    for file, layout in (("course.npz", "features-first"), ("tools.npz", "examples-first")):
        X_read, Y_read, *_ = load_file(folder / file, layout=layout)
        np.testing.assert_array_equal(X_read, X)
        np.testing.assert_array_equal(Y_read, Y)
        assert X_read.dtype == Y_read.dtype == np.float64


@given(X=finite_features, seed=st.integers(0, 1000), header=st.booleans())
def test_csv_round_trip_in_both_layouts(tmp_path_factory, X, seed, header):
    Y = labels_for(X, seed)
    folder = tmp_path_factory.mktemp("csv")
    names = ",".join([f"x{i}" for i in range(X.shape[0])] + ["label"])
    write_csv(folder / "tools.csv", np.vstack([X, Y]).T, header=names if header else None)
    write_csv(folder / "course.csv", np.vstack([X, Y]))
    for file, layout in (("tools.csv", "examples-first"), ("course.csv", "features-first")):
        X_read, Y_read, *_ = load_file(folder / file, layout=layout)
        np.testing.assert_array_equal(X_read, X)
        np.testing.assert_array_equal(Y_read, Y)


def test_default_layout_is_the_course_one_for_npz_and_rows_of_examples_for_csv(tmp_path):
    data = load()
    np.savez(tmp_path / "field.npz", X=data.train_X, Y=data.train_Y)
    write_csv(tmp_path / "field.csv", np.vstack([data.train_X, data.train_Y]).T, "x1,x2,y")
    for file in ("field.npz", "field.csv"):
        X, Y, *_ = load_file(str(tmp_path / file))
        np.testing.assert_array_equal(X, data.train_X)
        np.testing.assert_array_equal(Y, data.train_Y)


def test_csv_details_that_are_accepted(tmp_path):
    """Blank lines, spaces around numbers, integer and exponent notation, an editor's BOM."""
    path = tmp_path / "data.csv"
    path.write_text("\ufeffa, b ,label\n\n1, 2.5e0 ,1\n 3 ,-4, 0\n\n", encoding="utf-8")
    X, Y, *_ = load_file(path)
    np.testing.assert_array_equal(X, [[1.0, 3.0], [2.5, -4.0]])
    np.testing.assert_array_equal(Y, [[1.0, 0.0]])


def test_integer_and_bool_arrays_are_converted_to_float64(tmp_path):
    np.savez(tmp_path / "ints.npz", X=np.arange(6).reshape(2, 3), Y=np.array([True, False, True]))
    X, Y, *_ = load_file(tmp_path / "ints.npz")
    assert X.dtype == Y.dtype == np.float64
    np.testing.assert_array_equal(Y, [[1.0, 0.0, 1.0]])


@pytest.mark.parametrize("y_shape", [(5,), (5, 1)])
def test_examples_first_labels_as_vector_or_column(tmp_path, y_shape):
    X = np.arange(10.0).reshape(5, 2)
    Y = np.array([0, 1, 1, 0, 1.0]).reshape(y_shape)
    np.savez(tmp_path / "d.npz", X=X, Y=Y)
    X_read, Y_read, *_ = load_file(tmp_path / "d.npz", layout="examples-first")
    np.testing.assert_array_equal(X_read, X.T)
    np.testing.assert_array_equal(Y_read, Y.reshape(1, 5))


# --- load_file: files that are refused ----------------------------------------------------------


def save_npz(path: Path, **arrays: object) -> Path:
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


X_OK = np.zeros((2, 4))
Y_OK = np.array([[0.0, 1.0, 1.0, 0.0]])


def bad_files() -> list:
    """(file name, function writing it into a folder, layout, expected message)."""
    return [
        ("gone.csv", lambda p: None, None, "no such file"),
        ("empty.csv", lambda p: p.write_bytes(b""), None, "the file is empty"),
        ("empty.npz", lambda p: p.write_bytes(b""), None, "the file is empty"),
        ("data.txt", lambda p: p.write_text("1,2\n"), None, "expected a .npz, .mat or .csv file"),
        ("junk.npz", lambda p: p.write_text("hello"), None, r"not an \.npz archive"),
        (
            "pickle.npz",
            lambda p: p.write_bytes(pickle.dumps({"X": 1})),
            None,
            r"not an \.npz archive \(a Python pickle\)",
        ),
        (
            "single.npz",
            lambda p: np.save(open(p, "wb"), X_OK),
            None,
            r"holds a single \.npy array",
        ),
        (
            "truncated.npz",
            lambda p: p.write_bytes(_npz_bytes(p)[:60]),
            None,
            "not a readable .npz archive|is unreadable",
        ),
        (
            "objects.npz",
            lambda p: save_npz(p, X=np.array([{"a": 1}, None], dtype=object), Y=Y_OK),
            None,
            r"array 'X' holds Python objects \(dtype=object\)",
        ),
        (
            "nokey.npz",
            lambda p: save_npz(p, features=X_OK, Y=Y_OK),
            None,
            r"no array named 'X' \(arrays found: 'features', 'Y'\)",
        ),
        (
            "text.npz",
            lambda p: save_npz(p, X=np.array([["a", "b"]]), Y=Y_OK),
            None,
            "X has dtype <U1; expected numbers",
        ),
        (
            "complex.npz",
            lambda p: save_npz(p, X=X_OK + 1j, Y=Y_OK),
            None,
            "X has dtype complex128; expected numbers",
        ),
        (
            "flat.npz",
            lambda p: save_npz(p, X=np.zeros(4), Y=Y_OK),
            None,
            r"X has shape \(4,\); expected 2-D \(n_features, m\) for layout features-first",
        ),
        (
            "mismatch.npz",
            lambda p: save_npz(p, X=np.zeros((2, 5)), Y=Y_OK),
            None,
            r"X has shape \(2, 5\), that is m = 5 examples in layout features-first, but Y has "
            r"shape \(1, 4\); expected Y of shape \(1, 5\) or \(5,\)",
        ),
        (
            "transposed.npz",
            lambda p: save_npz(p, X=X_OK, Y=Y_OK),
            "examples-first",
            r"X has shape \(2, 4\), that is m = 2 examples in layout examples-first, but Y has "
            r"shape \(1, 4\)",
        ),
        (
            "noexamples.npz",
            lambda p: save_npz(p, X=np.zeros((2, 0)), Y=np.zeros((1, 0))),
            None,
            "no examples",
        ),
        (
            "nan.npz",
            lambda p: save_npz(p, X=np.where(np.arange(8).reshape(2, 4) == 6, np.nan, 0), Y=Y_OK),
            None,
            r"X\[1, 2\] is nan; every value must be a finite number",
        ),
        (
            "inf.npz",
            lambda p: save_npz(p, X=X_OK, Y=np.array([[0, 1, np.inf, 0]])),
            None,
            r"Y\[0, 2\] is inf",
        ),
        (
            "label.npz",
            lambda p: save_npz(p, X=X_OK, Y=np.array([[0, 1, 1, 2.5]])),
            None,
            r"Y\[0, 3\] is 2.5; labels must be 0 or 1, or class indices 0, 1, 2",
        ),
        ("layout.npz", lambda p: save_npz(p, X=X_OK, Y=Y_OK), "rows", "layout must be one of"),
        (
            "word.csv",
            lambda p: p.write_text("x1,x2,y\n1,2,0\n3,abc,1\n"),
            None,
            r"row 3, column 2 \('x2'\): 'abc' is not a number",
        ),
        (
            "blankcell.csv",
            lambda p: p.write_text("1,2,0\n\n3,,1\n"),
            None,
            "row 3, column 2 is empty; expected a number",
        ),
        (
            "nan.csv",
            lambda p: p.write_text("1,2,0\n3,nan,1\n"),
            None,
            r"row 2, column 2: 'nan' is not a finite number",
        ),
        (
            "inf.csv",
            lambda p: p.write_text("1,-inf,0\n"),
            None,
            r"row 1, column 2: '-inf' is not a finite number",
        ),
        (
            "ragged.csv",
            lambda p: p.write_text("1,2,0\n3,4,1\n5,1\n"),
            None,
            "row 3 has 2 columns; expected 3",
        ),
        (
            "label.csv",
            lambda p: p.write_text("1,2,0\n3,4,0.5\n"),
            None,
            "row 2, column 3: label 0.5 is not 0 or 1",
        ),
        (
            "label_row.csv",
            lambda p: p.write_text("1,2,3\n4,5,6\n0,1,-1\n"),
            "features-first",
            "row 3, column 3: label -1 is not 0 or 1",
        ),
        ("header.csv", lambda p: p.write_text("x1,x2,y\n\n"), None, r"no rows of numbers \(only"),
        ("blank.csv", lambda p: p.write_text("\n \n"), None, "no rows of numbers"),
        ("onecolumn.csv", lambda p: p.write_text("1\n0\n"), None, "1 column; expected the"),
        ("onerow.csv", lambda p: p.write_text("0,1\n"), "features-first", "1 row; in layout"),
        ("latin1.csv", lambda p: p.write_bytes(b"x\xe9,y\n1,0\n"), None, "not a UTF-8 text file"),
    ]


def _npz_bytes(path: Path) -> bytes:
    scratch = path.with_name("scratch.npz")
    np.savez(scratch, X=np.zeros((2, 200)), Y=np.zeros((1, 200)))
    return scratch.read_bytes()


@pytest.mark.parametrize(
    "file_name, write, layout, message", bad_files(), ids=[case[0] for case in bad_files()]
)
def test_bad_files_raise_data_error_naming_file_and_problem(
    tmp_path, file_name, write, layout, message
):
    path = tmp_path / file_name
    write(path)
    before = (path.read_bytes(), path.stat().st_mtime_ns) if path.exists() else None
    with pytest.raises(DataError, match=re.escape(str(path)) + ": (.*)(" + message + ")"):
        load_file(path, layout=layout)
    if before is not None:
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_data_error_is_a_value_error():
    assert issubclass(DataError, ValueError)


def test_a_folder_is_not_a_file(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DataError, match=r"data\.csv: not a file"):
        load_file(folder)


def test_loading_never_changes_the_file(tmp_path):
    """Read-only files load (nothing is written), their bytes and times stay, and the returned
    arrays are the caller's own: changing them does not touch the next load."""
    data = load()
    paths = [save_npz(tmp_path / "d.npz", X=data.train_X, Y=data.train_Y), tmp_path / "d.csv"]
    write_csv(paths[1], np.vstack([data.train_X, data.train_Y]).T)
    for path in paths:
        os.chmod(path, 0o444)
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        X = load_file(path).train_X
        X[...] = 0.0
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before
        np.testing.assert_array_equal(load_file(path)[0], data.train_X)


# --- load_file: the course's files, named arrays, test splits ----------------------------------


def course_arrays(m_train: int = 12, m_test: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """Arrays named and shaped as the course notebook saves them: features-first."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, m in (("train", m_train), ("test", m_test)):
        arrays[f"{split}_X"] = rng.standard_normal((2, m))
        arrays[f"{split}_Y"] = (arrays[f"{split}_X"][:1] > 0).astype(np.float64)
    return arrays


def test_the_course_npz_layout_is_found_with_its_test_split(tmp_path):
    arrays = course_arrays()
    np.savez(tmp_path / "football.npz", **arrays)
    data = load_file(tmp_path / "football.npz")
    for field in ("train_X", "train_Y", "test_X", "test_Y"):
        np.testing.assert_array_equal(getattr(data, field), arrays[field])
    assert data.name == str(tmp_path / "football.npz")


def test_a_file_without_a_test_split_has_none(tmp_path):
    arrays = course_arrays()
    np.savez(tmp_path / "train_only.npz", train_X=arrays["train_X"], train_Y=arrays["train_Y"])
    data = load_file(tmp_path / "train_only.npz")
    assert data.test_X is None and data.test_Y is None
    np.testing.assert_array_equal(data.train_X, arrays["train_X"])


def test_named_arrays_with_x_key_and_y_key(tmp_path):
    arrays = course_arrays()
    np.savez(tmp_path / "named.npz", features=arrays["train_X"], labels=arrays["train_Y"])
    data = load_file(tmp_path / "named.npz", x_key="features", y_key="labels")
    np.testing.assert_array_equal(data.train_X, arrays["train_X"])
    np.testing.assert_array_equal(data.train_Y, arrays["train_Y"])
    with pytest.raises(DataError, match=r"no array named 'Y' \(arrays found: 'features', 'lab"):
        load_file(tmp_path / "named.npz", x_key="features")
    with pytest.raises(DataError, match=r"x_key and y_key name arrays in \.npz and \.mat files"):
        load_file(tmp_path / "points.csv", x_key="features")


def test_messages_use_the_files_own_array_names(tmp_path):
    arrays = course_arrays()
    arrays["test_Y"] = np.zeros((1, 3))
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(DataError, match=r"test_X has shape \(2, 8\).*but test_Y has shape"):
        load_file(tmp_path / "bad.npz")
    arrays = course_arrays()
    arrays["test_X"] = np.zeros((3, 8))
    np.savez(tmp_path / "features.npz", **arrays)
    with pytest.raises(DataError, match="test_X has 3 features per example but train_X has 2"):
        load_file(tmp_path / "features.npz")
    np.savez(tmp_path / "nolabels.npz", train_X=arrays["train_X"])
    with pytest.raises(DataError, match="no array named 'train_Y'"):
        load_file(tmp_path / "nolabels.npz")


@pytest.mark.parametrize("y_shape", [(12, 1), (12,)])
def test_examples_as_rows_in_an_npz_suggest_the_other_layout(tmp_path, y_shape):
    """The issue's case: rows are examples, the default layout reads "m = 2 examples"."""
    X = np.random.default_rng(0).standard_normal((12, 2))
    np.savez(tmp_path / "rows.npz", X=X, Y=(X[:, 0] > 0).astype(float).reshape(y_shape))
    with pytest.raises(DataError, match=r"m = 2 examples.*fit layout examples-first \(12 exa"):
        load_file(tmp_path / "rows.npz")
    try:
        load_file(tmp_path / "rows.npz")
    except DataError as error:
        assert "--layout examples-first" in str(error)
    data = load_file(tmp_path / "rows.npz", layout="examples-first")
    np.testing.assert_array_equal(data.train_X, X.T)


def test_features_alone_load_when_n_features_is_given(tmp_path):
    """For predictions: no label array (.npz), no label column (.csv)."""
    X = np.arange(6.0).reshape(2, 3)
    np.savez(tmp_path / "unlabelled.npz", X=X)
    data = load_file(tmp_path / "unlabelled.npz", n_features=2)
    np.testing.assert_array_equal(data.train_X, X)
    assert data.train_Y is None
    write_csv(tmp_path / "unlabelled.csv", X.T)
    data = load_file(tmp_path / "unlabelled.csv", n_features=2)
    np.testing.assert_array_equal(data.train_X, X)
    assert data.train_Y is None
    write_csv(tmp_path / "labelled.csv", np.vstack([X, [[0, 1, 1]]]).T)
    data = load_file(tmp_path / "labelled.csv", n_features=2)
    np.testing.assert_array_equal(data.train_Y, [[0.0, 1.0, 1.0]])
    with pytest.raises(DataError, match="no array named 'Y'"):
        load_file(tmp_path / "unlabelled.npz")  # without n_features the labels are required


def mat_arrays(m_train: int = 12, m_val: int = 8) -> dict[str, np.ndarray]:
    """Named and shaped as the course's data.mat: one row per example, y as a column."""
    rng = np.random.default_rng(1)
    X, Xval = rng.standard_normal((m_train, 2)), rng.standard_normal((m_val, 2))
    y, yval = (X[:, :1] > 0).astype(np.uint8), (Xval[:, :1] > 0).astype(np.uint8)
    return {"X": X, "y": y, "Xval": Xval, "yval": yval}


def test_the_course_mat_file_is_read_and_transposed(tmp_path):
    scipy_io = pytest.importorskip("scipy.io")
    arrays = mat_arrays()
    scipy_io.savemat(tmp_path / "data.mat", arrays)
    data = load_file(tmp_path / "data.mat")
    np.testing.assert_array_equal(data.train_X, arrays["X"].T)
    np.testing.assert_array_equal(data.train_Y, arrays["y"].T)
    np.testing.assert_array_equal(data.test_X, arrays["Xval"].T)
    np.testing.assert_array_equal(data.test_Y, arrays["yval"].T)
    assert data.train_X.dtype == data.train_Y.dtype == np.float64
    (tmp_path / "junk.mat").write_bytes(b"not a MATLAB file at all" * 10)
    with pytest.raises(DataError, match=r"junk\.mat: not a readable \.mat file"):
        load_file(tmp_path / "junk.mat")


def test_a_mat_file_without_scipy_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy.io now raises ImportError
    monkeypatch.setitem(sys.modules, "scipy.io", None)
    (tmp_path / "data.mat").write_bytes(b"MATLAB 5.0 MAT-file" + bytes(200))
    with pytest.raises(DataError, match=r"data\.mat: reading \.mat files needs scipy: pip insta"):
        load_file(tmp_path / "data.mat")


# --- damaged and hostile .npz files (issue 11, item 12) -----------------------------------------


def test_a_corrupt_compressed_npz_is_a_data_error_not_a_zlib_error(tmp_path):
    path = tmp_path / "data.npz"
    np.savez_compressed(path, X=np.arange(400.0).reshape(2, 200), Y=np.zeros((1, 200)))
    data = bytearray(path.read_bytes())
    data[60] ^= 0xFF  # inside X's deflate stream: numpy's np.load raises zlib.error here
    path.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"data\.npz: array 'X' is corrupt or truncated"):
        load_file(path)


def test_an_npz_declaring_a_huge_shape_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    np.savez(path, X=np.zeros((2, 2)), Y=np.zeros((1, 2)))
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {2**40})}}".encode()
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + bytes(32)
    with zipfile.ZipFile(path, "w") as archive:  # a 300-byte file asking for 16 TiB
        archive.writestr("X.npy", member)
        archive.writestr("Y.npy", member)
    with pytest.raises(
        DataError, match=r"huge\.npz: array 'X' declares shape \(2, 1099511627776\)"
    ):
        load_file(path)


def test_a_bytes_path_loads(tmp_path):
    path = tmp_path / "d.npz"
    np.savez(path, X=X_OK, Y=Y_OK)
    X, Y, *_ = load_file(os.fsencode(path))
    np.testing.assert_array_equal(X, X_OK)
    np.testing.assert_array_equal(Y, Y_OK)

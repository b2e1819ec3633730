"""Small 2-D datasets for the course network, and a loader for your own data.

Every dataset comes in the course layout: ``X`` has one column per example, ``(2, m)``, and ``Y``
holds the labels as a row, ``(1, m)``, both float64: 0/1, or the class indices 0..K-1 of the
K-class ``spiral``. Each is drawn from numpy's seeded
generator, so the same seed always gives the same numbers, on any machine.

- ``field`` (the default): the "where should the goalkeeper kick?" story. Players stand on a
  pitch; a curved line splits it into the part where our team wins the ball (label 1) and the
  part where the other team does (label 0). One label in ten is wrong: a player out of position,
  a wrongly recorded ball. Those wrong labels are what a big unregularized network learns by
  heart (high training accuracy, lower test accuracy), and what L2 and dropout teach it to
  ignore.
- ``moons``: two interleaving half circles.
- ``circles``: a small ring inside a large one.
- ``spiral``: K arms winding out from the centre, one class each (3 by default): the classic
  multiclass toy problem. No straight line separates any two classes.

``load_file`` reads your own .npz, .mat or .csv file, checks it and returns it in the course
layout, with the file's test split when it has one.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

from .npzfile import NpzError, NpzReader, fspath

__all__ = [
    "DEFAULT",
    "PITCH",
    "DataError",
    "Dataset",
    "field_boundary",
    "load",
    "load_file",
    "make_circles",
    "make_field",
    "make_moons",
    "make_spiral",
    "names",
]

Layout = Literal["features-first", "examples-first"]
LAYOUTS: tuple[str, ...] = ("features-first", "examples-first")


class DataError(ValueError):
    """A dataset could not be made or loaded; the message names the file, row, column or shape."""


class Dataset(NamedTuple):
    """A train/test split in the course layout: X (n_features, m), Y (1, m) of 0.0/1.0 (or the
    class indices 0.0, 1.0, ..., K-1 of a K-class dataset), float64.

    The built-in datasets always have both splits. ``load_file`` returns one too: ``test_X`` and
    ``test_Y`` are None when the file holds no test split, and ``train_Y`` is None when it holds
    no labels (only with ``labels_optional=True``). ``name`` is the dataset's name or the file's
    path.
    """

    train_X: np.ndarray
    train_Y: Any
    test_X: Any
    test_Y: Any
    name: str


# A drawing function takes the generator, the number of examples and the noise level and
# returns (X, Y) in the course layout.
Draw = Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]


def _split(
    name: str,
    draw: Draw,
    n_train: int,
    n_test: int,
    noise: float,
    seed: int,
    noise_meaning: str = "a finite number >= 0",
    max_noise: float = math.inf,
) -> Dataset:
    """Draw the training set, then the test set, from one generator seeded with ``seed``.

    Both sets come from the same recipe, so the test set measures how well a model does on
    new examples of the same kind, which is the point of keeping it apart.
    """
    for arg, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 2:
            raise DataError(f"make_{name}: {arg} must be an integer >= 2, got {value!r}")
    is_number = isinstance(noise, (int, float, np.floating)) and not isinstance(noise, bool)
    if not (is_number and math.isfinite(noise) and 0 <= noise <= max_noise):
        raise DataError(f"make_{name}: noise must be {noise_meaning}, got {noise!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise DataError(f"make_{name}: seed must be an integer, got {seed!r}")
    rng = np.random.default_rng(seed)
    train_X, train_Y = draw(rng, int(n_train), float(noise))
    test_X, test_Y = draw(rng, int(n_test), float(noise))
    return Dataset(train_X, train_Y, test_X, test_Y, name)


def _balanced_labels(rng: np.random.Generator, m: int) -> np.ndarray:
    """m labels, half 0 and half 1 (one more 1 when m is odd), in random order."""
    labels = np.arange(m) >= m // 2
    return rng.permutation(labels).astype(np.float64)


def _draw_moons(rng: np.random.Generator, m: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Label 0: upper half circle around (0, 0). Label 1: lower half circle around (1, 0.5)."""
    Y = _balanced_labels(rng, m)
    angle = rng.uniform(0.0, math.pi, size=m)
    upper = np.stack([np.cos(angle), np.sin(angle)])
    lower = np.stack([1.0 - np.cos(angle), 0.5 - np.sin(angle)])
    X = np.where(Y == 1, lower, upper)
    X = X + noise * rng.standard_normal((2, m))
    return X - np.array([[0.5], [0.25]]), Y.reshape(1, m)  # centre the pair on the origin


def _draw_circles(rng: np.random.Generator, m: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Label 0: a circle of radius 1. Label 1: a circle of radius 0.5 inside it."""
    Y = _balanced_labels(rng, m)
    angle = rng.uniform(0.0, 2 * math.pi, size=m)
    radius = np.where(Y == 1, 0.5, 1.0)
    X = radius * np.stack([np.cos(angle), np.sin(angle)])
    X = X + noise * rng.standard_normal((2, m))
    return X, Y.reshape(1, m)


# The goalkeeper's pitch: players stand anywhere on the square [-PITCH, PITCH]², and the curve
# x2 = field_boundary(x1) splits it into the part where our team wins the ball (above the curve,
# label 1) and the part where the other team does (below, label 0).
# The pitch size, the curve, the default noise and the order of the random draws were tuned
# together so that the course recipe shows the regularization story (on seed 0 and on most
# other seeds); changing any of them changes every field dataset, and the demo's numbers.
PITCH = 1.0


def field_boundary(x1: np.ndarray) -> np.ndarray:
    """The curve between the two regions, a bent diagonal: x2 = 0.75·x1 + 0.25·(x1² − 1/3).

    (The − 1/3 centres the bend, so that the two labels are about equally common.)
    """
    return 0.75 * x1 + 0.25 * (x1**2 - 1 / 3)


def _draw_field(rng: np.random.Generator, m: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Players uniformly on the pitch, label 1 above the curve; then each label is flipped with
    probability ``noise`` (a player out of position, a wrongly recorded ball)."""
    X = rng.uniform(-PITCH, PITCH, size=(2, m))
    Y = (X[1] > field_boundary(X[0])).astype(np.float64)
    flipped = rng.uniform(size=m) < noise
    Y[flipped] = 1.0 - Y[flipped]
    return X, Y.reshape(1, m)


def make_moons(n_train: int = 200, n_test: int = 200, noise: float = 0.2, seed: int = 0) -> Dataset:
    """Two interleaving half circles, with Gaussian noise of standard deviation ``noise``."""
    return _split("moons", _draw_moons, n_train, n_test, noise, seed)


def make_circles(
    n_train: int = 200, n_test: int = 200, noise: float = 0.1, seed: int = 0
) -> Dataset:
    """A ring of radius 0.5 (label 1) inside a ring of radius 1 (label 0), with Gaussian noise of
    standard deviation ``noise``."""
    return _split("circles", _draw_circles, n_train, n_test, noise, seed)


def make_field(n_train: int = 256, n_test: int = 200, noise: float = 0.1, seed: int = 0) -> Dataset:
    """The goalkeeper's field (see ``_draw_field``); ``noise`` is the chance each label is flipped.

    256 training examples, a power of two, so that dividing by m is exact in floating point:
    the autodiff gradients and the hand-written ones (which apply 1/m at different points) are
    then equal to the last bit, and so are whole training runs.

    With the defaults it shows the classic regularization story for the course network
    [2, 20, 3, 1]: trained without regularization it fits the flipped labels and does worse on
    the test set than on the training set; L2 and dropout narrow that gap.
    """
    return _split(
        "field", _draw_field, n_train, n_test, noise, seed, "a fraction between 0 and 1", 1.0
    )


# The spiral's arms: each turns SPIRAL_TURNS times around the centre from radius 0 to 1.
SPIRAL_TURNS = 0.75


def _draw_spiral(
    rng: np.random.Generator, m: int, noise: float, n_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Class k: points at a uniform distance r in [0, 1] from the centre, at the angle
    2π·(k/K + SPIRAL_TURNS·r), plus Gaussian noise of standard deviation ``noise`` on the angle.
    Near the centre the arms crowd together, so some overlap there is in the data itself."""
    labels = rng.permutation(np.arange(m) % n_classes)  # as equal in number as m allows
    radius = rng.uniform(0.0, 1.0, size=m)
    angle = 2 * math.pi * (labels / n_classes + SPIRAL_TURNS * radius)
    angle = angle + noise * rng.standard_normal(m)
    X = radius * np.stack([np.cos(angle), np.sin(angle)])
    return X, labels.astype(np.float64).reshape(1, m)


def make_spiral(
    n_train: int = 150, n_test: int = 600, noise: float = 0.8, seed: int = 0, n_classes: int = 3
) -> Dataset:
    """``n_classes`` interleaved spiral arms, one class each (labels 0..n_classes-1), with
    Gaussian noise of standard deviation ``noise`` (radians) on each point's angle.

    With the defaults the arms overlap where they crowd, and 150 training examples are few
    for a big network: [2, 50, 50, 3] trained without regularization fits the training set
    almost perfectly and does clearly worse on the (large, so steady) test set; L2 narrows
    that gap (examples/multiclass_spiral.py).
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
        raise DataError(f"make_spiral: n_classes must be an integer >= 2, got {n_classes!r}")
    if n_classes < 2:
        raise DataError(f"make_spiral: n_classes must be an integer >= 2, got {n_classes!r}")

    def draw(rng: np.random.Generator, m: int, noise: float) -> tuple[np.ndarray, np.ndarray]:
        return _draw_spiral(rng, m, noise, int(n_classes))

    return _split("spiral", draw, n_train, n_test, noise, seed)


_MAKERS: dict[str, Callable[..., Dataset]] = {
    "field": make_field,
    "moons": make_moons,
    "circles": make_circles,
    "spiral": make_spiral,
}
DEFAULT = "field"


def names() -> list[str]:
    """The names ``load`` accepts, the default first."""
    return list(_MAKERS)


def load(name: str = DEFAULT, seed: int = 0) -> Dataset:
    """The dataset ``name`` (one of ``names()``) in its default size and noise, drawn with
    ``seed``."""
    if name not in _MAKERS:
        raise DataError(f"unknown dataset {name!r}; choose one of: {', '.join(names())}")
    return _MAKERS[name](seed=seed)


# --- your own data -----------------------------------------------------------------------------

# The array names of a training split, and of the test split saved beside it, in the order they
# are looked for. The course keeps its data in the second and third forms.
_KNOWN_KEYS: list[tuple[tuple[str, str], tuple[str, str] | None]] = [
    (("X", "Y"), None),
    (("train_X", "train_Y"), ("test_X", "test_Y")),  # the course notebook's .npz
    (("X", "y"), ("Xval", "yval")),  # the course's data.mat (one row per example)
]
SUFFIXES = (".npz", ".mat", ".csv")
MAT_INSTALL_HINT = "pip install 'tinygrad_reg[mat]' (or pip install scipy)"


def load_file(
    path: str | bytes | os.PathLike[str],
    layout: Layout | None = None,
    *,
    x_key: str | None = None,
    y_key: str | None = None,
    n_features: int | None = None,
) -> Dataset:
    """Read a dataset from a .npz, .mat or .csv file, check it, and return it as a ``Dataset``
    in the course layout: float64 copies, X of shape (n_features, m), Y of shape (1, m) holding
    0.0 and 1.0. ``test_X, test_Y`` hold the file's test split, or are None when it has none.

    - ``.npz`` (``np.savez``): the arrays ``X`` and ``Y``; or the course notebook's
      ``train_X, train_Y, test_X, test_Y`` (found by themselves: the test arrays become the
      test split); or any two arrays named by ``x_key`` and ``y_key``. Opened with
      ``allow_pickle=False``, so a file holding Python objects is refused, not run.
    - ``.mat`` (MATLAB, as the course's ``data.mat``): ``X, y`` and, when present, the test
      split ``Xval, yval`` (or arrays named by ``x_key`` and ``y_key``). Needs scipy, the
      optional extra ``tinygrad_reg[mat]``.
    - ``.csv``: numbers separated by commas; a first row without any number is a header.

    ``layout`` says how the file is laid out:

    - ``"features-first"`` (the course's): X is (n_features, m), Y is (1, m) or (m,). In a CSV
      file: one row per feature, and the last row holds the labels.
    - ``"examples-first"`` (most other tools' and MATLAB's): X is (m, n_features), Y is (m,) or
      (m, 1). In a CSV file: one row per example, and the last column holds its label.
    - ``None`` (the default): .npz files are features-first, .mat and .csv files
      examples-first. When the arrays only fit the other layout, the error says so.

    ``n_features`` (the number of features a model expects) allows a file without labels, for
    predictions: ``train_Y`` is then None when an .npz or .mat file has no label array, or a
    CSV file has exactly ``n_features`` columns (rows, for features-first).

    Raises ``DataError`` (a ``ValueError``) naming the file and the row and column, array index
    or shape at fault: missing or empty file, unreadable or corrupt archive, pickled objects, an
    array declaring more data than the file holds (checked before allocating), missing
    arrays, wrong or mismatched shapes, cells that are not numbers, NaN or infinity, labels
    other than 0 and 1. The file itself is only read, never changed.
    """
    path = Path(fspath(path, "load_file"))
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(
            f"{path}: expected a .npz, .mat or .csv file, not {suffix or 'no extension'!r}"
        )
    if layout is None:
        layout = "features-first" if suffix == ".npz" else "examples-first"
    if layout not in LAYOUTS:
        raise DataError(
            f"{path}: layout must be one of {', '.join(LAYOUTS)} (or None: the usual "
            f"layout of a {suffix} file); got {layout!r}"
        )
    if suffix == ".csv" and (x_key or y_key):
        raise DataError(f"{path}: x_key and y_key name arrays in .npz and .mat files, not CSV")
    if not path.exists():
        raise DataError(f"{path}: no such file")
    if not path.is_file():
        raise DataError(f"{path}: not a file")
    if path.stat().st_size == 0:
        raise DataError(f"{path}: the file is empty")
    if suffix == ".csv":
        X, Y = _read_csv(path, layout, n_features)
        return Dataset(X, Y, None, None, str(path))

    def choose(names: list[str]) -> list[str]:
        return _choose_keys(path, names, x_key, y_key, labels_optional=n_features is not None)

    arrays = _read_npz(path, choose) if suffix == ".npz" else _read_mat(path, choose)
    keys = list(arrays)  # train X, [train Y], [test X, test Y], as chosen
    x_name = keys[0]
    y_name = keys[1] if len(keys) in (2, 4) else None
    X, Y = _course_layout(path, arrays[x_name], arrays.get(y_name), layout, (x_name, y_name))
    if len(keys) < 4:
        return Dataset(X, Y, None, None, str(path))
    test_X, test_Y = _course_layout(
        path, arrays[keys[2]], arrays[keys[3]], layout, (keys[2], keys[3])
    )
    if test_X.shape[0] != X.shape[0]:
        raise DataError(
            f"{path}: {keys[2]} has {test_X.shape[0]} features per example but {x_name} has "
            f"{X.shape[0]}; expected the same features in both splits"
        )
    return Dataset(X, Y, test_X, test_Y, str(path))


def _choose_keys(
    path: Path, names: list[str], x_key: str | None, y_key: str | None, labels_optional: bool
) -> list[str]:
    """The arrays to read: train X, train Y (left out when absent and optional), then the test
    split's X and Y when the file has one."""
    found = ", ".join(repr(name) for name in names) or "none"
    if x_key or y_key:
        train, test = (x_key or "X", y_key or "Y"), None
    else:
        complete = [(train, test) for train, test in _KNOWN_KEYS if set(train) <= set(names)]
        features_only = [(train, test) for train, test in _KNOWN_KEYS if train[0] in names]
        train, test = (complete or features_only or _KNOWN_KEYS)[0]
    if train[0] not in names or (train[1] not in names and not labels_optional):
        missing = train[0] if train[0] not in names else train[1]
        raise DataError(
            f"{path}: no array named {missing!r} (arrays found: {found}); name the arrays with "
            "x_key and y_key (train --x-key, --y-key), or save with np.savez(path, X=X, Y=Y)"
        )
    keys = [key for key in train if key in names]
    if test is not None and all(key in names for key in test):
        keys += list(test)
    return keys


def _read_npz(path: Path, choose: Callable[[list[str]], list[str]]) -> dict[str, np.ndarray]:
    try:
        archive = NpzReader(path)  # each array's header is checked before its data is read
    except NpzError as error:
        raise DataError(f"{path}: {error}") from None
    with archive:
        arrays = {}
        for key in choose(list(archive.files)):
            try:
                arrays[key] = archive[key]
            except NpzError as error:
                raise DataError(f"{path}: array {key!r} {error}") from None
    return arrays


def _read_mat(path: Path, choose: Callable[[list[str]], list[str]]) -> dict[str, np.ndarray]:
    """A MATLAB file's arrays, through scipy (an optional dependency: only imported here)."""
    try:
        from scipy.io import loadmat
    except ImportError:
        raise DataError(f"{path}: reading .mat files needs scipy: {MAT_INSTALL_HINT}") from None
    try:
        contents = loadmat(path)
    except Exception as error:  # a damaged file makes scipy raise zlib.error, struct.error...
        raise DataError(
            f"{path}: not a readable .mat file ({type(error).__name__}: {error})"
        ) from None
    names = [name for name in contents if not name.startswith("__")]  # skip the file's header
    return {key: contents[key] for key in choose(names)}


def _course_layout(
    path: Path,
    X: np.ndarray,
    Y: np.ndarray | None,
    layout: str,
    names: tuple[str, str | None] = ("X", "Y"),
) -> tuple[np.ndarray, np.ndarray | None]:
    """Check the arrays as stored in the file (so messages use the file's own names and
    indices), then return float64 copies in the course layout. Y may be None (no labels)."""
    x_name, y_name = names
    arrays = [(x_name, X)] if Y is None else [(x_name, X), (y_name, Y)]
    for key, array in arrays:
        if array.dtype.kind not in "biuf":  # bool, signed or unsigned int, float
            raise DataError(f"{path}: {key} has dtype {array.dtype}; expected numbers")
    expected_x = "(n_features, m)" if layout == "features-first" else "(m, n_features)"
    if X.ndim != 2:
        raise DataError(
            f"{path}: {x_name} has shape {X.shape}; expected 2-D {expected_x} for layout {layout}"
        )
    m = X.shape[1] if layout == "features-first" else X.shape[0]
    if Y is not None and Y.shape not in _label_shapes(layout, m):
        other = LAYOUTS[1 - LAYOUTS.index(layout)]
        other_m = X.shape[0] if layout == "features-first" else X.shape[1]
        hint = ""
        if Y.shape in _label_shapes(other, other_m):
            hint = (
                f". The arrays fit layout {other} ({other_m} examples): pass "
                f"layout='{other}' (train --layout {other})"
            )
        shapes = _label_shapes(layout, m)
        raise DataError(
            f"{path}: {x_name} has shape {X.shape}, that is m = {m} examples in layout {layout}, "
            f"but {y_name} has shape {Y.shape}; expected {y_name} of shape {shapes[0]} or "
            f"{shapes[1]}{hint}"
        )
    if m == 0 or X.size == 0:
        raise DataError(
            f"{path}: {x_name} has shape {X.shape}; there are no examples or no features"
        )
    for key, array in arrays:
        bad = np.argwhere(~np.isfinite(array))
        if len(bad):
            index = tuple(int(i) for i in bad[0])
            raise DataError(
                f"{path}: {key}{list(index)} is {array[index]}; every value must be a finite number"
            )
    X = np.array(X, dtype=np.float64)
    if layout == "examples-first":
        X = np.ascontiguousarray(X.T)
    if Y is None:
        return X, None
    bad = np.argwhere((Y < 0) | (Y % 1 != 0))  # labels are class indices: 0/1, or 0, 1, 2, ...
    if len(bad):
        index = tuple(int(i) for i in bad[0])
        raise DataError(
            f"{path}: {y_name}{list(index)} is {Y[index]}; labels must be 0 or 1, or class "
            "indices 0, 1, 2, ... for more than two classes"
        )
    return X, np.array(Y, dtype=np.float64).reshape(1, m)


def _label_shapes(layout: str, m: int) -> list[tuple[int, ...]]:
    return [(1, m), (m,)] if layout == "features-first" else [(m,), (m, 1)]


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_csv(
    path: Path, layout: str, n_features: int | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: skip the mark some editors add
    except UnicodeDecodeError as error:
        raise DataError(
            f"{path}: not a UTF-8 text file (byte {error.start} cannot be decoded)"
        ) from None
    header: list[str] | None = None
    rows: list[list[str]] = []
    line_numbers: list[int] = []  # the file's line of each row, for messages
    reader = csv.reader(text.splitlines())
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank line
            if header is None and not rows and not any(_is_number(c) for c in cells):
                header = cells
                continue
            rows.append(cells)
            line_numbers.append(reader.line_num)
    except csv.Error as error:
        raise DataError(f"{path}: row {reader.line_num + 1}: {error}") from None
    if not rows:
        raise DataError(f"{path}: no rows of numbers" + (" (only a header)" if header else ""))

    width = len(header) if header is not None else len(rows[0])
    values = np.empty((len(rows), width))
    for r, (cells, line) in enumerate(zip(rows, line_numbers)):
        if len(cells) != width:
            raise DataError(f"{path}: row {line} has {len(cells)} columns; expected {width}")
        for c, cell in enumerate(cells):
            where = f"{path}: row {line}, column {c + 1}"
            if header is not None:
                where += f" ({header[c].strip()!r})"
            if not cell.strip():
                raise DataError(f"{where} is empty; expected a number")
            try:
                values[r, c] = float(cell)
            except ValueError:
                raise DataError(f"{where}: {cell.strip()!r} is not a number") from None
            if not math.isfinite(values[r, c]):
                raise DataError(f"{where}: {cell.strip()!r} is not a finite number")

    features = width if layout == "examples-first" else len(rows)
    if features == n_features:  # no label column (row): features only, for predictions
        return np.ascontiguousarray(values.T if layout == "examples-first" else values), None
    if layout == "examples-first":
        if width < 2:
            raise DataError(
                f"{path}: {width} column; expected the features, then the label in the last column"
            )
        X, Y = values[:, :-1].T, values[:, -1]
        label_cells = [(line, width) for line in line_numbers]
    else:
        if len(rows) < 2:
            raise DataError(
                f"{path}: {len(rows)} row; in layout features-first expected one row per "
                "feature, then the labels in the last row"
            )
        X, Y = values[:-1], values[-1]
        label_cells = [(line_numbers[-1], c + 1) for c in range(width)]
    for label, (line, column) in zip(Y, label_cells):
        if label < 0 or label % 1 != 0:
            raise DataError(
                f"{path}: row {line}, column {column}: label {label:g} is not 0 or 1 (or a class "
                "index 0, 1, 2, ...)"
            )
    return np.ascontiguousarray(X), Y.reshape(1, -1).copy()

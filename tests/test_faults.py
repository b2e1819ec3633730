"""Faults in files: damaged bytes and killed writers (issue 11, items 11 and 12).

- Any byte flipped in a saved checkpoint or data file gives the module's own error (naming the
  file) or, where the flip lands in bytes nothing reads, exactly the data that was saved;
  never another exception, never different data.
- A process killed while saving leaves the previous checkpoint loadable, and the next save in
  that folder removes the temporary file it left behind.

Bounded so that the file runs in a few seconds in the normal suite.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygrad_reg
from tinygrad_reg.data.datasets import DataError, load_file
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import Adam
from tinygrad_reg.train.checkpoint import CheckpointError, load, save

# About 1 flip in 20 used to escape as a foreign exception: a few hundred examples per run find
# one (a stronger profile's count is kept). Each example loads a file of ~1 kB: ~5 ms.
FLIP_SETTINGS = settings(
    max_examples=max(300, settings().max_examples),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

# (position, xor mask): positions are taken modulo the file's length, masks are never 0.
flips = st.lists(st.tuples(st.integers(0, 2**20), st.integers(1, 255)), min_size=1, max_size=3)


def flipped(data: bytes, changes: list[tuple[int, int]]) -> bytes:
    damaged = bytearray(data)
    for position, mask in changes:
        damaged[position % len(data)] ^= mask
    return bytes(damaged)


@pytest.fixture(scope="module")
def saved_checkpoint(tmp_path_factory):
    """A small model with Adam's state and metadata, saved; and what it holds."""
    model = MLP([2, 4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    for p in model.parameters():
        p.grad = np.ones(p.shape)
    optimizer.step()
    path = tmp_path_factory.mktemp("checkpoint") / "model.npz"
    save(path, model, optimizer, metadata={"layers": [2, 4, 1], "note": "λ"})
    return path.read_bytes(), load(path)


def assert_same_checkpoint(got, expected):
    assert got.metadata == expected.metadata
    for mine, theirs in (
        (got.parameters, expected.parameters),
        (got.optimizer_state, expected.optimizer_state),
    ):
        assert mine.keys() == theirs.keys()
        for key in mine:
            assert mine[key].dtype == theirs[key].dtype
            np.testing.assert_array_equal(mine[key], theirs[key])


@FLIP_SETTINGS
@given(changes=flips)
def test_a_flipped_byte_in_a_checkpoint_is_a_checkpoint_error_or_changes_nothing(
    tmp_path, saved_checkpoint, changes
):
    data, expected = saved_checkpoint
    path = tmp_path / "damaged.npz"
    path.write_bytes(flipped(data, changes))
    try:
        got = load(path)
    except CheckpointError as error:
        assert str(path) in str(error)
        return
    assert_same_checkpoint(got, expected)


@pytest.fixture(scope="module")
def saved_data(tmp_path_factory):
    """The same data as a compressed .npz, a plain .npz and a .csv file: (bytes, X, Y) each."""
    folder = tmp_path_factory.mktemp("data")
    data = tinygrad_reg.datasets.make_moons(n_train=12, n_test=2, seed=0)
    X, Y = data.train_X, data.train_Y
    np.savez_compressed(folder / "zipped.npz", X=X, Y=Y)
    np.savez(folder / "plain.npz", X=X, Y=Y)
    rows = np.vstack([X, Y]).T
    (folder / "rows.csv").write_text(
        "x1,x2,y\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)
    )
    return {name: ((folder / name).read_bytes(), X, Y) for name in os.listdir(folder)}


@FLIP_SETTINGS
@given(name=st.sampled_from(["zipped.npz", "plain.npz", "rows.csv"]), changes=flips)
def test_a_flipped_byte_in_a_data_file_is_a_data_error_or_changes_nothing(
    tmp_path, saved_data, name, changes
):
    data, X, Y = saved_data[name]
    path = tmp_path / name
    path.write_bytes(flipped(data, changes))
    try:
        got_X, got_Y, *_ = load_file(path)
    except DataError as error:
        assert str(path) in str(error)
        return
    if name.endswith(".csv"):  # text: a flip may change a digit and still be a valid file
        assert got_X.shape == X.shape and got_Y.shape == Y.shape
        return
    np.testing.assert_array_equal(got_X, X)
    np.testing.assert_array_equal(got_Y, Y)


# --- killed while saving ----------------------------------------------------------------------

SAVER = """
import sys
import numpy as np
from tinygrad_reg.train.checkpoint import save

for i in range(1, 10**9):  # each version's weights are all equal to its number
    save(sys.argv[1], {"W": np.full((512, 512), float(i))}, metadata={"i": i})
    if i == 1:
        print("saved", flush=True)
"""


def temporary_files(folder: Path) -> list[str]:
    return [name for name in os.listdir(folder) if name.endswith(".tmp")]


@pytest.mark.skipif(os.name != "posix", reason="kills with SIGKILL")
def test_a_save_killed_midway_keeps_the_old_file_and_the_next_save_cleans_up(tmp_path):
    path = tmp_path / "model.npz"
    environment = {**os.environ, "PYTHONPATH": str(Path(tinygrad_reg.__file__).parents[1])}
    rng = np.random.default_rng(0)
    orphans_seen = 0
    for _ in range(8):
        writer = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path)], stdout=subprocess.PIPE, env=environment
        )
        assert writer.stdout.readline() == b"saved\n"
        time.sleep(rng.uniform(0.0, 0.05))  # somewhere inside one of the following saves
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()

        checkpoint = load(path)  # the last complete version, whole
        version = checkpoint.metadata["i"]
        np.testing.assert_array_equal(checkpoint.parameters["W"], np.full((512, 512), version))
        orphans_seen += len(temporary_files(tmp_path))

        save(path, {"W": np.zeros(2)})  # the next save removes what the killed one left
        assert temporary_files(tmp_path) == []
    assert orphans_seen > 0, "no kill landed inside a save: the check above proved nothing"

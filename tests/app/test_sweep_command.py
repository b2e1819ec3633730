"""``sweep`` and Ctrl-C, in a real process: during a row's training, while the CSV is being
written, while the plot is drawn. The CSV keeps every finished row, whole, equal to the rows
of a sweep that was never interrupted; exit code 130."""

import csv
import math

import pytest
from interrupts import before_calling, run_with_ctrl_c

from tinygrad_reg.app import cli

SWEEP = ["sweep", "--values", "0,0.5,1", "--iterations", "30"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """The rows of the same sweep, never interrupted."""
    out = tmp_path_factory.mktemp("sweep")
    assert cli.main([*SWEEP, "--no-plots", "--out", str(out)]) == 0
    return rows(out)


def rows(folder):
    with open(folder / "sweep_l2.csv", newline="") as file:
        table = list(csv.DictReader(file))
    for row in table:
        del row["seconds"]  # the only column that may differ
    return table


WRITE_INTERRUPTED = """
from tinygrad_reg.train import regularization_path

real = regularization_path.write_atomically
calls = []

def interrupted_midway(path, write):
    calls.append(path)
    if len(calls) != 2:
        return real(path, write)

    def half_then_ctrl_c(file):
        file.write(b"lambd,train_accuracy\\n0,")
        ctrl_c()
        write(file)

    return real(path, half_then_ctrl_c)

regularization_path.write_atomically = interrupted_midway
"""


@pytest.mark.parametrize(
    "patch, options, kept, message",
    [
        (
            before_calling(
                "tinygrad_reg.train.regularization_path", "train_one", "len(calls) == 2"
            ),
            ["--no-plots"],
            1,
            "Interrupted: 1 value(s) done",
        ),
        (WRITE_INTERRUPTED, ["--no-plots"], 2, "Interrupted: 2 value(s) done"),
        (
            before_calling("tinygrad_reg.app.plots", "regularization_path"),
            [],
            3,
            "Interrupted (Ctrl-C) after the sweep",
        ),
    ],
    ids=["during a row", "while writing the CSV", "while drawing the plot"],
)
def test_ctrl_c_keeps_the_finished_rows_whole(finished, tmp_path, patch, options, kept, message):
    if isinstance(patch, tuple):
        patch = before_calling(*patch)
    result = run_with_ctrl_c(tmp_path, patch, [*SWEEP, *options, "--out", str(tmp_path)])
    assert result.returncode == 130, result.stderr
    assert message in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert rows(tmp_path) == finished[:kept]
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []
    assert all(math.isfinite(float(value)) for row in rows(tmp_path) for value in row.values())

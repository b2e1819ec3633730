"""``sweep`` and Ctrl-C, in a real process: during a row's training, while the CSV is being
written, while the plot is drawn. The CSV keeps every finished row, whole, equal to the rows
of a sweep that was never interrupted; exit code 130."""

import csv
import math

import numpy as np
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
        assert row.pop("error") == ""  # every run of these sweeps succeeds
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


def test_jobs_2_writes_the_rows_of_jobs_1(finished, tmp_path):
    assert cli.main([*SWEEP, "--jobs", "2", "--no-plots", "--out", str(tmp_path)]) == 0
    assert rows(tmp_path) == finished


def test_ctrl_c_with_jobs_2_keeps_finished_rows_whole(finished, tmp_path):
    patch = before_calling(
        "tinygrad_reg.train.regularization_path", "write_atomically", "len(calls) == 2"
    )
    argv = [*SWEEP, "--jobs", "2", "--no-plots", "--out", str(tmp_path)]
    result = run_with_ctrl_c(tmp_path, patch, argv)
    assert result.returncode == 130, result.stderr
    assert "Interrupted: 2 value(s) done" in result.stdout and "Traceback" not in result.stderr
    kept = rows(tmp_path)
    assert len(kept) == 2 and kept == [row for row in finished if row in kept]


@pytest.mark.parametrize(
    "arrays, validated",
    [
        ({"X": "X", "Y": "Y"}, "5-fold cross-validation on the 40 training examples"),
        (
            {"train_X": "X", "train_Y": "Y", "test_X": "X", "test_Y": "Y"},
            "test set (40 examples)",
        ),
    ],
    ids=["no test split: 5 folds", "the course's names: its test split"],
)
def test_data_from_a_file_is_read_as_train_reads_it_and_says_what_validates(
    arrays, validated, tmp_path, capsys
):
    generator = np.random.default_rng(0)
    X = generator.standard_normal((3, 40))
    data = {"X": X, "Y": (X[:1] + X[1:2] > 0).astype(float)}
    np.savez(tmp_path / "mine.npz", **{name: data[kind] for name, kind in arrays.items()})
    argv = ["sweep", "--data", str(tmp_path / "mine.npz"), "--values", "0,1", "--iterations", "5"]
    assert cli.main([*argv, "--no-plots", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    statement = out.split("Validated on: ")[1].splitlines()[0]
    assert validated in statement and f"val = {statement};" in out
    assert "[3, 20, 3, 1]" in out and len(rows(tmp_path)) == 2


@pytest.mark.parametrize(
    "options, message",
    [
        (["--x-key", "A"], "go with --data"),
        (["--data", "missing.npz"], "no such file"),
        (["--data", "x.npz", "--dataset", "moons"], "not allowed with argument"),
        (["--values", "1e30"], "training diverges"),
        (["--seed", "-1"], "is not an integer from 0"),
        (["--jobs", "0"], "is not an integer >= 1"),
    ],
)
def test_bad_data_and_options_are_one_line_with_exit_code_2(options, message, tmp_path, capsys):
    code = cli.main(["sweep", "--out", str(tmp_path), *options])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "sweep_l2.csv").exists()


@pytest.mark.parametrize("command", cli.COMMANDS, ids=lambda command: command.name)
def test_no_subcommand_takes_an_abbreviated_option(command):
    """Each option shortened by its last letter is refused, not read as the option (the
    parser of the command line itself, with its required options made optional)."""
    subcommands = next(
        action for action in cli.build_parser()._actions if action.choices and action.dest
    )
    parser = subcommands.choices[command.name]
    for group in [*parser._actions, *parser._mutually_exclusive_groups]:
        group.required = False
    options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
    assert "--help" in options and len(options) >= 3
    for option in options:
        shortened = option[:-1]
        if shortened in options:
            continue
        _, unread = parser.parse_known_args([shortened, "1"])
        assert unread[0] == shortened, option

"""``train`` and Ctrl-C, in a real process, at each moment: during the first step, between two
steps, between two validations and during one, after the last step, while saving, while
drawing the plots. Each leaves a complete checkpoint of the last completed update, exactly
(compared with a run of that many iterations), says which iteration it holds and exits 130.
"""

import numpy as np
import pytest
from interrupts import after_update, before_calling, run_with_ctrl_c

import tinygrad_reg
from tinygrad_reg import datasets
from tinygrad_reg.app import cli
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import SGD
from tinygrad_reg.train.loop import fit

ITERATIONS = 40


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "field.npz"
    data = datasets.make_field(n_train=64, n_test=48, seed=2)
    np.savez(path, X=data.train_X, Y=data.train_Y)
    return path


def cli_run(data_file, folder, iterations, *options):
    """The parameters of an uninterrupted ``train`` run of ``iterations``."""
    argv = ["train", "--data", str(data_file), "--iterations", str(iterations), "--no-plots"]
    assert cli.main([*argv, *options, "--out", str(folder)]) == 0
    return tinygrad_reg.load(folder / "model.npz").parameters


def validated_run(data_file, iterations):
    """The parameters after ``iterations`` updates of train's run with --validation-split 0.25,
    not rewound to the best validation."""
    data = datasets.load_file(data_file)
    model = MLP([2, 20, 3, 1], seed=3)
    optimizer = SGD(model.parameters(), lr=0.3)
    fit(
        model,
        data.train_X,
        data.train_Y,
        optimizer=optimizer,
        iterations=iterations,
        validation_split=0.25,
        seed=3,
        restore_best=False,
        progress=False,
    )
    return model.state_dict()


def assert_saved_after(result, out, updates, expected):
    """Exit 130, a checkpoint holding ``updates`` updates with the parameters ``expected``,
    and a message saying so."""
    assert result.returncode == 130, result.stderr
    assert "Traceback" not in result.stderr
    checkpoint = tinygrad_reg.load(out / "model.npz")
    assert checkpoint.metadata["iterations_done"] == updates
    assert f"saved in {out / 'model.npz'}, with iterations_done {updates}" in result.stderr
    assert checkpoint.parameters.keys() == expected.keys()
    for name, value in expected.items():
        np.testing.assert_array_equal(checkpoint.parameters[name], value, err_msg=name)
    model = MLP(checkpoint.metadata["layer_dims"], hidden=checkpoint.metadata["hidden"])
    checkpoint.restore(model)  # loadable into the network it names


IN_THE_FIRST_STEP = """
from tinygrad_reg.nn import modules

forward = modules.MLP.forward

def first_forward(self, X):
    if self.training and not hasattr(self, "pressed"):
        self.pressed = True
        ctrl_c()
    return forward(self, X)

modules.MLP.forward = first_forward
"""


def test_ctrl_c_during_the_first_step_saves_the_first_update(data_file, tmp_path):
    argv = ["train", "--data", str(data_file), "--iterations", str(ITERATIONS), "--no-plots"]
    result = run_with_ctrl_c(tmp_path, IN_THE_FIRST_STEP, [*argv, "--out", str(tmp_path / "out")])
    expected = cli_run(data_file, tmp_path / "one", 1)
    assert_saved_after(result, tmp_path / "out", 1, expected)
    assert f"after 1 of {ITERATIONS} iterations" in result.stderr


def test_ctrl_c_from_the_parent_between_steps(data_file, tmp_path):
    """The child prints a line after update 17 and waits; the parent reads it and sends SIGINT."""
    argv = ["train", "--data", str(data_file), "--iterations", str(ITERATIONS), "--no-plots"]
    patch = after_update(17, "wait_for_ctrl_c()")
    result = run_with_ctrl_c(tmp_path, patch, [*argv, "--out", str(tmp_path / "out")])
    assert_saved_after(result, tmp_path / "out", 17, cli_run(data_file, tmp_path / "17", 17))
    assert "go on with --resume" in result.stderr


def test_ctrl_c_between_the_first_two_validations_keeps_the_update_not_the_start(
    data_file, tmp_path
):
    """Validation at iterations 0, 2, 4, ...: Ctrl-C after the first update used to save the
    initial parameters (the best validation so far) as "the model trained so far"."""
    argv = ["train", "--data", str(data_file), "--iterations", "400", "--no-plots"]
    argv += ["--validation-split", "0.25", "--out", str(tmp_path / "out")]
    result = run_with_ctrl_c(tmp_path, after_update(1, "ctrl_c()"), argv)
    assert_saved_after(result, tmp_path / "out", 1, validated_run(data_file, 1))


def test_ctrl_c_during_a_validation(data_file, tmp_path):
    """Ctrl-C while the second validation (iteration 2) is measured: its update still happens."""
    argv = ["train", "--data", str(data_file), "--iterations", "400", "--no-plots"]
    argv += ["--validation-split", "0.25", "--out", str(tmp_path / "out")]
    # Each validation measures two accuracies: the third call is in the second validation.
    patch = before_calling("tinygrad_reg.train.loop", "accuracy", "len(calls) == 3")
    result = run_with_ctrl_c(tmp_path, patch, argv)
    assert_saved_after(result, tmp_path / "out", 3, validated_run(data_file, 3))


@pytest.mark.parametrize(
    "patch",
    [
        before_calling("tinygrad_reg.app.train_command", "_evaluate"),
        before_calling("tinygrad_reg.app.train_command", "save"),
    ],
    ids=["after the last step", "while saving"],
)
def test_ctrl_c_after_the_last_step_still_saves_the_whole_run(data_file, tmp_path, patch):
    argv = ["train", "--data", str(data_file), "--iterations", str(ITERATIONS), "--no-plots"]
    result = run_with_ctrl_c(tmp_path, patch, [*argv, "--out", str(tmp_path / "out")])
    expected = cli_run(data_file, tmp_path / "all", ITERATIONS)
    assert_saved_after(result, tmp_path / "out", ITERATIONS, expected)
    assert f"after the last of the {ITERATIONS} iterations" in result.stderr


def test_ctrl_c_while_drawing_the_plots(data_file, tmp_path):
    argv = ["train", "--data", str(data_file), "--iterations", str(ITERATIONS)]
    patch = before_calling("tinygrad_reg.app.plots", "cost_curves")
    result = run_with_ctrl_c(tmp_path, patch, [*argv, "--out", str(tmp_path / "out")])
    expected = cli_run(data_file, tmp_path / "all", ITERATIONS)
    assert_saved_after(result, tmp_path / "out", ITERATIONS, expected)
    assert "Interrupted (Ctrl-C) while drawing the plots" in result.stderr

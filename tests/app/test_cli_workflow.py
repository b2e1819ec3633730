"""The command line as a course student uses it: the course's own files (train_X ... test_Y in
an .npz, X, y, Xval, yval in a .mat), train → predict, Ctrl-C, run folders, the hidden
activation, a diverging learning rate, and the plots' contents.

The data files are small ones written here with the course's array names and orientations.
CLI tests go through ``main(argv)``; one real process checks that Ctrl-C saves the model.
"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import tinygrad_reg
from tinygrad_reg import datasets
from tinygrad_reg.app import cli, plots
from tinygrad_reg.app.train_command import RUNS_FOLDER
from tinygrad_reg.nn import MLP
from tinygrad_reg.train.evaluate import accuracy


def run(argv, capsys):
    """main(argv) → (exit code, stdout, stderr)."""
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def percent_after(label, text):
    """The percentage printed after ``label`` (e.g. "test accuracy"), as a string."""
    return re.search(re.escape(label) + r"\s+(\d+\.\d%)", text).group(1)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The field data saved as the course saves its files: football.npz (features-first,
    train_X/train_Y/test_X/test_Y), an unlabelled copy and a .npz with examples as rows."""
    folder = tmp_path_factory.mktemp("course")
    data = datasets.make_field(n_train=64, n_test=48, seed=2)
    np.savez(
        folder / "football.npz",
        train_X=data.train_X,
        train_Y=data.train_Y,
        test_X=data.test_X,
        test_Y=data.test_Y,
    )
    np.savez(folder / "unlabelled.npz", X=data.test_X)
    np.savez(folder / "rows.npz", X=data.train_X.T, Y=data.train_Y.T)
    return folder, data


TRAIN = ["train", "--iterations", "150", "--no-plots"]


def test_train_on_the_course_npz_uses_its_test_split_and_predict_reproduces_it(
    course, tmp_path, capsys
):
    folder, data = course
    out = tmp_path / "run"
    code, stdout, stderr = run(
        [*TRAIN, "--data", str(folder / "football.npz"), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert "64 examples, 2 features" in stdout
    meta = tinygrad_reg.load(out / "model.npz").metadata
    model = MLP(meta["layer_dims"])
    tinygrad_reg.load(out / "model.npz").restore(model)
    assert meta["test_accuracy"] == accuracy(model, data.test_X, data.test_Y)
    assert meta["train_accuracy"] == accuracy(model, data.train_X, data.train_Y)
    reported = percent_after("test accuracy", stdout)
    assert reported == f"{meta['test_accuracy']:.1%}"

    argv = ["predict", "--model", str(out / "model.npz"), "--data", str(folder / "football.npz")]
    code, stdout, stderr = run(argv, capsys)
    assert code == 0, stderr
    assert f"48 predictions for the test split of {folder / 'football.npz'}" in stderr
    assert percent_after("accuracy", stderr) == reported
    expected = model.predict(data.test_X).reshape(-1)
    assert stdout.split() == [str(p) for p in expected]

    code, _, stderr = run([*argv, "--split", "train", "--output", str(tmp_path / "p.csv")], capsys)
    assert code == 0, stderr
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "prediction" and len(lines) == 1 + 64
    assert lines[1:] == [str(p) for p in model.predict(data.train_X).reshape(-1)]
    assert percent_after("accuracy", stderr) == percent_after(
        "train accuracy", "train accuracy " + f"{meta['train_accuracy']:.1%}"
    )


def test_train_and_predict_on_the_course_mat_file(tmp_path, capsys):
    scipy_io = pytest.importorskip("scipy.io")
    data = datasets.make_field(n_train=64, n_test=48, seed=3)
    arrays = {
        "X": data.train_X.T,
        "y": data.train_Y.T,
        "Xval": data.test_X.T,
        "yval": data.test_Y.T,
    }
    scipy_io.savemat(tmp_path / "data.mat", arrays)
    out = tmp_path / "run"
    code, stdout, stderr = run(
        [*TRAIN, "--data", str(tmp_path / "data.mat"), "--out", str(out)], capsys
    )
    assert code == 0, stderr
    assert "64 examples, 2 features" in stdout
    argv = ["predict", "--model", str(out / "model.npz"), "--data", str(tmp_path / "data.mat")]
    code, _, predicted = run(argv, capsys)
    assert code == 0
    assert percent_after("accuracy", predicted) == percent_after("test accuracy", stdout)


def test_named_arrays_and_test_data_beside_a_test_split(course, tmp_path, capsys):
    folder, data = course
    np.savez(tmp_path / "named.npz", features=data.train_X, labels=data.train_Y)
    argv = [*TRAIN, "--data", str(tmp_path / "named.npz"), "--x-key", "features"]
    code, stdout, stderr = run([*argv, "--y-key", "labels", "--out", str(tmp_path / "a")], capsys)
    assert code == 0, stderr
    assert "train accuracy" in stdout and "test accuracy" not in stdout

    argv = [
        *TRAIN,
        "--data",
        str(folder / "football.npz"),
        "--test-data",
        str(tmp_path / "named.npz"),
    ]
    code, _, stderr = run([*argv, "--out", str(tmp_path / "b")], capsys)
    assert code == 2 and "has its own test split; leave out --test-data" in stderr

    code, _, stderr = run([*TRAIN, "--dataset", "moons", "--x-key", "X"], capsys)
    assert code == 2 and "--x-key and --y-key go with --data" in stderr


def test_examples_as_rows_suggest_the_layout_option(course, tmp_path, capsys):
    folder, _ = course
    argv = [*TRAIN, "--data", str(folder / "rows.npz"), "--out", str(tmp_path)]
    code, _, stderr = run(argv, capsys)
    assert code == 2
    assert "m = 2 examples" in stderr and "--layout examples-first" in stderr
    assert stderr.count("\n") == 1
    code, stdout, stderr = run([*argv, "--layout", "examples-first"], capsys)
    assert code == 0, stderr
    assert "64 examples, 2 features" in stdout


def test_predict_without_labels_and_bad_predict_input(course, tmp_path, capsys):
    folder, _ = course
    run([*TRAIN, "--data", str(folder / "football.npz"), "--out", str(tmp_path)], capsys)
    model_path = str(tmp_path / "model.npz")
    code, stdout, stderr = run(
        ["predict", "--model", model_path, "--data", str(folder / "unlabelled.npz")], capsys
    )
    assert code == 0, stderr
    assert len(stdout.split()) == 48 and set(stdout.split()) <= {"0", "1"}
    assert "48 predictions" in stderr and "accuracy" not in stderr

    three = tmp_path / "three.csv"
    three.write_text("1,2,3,0\n4,5,6,1\n")
    bad = {
        "no model": (
            ["--model", str(tmp_path / "none.npz"), "--data", str(three)],
            "none.npz: not a checkpoint",
        ),
        "features": (
            ["--model", model_path, "--data", str(three)],
            "3 features per example, but the model takes 2",
        ),
        "no test split": (
            ["--model", model_path, "--data", str(three), "--split", "test"],
            "has no test split",
        ),
        "not data": (["--model", model_path, "--data", model_path], "no array named"),
    }
    for case, (options, message) in bad.items():
        code, _, stderr = run(["predict", *options], capsys)
        assert code == 2, case
        assert message in stderr and stderr.count("\n") == 1, (case, stderr)


def test_each_run_gets_its_own_folder_and_models_are_not_overwritten(
    course, tmp_path, capsys, monkeypatch
):
    folder, _ = course
    monkeypatch.chdir(tmp_path)
    argv = [*TRAIN, "--data", str(folder / "football.npz"), "--iterations", "5"]
    for n in (1, 2):
        code, stdout, _ = run(argv, capsys)
        assert code == 0
        assert os.path.join(RUNS_FOLDER, f"run-{n}", "model.npz") in stdout
    assert not (tmp_path / cli.DEFAULT_OUT).exists()  # not the demo's folder

    chosen = tmp_path / RUNS_FOLDER / "run-1"
    before = (chosen / "model.npz").read_bytes()
    code, _, stderr = run([*argv, "--out", str(chosen)], capsys)
    assert code == 2 and "already holds a model.npz; pass --force" in stderr
    assert (chosen / "model.npz").read_bytes() == before
    code, _, _ = run([*argv, "--out", str(chosen), "--force", "--seed", "9"], capsys)
    assert code == 0 and (chosen / "model.npz").read_bytes() != before


@pytest.mark.parametrize("hidden", ["tanh", "sigmoid"])
def test_hidden_activation_is_trained_saved_and_used_by_predict(course, tmp_path, capsys, hidden):
    folder, data = course
    argv = [
        *TRAIN,
        "--data",
        str(folder / "football.npz"),
        "--hidden",
        hidden,
        "--out",
        str(tmp_path),
    ]
    code, stdout, _ = run(argv, capsys)
    assert code == 0 and f"{hidden} hidden units" in stdout
    checkpoint = tinygrad_reg.load(tmp_path / "model.npz")
    assert checkpoint.metadata["hidden"] == hidden
    model = MLP(checkpoint.metadata["layer_dims"], hidden=hidden)
    checkpoint.restore(model)
    code, _, stderr = run(
        ["predict", "--model", str(tmp_path / "model.npz"), "--data", str(folder / "football.npz")],
        capsys,
    )
    assert percent_after("accuracy", stderr) == f"{accuracy(model, data.test_X, data.test_Y):.1%}"
    assert percent_after("accuracy", stderr) == percent_after("test accuracy", stdout)


def test_empty_layers_is_an_error_and_none_is_logistic_regression(course, tmp_path, capsys):
    folder, _ = course
    argv = [*TRAIN, "--data", str(folder / "football.npz"), "--out", str(tmp_path)]
    code, _, stderr = run([*argv, "--layers", ""], capsys)
    assert code == 2 and "'' gives no layer sizes" in stderr and "none" in stderr
    code, stdout, _ = run([*argv, "--layers", "none"], capsys)
    assert code == 0
    assert "No hidden layer: logistic regression" in stdout and "[2, 1]" in stdout


def test_a_diverging_learning_rate_gets_a_warning(course, tmp_path, capsys):
    folder, _ = course
    argv = [*TRAIN, "--data", str(folder / "football.npz"), "--out", str(tmp_path), "--lr", "1000"]
    code, _, stderr = run(argv, capsys)
    assert code == 0
    assert re.search(
        r"train: warning: fit: the cost rose .* learning rate is probably too large", stderr
    )
    code, _, stderr = run([*argv[:-1], "0.3", "--force"], capsys)
    assert "warning" not in stderr


def test_more_than_two_features_says_why_there_is_no_boundary_plot(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 40))
    np.savez(tmp_path / "three.npz", X=X, Y=(X[:1] > 0))
    code, stdout, _ = run(
        [
            "train",
            "--data",
            str(tmp_path / "three.npz"),
            "--iterations",
            "5",
            "--out",
            str(tmp_path / "o"),
        ],
        capsys,
    )
    assert code == 0
    assert (
        "no decision_boundary.png: it is drawn in the plane, for 2 features; the data has 3"
        in stdout
    )


def test_the_cost_plot_has_train_and_test_curves_and_the_settings(
    course, tmp_path, capsys, monkeypatch
):
    folder, _ = course
    drawn = {}

    def cost_curves(path, curves, title, test_curves):
        drawn.update(curves=curves, title=title, test_curves=test_curves)
        return str(path)

    monkeypatch.setattr(plots, "cost_curves", cost_curves)
    argv = ["train", "--data", str(folder / "football.npz"), "--iterations", "100"]
    argv += ["--out", str(tmp_path), "--penalty", "l2", "--lambd", "0.5", "--keep-prob", "0.9"]
    code, _, _ = run(argv, capsys)
    assert code == 0
    train_its, train_costs = drawn["curves"]["training"]
    test_its, test_costs = drawn["test_curves"]["training"]
    assert len(train_costs) == len(test_costs) > 2 and test_its == [i + 1 for i in train_its]
    assert all(np.isfinite(test_costs)) and test_costs[-1] < test_costs[0]
    for setting in ("sgd lr 0.3", "relu", "penalty l2 λ 0.5", "keep_prob 0.9"):
        assert setting in drawn["title"]


def test_ctrl_c_saves_the_model_trained_so_far(tmp_path):
    """A real process: SIGINT during a long training stops it after the current step, saves
    the model with the number of iterations done, says where, and exits with 130."""
    argv = [sys.executable, "-m", "tinygrad_reg", "train", "--dataset", "field", "--no-plots"]
    argv += ["--iterations", "100000000", "--out", str(tmp_path)]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().startswith("Training [2, 20, 3, 1]")
        time.sleep(1.0)  # some iterations
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, stderr
    checkpoint = tinygrad_reg.load(tmp_path / "model.npz")
    done = checkpoint.metadata["iterations_done"]
    assert 0 < done < 100_000_000
    assert f"Interrupted (Ctrl-C) after {done} of 100000000 iterations" in stderr
    assert f"saved in {tmp_path / 'model.npz'}" in stderr
    assert "Traceback" not in stderr
    model = MLP(checkpoint.metadata["layer_dims"])
    checkpoint.restore(model)  # a complete, usable model
    assert json.dumps(checkpoint.metadata)  # plain metadata


def test_the_readme_names_import_from_the_package():
    """fit, predict, accuracy and datasets are listed in the README: one import gets them."""
    from tinygrad_reg import accuracy as top_accuracy
    from tinygrad_reg import datasets as top_datasets
    from tinygrad_reg import fit, predict
    from tinygrad_reg.train.evaluate import accuracy as training_accuracy

    assert top_accuracy is training_accuracy and top_datasets is datasets
    assert {"fit", "predict", "accuracy", "datasets"} <= set(tinygrad_reg.__all__)
    model = MLP([2, 3, 1])
    fit(model, *datasets.load()[:2], iterations=2, progress=False)
    assert predict(model, datasets.load().test_X).shape == (1, 200)

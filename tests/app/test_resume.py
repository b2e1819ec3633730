"""``train --resume`` (app/resume.py): a run interrupted and resumed is bit for bit the run never
stopped; an option given replaces the saved value and is reported; contradictions, bad
metadata and labels the model cannot learn are refused in one line (exit 2) before anything is
trained or created.

In-process through ``main(argv)``; Ctrl-C is a real SIGINT that this process sends itself from
a callback after a chosen update (the subprocess tests of each moment are in
test_train_command.py).
"""

import json
import os
import signal

import numpy as np
import pytest

import tinygrad_reg
from tinygrad_reg import datasets
from tinygrad_reg.app import cli, train_command
from tinygrad_reg.train import loop
from tinygrad_reg.train.callbacks import Callback


def run(argv, capsys):
    """main(argv) → (exit code, stdout, stderr)."""
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(code, stdout, stderr, message, out=None):
    """Exit 2, one line naming the problem, nothing trained, no folder made."""
    assert code == 2, stderr
    assert message in stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert "Training" not in stdout
    if out is not None:
        assert not out.exists()


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("data")
    data = datasets.make_field(n_train=64, n_test=48, seed=2)
    path = folder / "field.npz"
    np.savez(
        path, train_X=data.train_X, train_Y=data.train_Y, test_X=data.test_X, test_Y=data.test_Y
    )
    return path


class CtrlCAfter(Callback):
    """Sends this process SIGINT once ``updates`` updates are done, as a user pressing Ctrl-C
    between two steps."""

    def __init__(self, updates):
        self.updates = updates

    def after_update(self, state):
        if state.iteration + 1 == self.updates:
            os.kill(os.getpid(), signal.SIGINT)


def press_ctrl_c_after(monkeypatch, updates):
    def fit(*args, callbacks=(), **kwargs):
        return loop.fit(*args, callbacks=[CtrlCAfter(updates), *callbacks], **kwargs)

    monkeypatch.setattr(train_command, "fit", fit)


def assert_same_run(got, expected):
    """The same parameters, optimizer state and generator states, to the last bit."""
    for mine, theirs in [
        (got.parameters, expected.parameters),
        (got.optimizer_state, expected.optimizer_state),
    ]:
        assert mine.keys() == theirs.keys()
        for key in mine:
            np.testing.assert_array_equal(mine[key], theirs[key], err_msg=key)
    assert got.metadata["generators"] == expected.metadata["generators"]
    assert got.metadata["iterations_done"] == expected.metadata["iterations_done"]


RUNS = {
    "sgd, l2 λ 0.7": ["--penalty", "l2", "--lambd", "0.7"],
    "adam": ["--optimizer", "adam"],
    "dropout": ["--keep-prob", "0.8"],
    "mini-batches": ["--batch-size", "24"],
    "all, compiled": [
        *["--optimizer", "adam", "--keep-prob", "0.8", "--batch-size", "20"],
        *["--penalty", "l2", "--compile"],
    ],
}


@pytest.mark.parametrize("options", RUNS.values(), ids=list(RUNS))
def test_a_run_interrupted_and_resumed_is_the_run_never_stopped(
    data_file, tmp_path, capsys, monkeypatch, options
):
    """60 iterations in one go; or Ctrl-C after 23, then --resume with no other option: the
    same parameters, optimizer state and generator states."""
    argv = ["train", "--data", str(data_file), "--iterations", "60", "--no-plots", *options]
    code, _, stderr = run([*argv, "--out", str(tmp_path / "once")], capsys)
    assert code == 0, stderr

    with monkeypatch.context() as patch:
        press_ctrl_c_after(patch, 23)
        code, _, stderr = run([*argv, "--out", str(tmp_path / "first")], capsys)
    first = tmp_path / "first" / "model.npz"
    assert code == 130, stderr
    assert f"after 23 of 60 iterations; the model trained so far is saved in {first}" in stderr
    assert tinygrad_reg.load(first).metadata["iterations_done"] == 23

    resume = ["train", "--data", str(data_file), "--resume", str(first), "--no-plots"]
    code, stdout, stderr = run([*resume, "--out", str(tmp_path / "second")], capsys)
    assert code == 0, stderr
    assert f"Resuming {first} after 23 of 60 iterations" in stdout
    assert "changed" not in stdout
    once = tinygrad_reg.load(tmp_path / "once" / "model.npz")
    assert_same_run(tinygrad_reg.load(tmp_path / "second" / "model.npz"), once)


def test_an_option_given_replaces_the_saved_value_and_is_reported(data_file, tmp_path, capsys):
    """--iterations 30, then --resume --iterations 60: the new total, reported, and the run of
    60; --lr and --penalty given on a resume are reported and used."""
    argv = ["train", "--data", str(data_file), "--optimizer", "adam", "--no-plots"]
    assert run([*argv, "--iterations", "60", "--out", str(tmp_path / "once")], capsys)[0] == 0
    assert run([*argv, "--iterations", "30", "--out", str(tmp_path / "first")], capsys)[0] == 0
    first = tmp_path / "first" / "model.npz"
    resume = ["train", "--data", str(data_file), "--resume", str(first), "--no-plots"]
    code, stdout, stderr = run(
        [*resume, "--iterations", "60", "--out", str(tmp_path / "second")], capsys
    )
    assert code == 0, stderr
    assert "changed: --iterations 30 → 60" in stdout
    once = tinygrad_reg.load(tmp_path / "once" / "model.npz")
    assert_same_run(tinygrad_reg.load(tmp_path / "second" / "model.npz"), once)

    changes = ["--iterations", "40", "--lr", "0.005", "--penalty", "l2"]
    code, stdout, stderr = run([*resume, *changes, "--out", str(tmp_path / "third")], capsys)
    assert code == 0, stderr
    assert (
        "changed: --penalty none → l2; --lr 0.01 → 0.005; --iterations 30 → 40; --lambd 0 → 0.7"
        in stdout
    )
    third = tinygrad_reg.load(tmp_path / "third" / "model.npz")
    assert float(third.optimizer_state["param_groups.0.lr"]) == third.metadata["lr"] == 0.005
    assert (third.metadata["penalty"], third.metadata["lambd"]) == ("l2", 0.7)


def test_a_resumed_validation_run_says_its_record_starts_anew(data_file, tmp_path, capsys):
    """What is not carried over is said: the best validation so far is not in the checkpoint."""
    argv = ["train", "--data", str(data_file), "--validation-split", "0.25", "--no-plots"]
    assert run([*argv, "--iterations", "10", "--out", str(tmp_path / "first")], capsys)[0] == 0
    resume = ["--resume", str(tmp_path / "first" / "model.npz"), "--iterations", "20"]
    code, stdout, stderr = run([*argv, *resume, "--out", str(tmp_path / "second")], capsys)
    assert code == 0, stderr
    assert "note: the validation record starts anew at iteration 10" in stdout


@pytest.fixture(scope="module")
def elastic_run(data_file, tmp_path_factory):
    """A finished run of 20 iterations: Adam, elastic net (λ1, λ2) = (0.1, 0.7), no validation."""
    out = tmp_path_factory.mktemp("elastic")
    argv = ["train", "--data", str(data_file), "--optimizer", "adam", "--penalty", "elastic"]
    argv += ["--lambd", "0.1,0.7", "--iterations", "20", "--no-plots", "--out", str(out)]
    assert cli.main(argv) == 0
    return out / "model.npz"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--layers", "5"], "--layers 5: the run in"),
        (["--hidden", "tanh"], "has --hidden relu and a resumed run keeps it"),
        (["--optimizer", "sgd"], "has --optimizer adam and a resumed run keeps it"),
        (["--seed", "4"], "has --seed 3 and a resumed run keeps it"),
        (["--validation-split", "0.25"], "has --validation-split none"),
        (["--iterations", "20"], "has already made 20 updates; expected its new total"),
        ([], "its run is complete (20 of 20 iterations); give --iterations N"),
        (["--iterations", "40", "--penalty", "l1"], "the resumed run's λ is a pair 0.1,0.7"),
        (["--iterations", "40", "--penalty", "none", "--lambd", "0.5"], "--lambd needs a penalty"),
        (["--iterations", "40", "--patience", "3"], "--patience needs a validation set"),
        (["--iterations", "40", "--batch-size", "65"], "--batch-size 65 is more than the 64"),
    ],
)
def test_contradictory_options_are_refused_before_training(
    data_file, elastic_run, tmp_path, capsys, options, message
):
    argv = ["train", "--data", str(data_file), "--resume", str(elastic_run), *options]
    before = elastic_run.read_bytes()
    assert_refused(*run([*argv, "--out", str(tmp_path / "out")], capsys), message, tmp_path / "out")
    assert elastic_run.read_bytes() == before


def test_a_validation_split_too_small_for_the_batch_is_refused(data_file, tmp_path, capsys):
    argv = ["train", "--data", str(data_file), "--validation-split", "0.5", "--batch-size", "40"]
    message = "--batch-size 40 is more than the 32 examples kept for training"
    assert_refused(*run([*argv, "--out", str(tmp_path / "out")], capsys), message, tmp_path / "out")


def edited(source, target, change):
    """A copy of the checkpoint ``source`` whose metadata ``change(metadata)`` edited."""
    with np.load(source, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    metadata = json.loads(str(arrays["metadata"]))
    change(metadata)
    arrays["metadata"] = np.array(json.dumps(metadata))
    np.savez(target, **arrays)
    return target


def setting(key, value):
    return lambda metadata: metadata.update({key: value})


def generators(**values):
    return lambda metadata: metadata["generators"].update(values)


BAD_METADATA = [
    (
        setting("layer_dims", "2,20,3,1"),
        "its metadata has layer_dims = '2,20,3,1'; expected a list",
    ),
    (setting("layer_dims", [2]), "layer_dims = [2]; expected a list of at least two"),
    (setting("layer_dims", [2, 0, 3, 1]), "layer_dims = [2, 0, 3, 1]"),
    (setting("layer_dims", [2, "a", 3, 1]), "layer_dims = [2, 'a', 3, 1]"),
    (setting("layer_dims", [2, 20.5, 3, 1]), "layer_dims = [2, 20.5, 3, 1]"),
    (setting("layer_dims", [2, True, 3, 1]), "layer_dims = [2, True, 3, 1]"),
    (setting("layer_dims", None), "layer_dims = None"),
    (setting("layer_dims", [2, 5, 1]), "but its parameters are those of [2, 20, 3, 1]"),
    (
        setting("layer_dims", [2] * 100_000),
        "layer_dims = [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,...",
    ),
    (setting("hidden", 5), "its metadata has hidden = 5; expected one of"),
    (setting("hidden", "bogus"), "hidden = 'bogus'"),
    (setting("hidden", ["relu"]), "hidden = ['relu']"),
    (setting("hidden", None), "hidden = None"),
    (setting("iterations_done", -1), "iterations_done = -1; expected an integer >= 0"),
    (setting("iterations_done", "7"), "iterations_done = '7'"),
    (setting("iterations_done", 1.5), "iterations_done = 1.5"),
    (setting("iterations_done", None), "iterations_done = None"),
    (setting("iterations_done", True), "iterations_done = True"),
    (setting("iterations_done", 21), "says 21 iterations done of 20; expected at most"),
    (setting("iterations", 0), "iterations = 0"),
    (setting("lambd", [0.1]), "lambd = [0.1]"),
    (setting("keep_prob", 0), "keep_prob = 0"),
    (setting("lr", -1), "lr = -1"),
    (setting("batch_size", 0), "batch_size = 0"),
    (setting("seed", 2**32), "seed = 4294967296"),
    (setting("optimizer", "rmsprop"), "optimizer = 'rmsprop'"),
    (setting("validation_split", 1), "validation_split = 1"),
    (setting("patience", 0), "patience = 0"),
    (setting("max_norm", "1"), "max_norm = '1'"),
    (lambda metadata: metadata.pop("generators"), "holds no generators (saved by an older"),
    (lambda metadata: metadata.pop("hidden"), "holds no hidden"),
    (setting("generators", {"dropout": 1}), "generators = {'dropout': 1}"),
    (generators(dropout={"keys": [1]}), "the generator state is a dict with keys ['keys']"),
    (generators(batch_order={"generator": 1, "position": 0}), "the generator state is a int"),
    (generators(batch_order={"position": 10**6, "generator": {}}), "at example 1000000"),
]


@pytest.mark.parametrize("change, message", BAD_METADATA)
def test_bad_metadata_is_one_line_and_exit_code_2(
    data_file, elastic_run, tmp_path, capsys, change, message
):
    damaged = edited(elastic_run, tmp_path / "damaged.npz", change)
    argv = ["train", "--data", str(data_file), "--resume", str(damaged), "--iterations", "40"]
    assert_refused(*run([*argv, "--out", str(tmp_path / "out")], capsys), message, tmp_path / "out")


@pytest.mark.parametrize("change, message", [case for case in BAD_METADATA[:13]])
def test_predict_refuses_bad_network_metadata_in_one_line(
    data_file, elastic_run, tmp_path, capsys, change, message
):
    damaged = edited(elastic_run, tmp_path / "damaged.npz", change)
    code, _, stderr = run(["predict", "--model", str(damaged), "--data", str(data_file)], capsys)
    assert_refused(code, "", stderr, message)


def test_a_file_that_is_not_a_checkpoint_of_train_is_named(data_file, tmp_path, capsys):
    argv = ["train", "--dataset", "moons", "--resume", str(data_file), "--out", str(tmp_path / "o")]
    assert_refused(*run(argv, capsys), "not a checkpoint of train", tmp_path / "o")
    tinygrad_reg.save(tmp_path / "other.npz", {"W": np.ones(2)}, metadata={"layer_dims": [2, 1]})
    argv[4] = str(tmp_path / "other.npz")
    assert_refused(*run(argv, capsys), "not a checkpoint of train", tmp_path / "o")


def class_file(folder, name, labels):
    """Four clusters; labels as given (examples-first .csv)."""
    rng = np.random.default_rng(3)
    centres = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    X = centres[np.arange(len(labels)) % 4] + 0.2 * rng.standard_normal((len(labels), 2))
    rows = "\n".join(f"{x1},{x2},{y}" for (x1, x2), y in zip(X, labels))
    path = folder / name
    path.write_text("x1,x2,label\n" + rows + "\n")
    return path


def test_labels_with_more_classes_than_the_model_has_outputs_are_refused(
    data_file, elastic_run, tmp_path, capsys
):
    four = class_file(tmp_path, "four.csv", np.arange(40) % 4)
    six = class_file(tmp_path, "six.csv", np.arange(40) % 6)
    out = tmp_path / "out"
    argv = ["train", "--resume", str(elastic_run), "--iterations", "40", "--out", str(out)]
    code, stdout, stderr = run([*argv[:3], "--data", str(four), *argv[3:]], capsys)
    assert_refused(code, stdout, stderr, "labels up to 3 (4 classes), but the model of", out)
    assert "is for 0/1 labels (one output)" in stderr

    four_run = tmp_path / "four"
    code, _, stderr = run(
        ["train", "--data", str(four), "--iterations", "5", "--no-plots", "--out", str(four_run)],
        capsys,
    )
    assert code == 0, stderr
    argv = [
        "train",
        "--data",
        str(six),
        "--resume",
        str(four_run / "model.npz"),
        "--iterations",
        "9",
    ]
    code, stdout, stderr = run([*argv, "--out", str(out)], capsys)
    assert_refused(code, stdout, stderr, "labels up to 5 (6 classes), but the model of", out)
    assert "is for classes 0 to 3" in stderr


def test_test_labels_with_a_class_the_training_data_lacks_are_refused(tmp_path, capsys):
    train = class_file(tmp_path, "train.csv", np.arange(40) % 3)
    test = class_file(tmp_path, "test.csv", np.arange(12) % 4)
    argv = ["train", "--data", str(train), "--test-data", str(test), "--out", str(tmp_path / "o")]
    message = "the test data of"
    assert_refused(*run(argv, capsys), message, tmp_path / "o")

"""The command line: demo, train and check, through ``main(argv)`` and a few real processes.

Short runs only (a few hundred iterations); the demo's full story is checked by running it.
Every bad input must give exit code 2 and one message naming the problem, never a traceback.
"""

import errno
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import matplotlib
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import one_byte_changed, sound_archive

import tinygrad_reg
from tinygrad_reg import datasets
from tinygrad_reg.app import cli, demo, selfcheck, train_command
from tinygrad_reg.app.options import program_name
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.losses import CrossEntropy
from tinygrad_reg.nn.regularizers import SumOfSquares
from tinygrad_reg.ops.linalg import Linear
from tinygrad_reg.train.evaluate import accuracy, predict

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEMO_PLOTS = ("decision_boundaries.png", "cost_curves.png", "weights_l1_vs_l2.png")


def run(argv, capsys):
    """main(argv) → (exit code, stdout, stderr)."""
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_png(path):
    assert path.is_file() and path.stat().st_size > 1000, path
    assert path.read_bytes()[:8] == PNG_SIGNATURE, path


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def moons(tmp_path_factory):
    """The moons dataset saved as train/test .npz (course layout) and an examples-first .csv."""
    folder = tmp_path_factory.mktemp("data")
    data = tinygrad_reg.datasets.make_moons(n_train=60, n_test=40, seed=1)
    np.savez(folder / "train.npz", X=data.train_X, Y=data.train_Y)
    np.savez(folder / "test.npz", X=data.test_X, Y=data.test_Y)
    rows = np.vstack([data.train_X, data.train_Y]).T
    np.savetxt(folder / "train.csv", rows, delimiter=",", header="x1,x2,label", comments="")
    return folder


# --- demo -------------------------------------------------------------------------------------


def test_demo_prints_the_table_and_writes_the_plots(tmp_path, capsys):
    out = tmp_path / "new" / "folder"  # created, parents too
    code, stdout, stderr = run(["demo", "--iterations", "200", "--out", str(out)], capsys)
    assert code == 0
    header = next(line for line in stdout.splitlines() if line.startswith("variant"))
    for column in ("train acc", "test acc", "final cost", f"|w| < {demo.ZERO_THRESHOLD:g}"):
        assert column in header
    rows = [line.split()[0] for line in stdout.splitlines()[1:] if line.split()]
    for variant in demo.VARIANTS:
        assert variant.name in rows
        assert f"{variant.name}: 200 iterations" in stderr  # one progress line each (no TTY)
    for name in DEMO_PLOTS:
        assert_png(out / name)
        assert str(out / name) in stdout


def test_demo_is_the_default_and_takes_its_options(tmp_path, capsys):
    code, stdout, _ = run(["--iterations", "20", "--no-plots", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert "20 iterations" in stdout and "dropout" in stdout
    assert list(tmp_path.iterdir()) == []  # --no-plots: nothing written


def test_demo_gradients_equal_the_reference_at_the_start(capsys):
    results = demo.run_demo(iterations=30, make_plots=False)
    capsys.readouterr()
    assert [r.variant for r in results] == list(demo.VARIANTS)
    for r in results:
        assert r.gradient_gap < 1e-12, r.variant
        assert 0 <= r.zero_fraction <= 1 and 0 <= r.test_accuracy <= 1
        assert len(r.history.costs) > 1 and np.isfinite(r.final_cost)


def test_demo_gradient_gap_sees_a_wrong_rule(monkeypatch):
    def without_the_two(self, g, out, *weights):
        return tuple(g * c * w for c, w in zip(self.coefficients, weights))

    data = tinygrad_reg.datasets.load()
    l2 = next(v for v in demo.VARIANTS if v.penalty == "l2")
    assert demo.start_gradient_gap(l2, data.train_X, data.train_Y) < 1e-12
    monkeypatch.setattr(SumOfSquares, "backward", without_the_two)
    assert demo.start_gradient_gap(l2, data.train_X, data.train_Y) > 1e-4


def test_demo_without_matplotlib_says_how_to_get_the_plots(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now fails
    out = tmp_path / "out"
    code, stdout, _ = run(["demo", "--iterations", "20", "--out", str(out)], capsys)
    assert code == 0
    assert 'pip install "tinygrad_reg[plot]"' in stdout
    assert "variant" in stdout and "L1" in stdout  # the table all the same
    assert not out.exists()


def test_demo_leaves_other_files_in_the_folder_alone(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    code, _, _ = run(["demo", "--iterations", "10", "--out", str(tmp_path)], capsys)
    assert code == 0
    assert notes.read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*DEMO_PLOTS, "notes.txt"])


# --- train ------------------------------------------------------------------------------------


def test_train_saves_a_checkpoint_that_restores_the_model(moons, tmp_path, capsys):
    argv = ["train", "--data", str(moons / "train.npz"), "--test-data", str(moons / "test.npz")]
    argv += ["--penalty", "l2", "--iterations", "300", "--out", str(tmp_path)]
    before = digest(moons / "train.npz")
    code, stdout, _ = run(argv, capsys)
    assert code == 0
    assert "train accuracy" in stdout and "test accuracy" in stdout
    assert digest(moons / "train.npz") == before  # the user's data is only read

    checkpoint = tinygrad_reg.load(tmp_path / "model.npz")
    meta = checkpoint.metadata
    assert meta["layer_dims"] == [2, 20, 3, 1]
    assert (meta["penalty"], meta["lambd"], meta["iterations"]) == ("l2", 0.7, 300)
    model = MLP(meta["layer_dims"])
    checkpoint.restore(model)
    X, Y, *_ = tinygrad_reg.datasets.load_file(moons / "test.npz")
    assert accuracy(model, X, Y) == meta["test_accuracy"]
    assert f"{meta['test_accuracy']:.1%}" in stdout
    for name in ("cost.png", "decision_boundary.png", "weights.png"):
        assert_png(tmp_path / name)


@pytest.mark.parametrize(
    "options",
    [
        ["--optimizer", "adam", "--keep-prob", "0.8"],
        ["--optimizer", "adamw", "--lr", "0.02", "--batch-size", "16"],
        ["--penalty", "elastic", "--lambd", "0.1,0.7", "--layers", "5"],
        ["--penalty", "l1", "--layers", "none"],  # no hidden layer: logistic regression
    ],
)
def test_train_options(moons, tmp_path, capsys, options):
    argv = ["train", "--data", str(moons / "train.csv"), "--iterations", "50", "--no-plots"]
    code, stdout, stderr = run([*argv, "--out", str(tmp_path), *options], capsys)
    assert code == 0, stderr
    assert "train accuracy" in stdout
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_train_examples_first_npz_and_three_features(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))  # one row per example
    np.savez(tmp_path / "rows.npz", X=X, Y=(X[:, 0] > 0).astype(int))
    out = tmp_path / "out"
    argv = ["train", "--data", str(tmp_path / "rows.npz"), "--layout", "examples-first"]
    code, stdout, _ = run([*argv, "--iterations", "30", "--out", str(out)], capsys)
    assert code == 0
    assert "[3, 20, 3, 1]" in stdout and "40 examples, 3 features" in stdout
    assert_png(out / "cost.png")
    assert not (out / "decision_boundary.png").exists()  # only drawn for 2 features


def test_train_on_a_builtin_dataset(tmp_path, capsys):
    argv = ["train", "--dataset", "circles", "--iterations", "20", "--out", str(tmp_path)]
    code, stdout, _ = run([*argv, "--no-plots"], capsys)
    assert code == 0
    assert "'circles'" in stdout and "test accuracy" in stdout


def test_train_with_class_labels_builds_one_output_per_class(tmp_path, capsys):
    """Labels 0, 1, 2, 3 in a CSV: a 4-output network trained with cross-entropy, whose
    checkpoint predicts class indices."""
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 4, 80)
    centres = np.array([[1.0, 1.0], [-1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    X = centres[labels] + 0.2 * rng.standard_normal((80, 2))
    rows = "\n".join(f"{x1},{x2},{y}" for (x1, x2), y in zip(X, labels))
    data = write(tmp_path, "four.csv", "x1,x2,label\n" + rows + "\n")
    out = tmp_path / "out"
    argv = ["train", "--data", data, "--layers", "8", "--iterations", "300", "--out", str(out)]
    code, stdout, stderr = run(argv, capsys)
    assert code == 0, stderr
    assert "4 classes: one output each, softmax cross-entropy" in stdout
    assert "[2, 8, 4]" in stdout
    checkpoint = tinygrad_reg.load(out / "model.npz")
    assert checkpoint.metadata["layer_dims"] == [2, 8, 4]
    model = MLP([2, 8, 4])
    checkpoint.restore(model)
    predictions = predict(model, X.T)
    assert predictions.shape == (1, 80) and set(np.unique(predictions)) <= {0, 1, 2, 3}
    assert checkpoint.metadata["train_accuracy"] == np.mean(predictions[0] == labels) > 0.9
    assert_png(out / "decision_boundary.png")  # the regions of the four classes

    code, stdout, _ = run(["predict", "--model", str(out / "model.npz"), "--data", data], capsys)
    assert code == 0
    assert stdout.split()[:80] == [str(k) for k in predictions[0]]


def test_train_on_the_spiral_uses_three_outputs(tmp_path, capsys):
    argv = ["train", "--dataset", "spiral", "--iterations", "20", "--out", str(tmp_path)]
    code, stdout, _ = run([*argv, "--no-plots"], capsys)
    assert code == 0
    assert "3 classes" in stdout and "[2, 20, 3, 3]" in stdout and "test accuracy" in stdout


def write(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, dict):
        np.savez(path, **content)
    else:
        path.write_text(content)
    return str(path)


X_OK, Y_OK = np.zeros((2, 4)), np.array([[0, 1, 1, 0]])
BAD_DATA = {
    "missing file": (lambda p: str(p / "nowhere.csv"), "nowhere.csv: no such file"),
    "wrong shapes": (
        lambda p: write(p, "shapes.npz", {"X": X_OK, "Y": np.zeros((1, 5))}),
        r"shapes.npz: X has shape \(2, 4\).*Y has shape \(1, 5\)",
    ),
    "1-D X": (
        lambda p: write(p, "flat.npz", {"X": np.zeros(4), "Y": Y_OK}),
        r"flat.npz: X has shape \(4,\); expected 2-D",
    ),
    "label 2.5": (
        lambda p: write(p, "labels.csv", "1,2,0\n3,4,2.5\n"),
        "labels.csv: row 2, column 3: label 2.5 is not 0 or 1",
    ),
    "NaN": (
        lambda p: write(p, "nan.csv", "x1,x2,y\n1,2,0\n3,nan,1\n"),
        r"nan.csv: row 3, column 2 \('x2'\): 'nan' is not a finite number",
    ),
    "inf in npz": (
        lambda p: write(p, "inf.npz", {"X": np.array([[0, 1, np.inf, 0]] * 2), "Y": Y_OK}),
        r"inf.npz: X\[0, 2\] is inf",
    ),
    "text cell": (
        lambda p: write(p, "text.csv", "1,2,0\n3,abc,1\n"),
        "text.csv: row 2, column 2: 'abc' is not a number",
    ),
    "ragged csv": (
        lambda p: write(p, "ragged.csv", "1,2,0\n3,1\n"),
        "ragged.csv: row 2 has 2 columns; expected 3",
    ),
    "not data": (
        lambda p: write(p, "notes.txt", "hello"),
        r"notes.txt: expected a .npz, .mat or .csv file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_gives_one_clear_message(case, tmp_path, capsys):
    make, message = BAD_DATA[case]
    argv = ["train", "--data", make(tmp_path), "--out", str(tmp_path / "out")]
    code, stdout, stderr = run(argv, capsys)
    assert code == 2
    assert stderr.count("\n") == 1 and "error:" in stderr
    assert re.search(message, stderr), stderr
    assert "Traceback" not in stderr + stdout


def test_test_data_with_other_features_is_refused(moons, tmp_path, capsys):
    write(tmp_path, "three.npz", {"X": np.zeros((3, 4)), "Y": Y_OK})
    argv = ["train", "--data", str(moons / "train.npz"), "--test-data", str(tmp_path / "three.npz")]
    code, _, stderr = run([*argv, "--out", str(tmp_path)], capsys)
    assert code == 2
    assert "three.npz: 3 features per example" in stderr and "has 2" in stderr


BAD_OPTIONS = {
    "--lr -1": (["--lr", "-1"], "argument --lr: '-1' is not a number > 0"),
    "--lr nan": (["--lr", "nan"], "argument --lr: 'nan' is not a number > 0"),
    "--layers": (["--layers", "20,x"], "argument --layers: '20,x' is not a comma-separated"),
    "--keep-prob 0": (
        ["--keep-prob", "0"],
        r"argument --keep-prob: '0' is not a number in \(0, 1]",
    ),
    "--iterations": (["--iterations", "1.5"], "argument --iterations: '1.5' is not an integer"),
    "--lambd <0": (["--penalty", "l2", "--lambd", "-1"], "argument --lambd: '-1' is not"),
    "λ, no penalty": (["--lambd", "0.5"], "--lambd needs a penalty"),
    "λ pair for l2": (["--penalty", "l2", "--lambd", "1,2"], "a pair is only for elastic"),
    "--optimizer": (["--optimizer", "rmsprop"], "argument --optimizer: invalid choice"),
    "--batch-size": (["--batch-size", "1000"], "--batch-size 1000 is more than the 60 examples"),
    "--penalty": (["--penalty", "l3"], "argument --penalty: invalid choice"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_options_give_exit_code_2(case, moons, tmp_path, capsys):
    options, message = BAD_OPTIONS[case]
    argv = ["train", "--data", str(moons / "train.npz"), "--out", str(tmp_path), *options]
    code, _, stderr = run(argv, capsys)
    assert code == 2
    assert re.search(message, stderr), stderr
    assert "Traceback" not in stderr
    assert not (tmp_path / "model.npz").exists()


def test_out_must_be_a_folder(moons, tmp_path, capsys):
    a_file = tmp_path / "results"
    a_file.write_text("keep me")
    for command in (["train", "--data", str(moons / "train.npz")], ["demo"]):
        code, _, stderr = run([*command, "--out", str(a_file), "--iterations", "5"], capsys)
        assert code == 2
        assert f"--out {a_file}: this is a file; expected a folder" in stderr
    assert a_file.read_text() == "keep me"


# --- check ------------------------------------------------------------------------------------


def test_check_passes_on_the_real_code(capsys):
    code, stdout, _ = run(["check", "--networks", "4", "--seed", "1"], capsys)
    assert code == 0
    assert "PASS" in stdout
    for name in ("dW1", "db1", "dW4", "db4"):  # networks of depth 1 to 4
        row = next(line for line in stdout.splitlines() if line.startswith(name + " "))
        reference_error, finite_difference_error = map(float, row.split()[1:3])
        assert reference_error <= selfcheck.REFERENCE_TOLERANCE
        assert finite_difference_error <= selfcheck.FINITE_DIFFERENCE_TOLERANCE


def test_check_fails_on_a_wrong_penalty_rule(monkeypatch, capsys):
    def without_the_two(self, g, out, *weights):
        return tuple(g * c * w for c, w in zip(self.coefficients, weights))

    monkeypatch.setattr(SumOfSquares, "backward", without_the_two)
    code, stdout, _ = run(["check", "--networks", "4"], capsys)
    assert code == 1
    assert "FAIL: some gradient is wrong" in stdout
    failing = [line.split()[0] for line in stdout.splitlines() if line.endswith("FAIL")]
    assert "dW1" in failing and "db1" not in failing  # biases are not penalized


def test_check_fails_on_a_wrong_linear_rule(monkeypatch, capsys):
    correct = Linear.backward

    def wrong_dW(self, g, out, x, w, b):
        dx, dw, db = correct(self, g, out, x, w, b)
        return dx, None if dw is None else 1.01 * dw, db

    monkeypatch.setattr(Linear, "backward", wrong_dW)
    code, stdout, _ = run(["check", "--networks", "2"], capsys)
    assert code == 1 and "FAIL" in stdout


def test_check_includes_softmax_networks_and_catches_a_wrong_cross_entropy_rule(
    monkeypatch, capsys
):
    code, stdout, _ = run(["check", "--networks", "3"], capsys)
    assert code == 0
    lines = [line for line in stdout.splitlines() if line.strip().startswith("3.")]
    assert len(lines) == 1 and "softmax" in lines[0]  # the third network has C >= 2 outputs

    def without_the_labels(self, g, out, z, y):  # softmax(z)/m: forgets the − y
        return self.probs * g / self.m, None

    monkeypatch.setattr(CrossEntropy, "backward", without_the_labels)
    code, stdout, _ = run(["check", "--networks", "3"], capsys)
    assert code == 1 and "FAIL" in stdout
    worst = {}  # network number → its worst error against the reference
    for line in stdout.splitlines():
        if " worst " in line:
            words = line.split()
            worst[words[0]] = float(words[-3])
    assert worst["3."] > 1e-3  # only the softmax network is wrong
    assert worst["1."] <= selfcheck.REFERENCE_TOLERANCE
    assert worst["2."] <= selfcheck.REFERENCE_TOLERANCE


def test_check_runs_without_hypothesis():
    program = (
        "import sys; sys.modules['hypothesis'] = None\n"
        "from tinygrad_reg.app.cli import main\n"
        "sys.exit(main(['check', '--networks', '2']))"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "PASS" in result.stdout


# --- help, and the real thing in a process ---------------------------------------------------


@pytest.mark.parametrize("command", ["", "demo", "train", "predict", "check", "bench"])
def test_help_has_examples(command, capsys):
    code, stdout, _ = run([command, "--help"] if command else ["--help"], capsys)
    assert code == 0
    usage, examples = stdout.split("examples:")
    assert usage.startswith("usage:")
    program = f"{cli.build_parser().prog} {command}".strip()
    assert f"\n  {program} " in examples or f"\n  {program}\n" in examples


def test_as_a_process(tmp_path):
    demo_run = subprocess.run(
        [sys.executable, "-m", "tinygrad_reg", "--iterations", "20", "--no-plots"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert demo_run.returncode == 0, demo_run.stderr
    assert "|autodiff − hand-written|" in demo_run.stdout
    assert list(tmp_path.iterdir()) == []

    bad = subprocess.run(
        [sys.executable, "-m", "tinygrad_reg", "train", "--data", "missing.npz"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert bad.returncode == 2
    assert bad.stderr == "python -m tinygrad_reg train: error: missing.npz: no such file\n"


# --- train: validation and early stopping (issue 15) -------------------------------------------


def test_train_with_early_stopping_restores_the_best_validation_parameters(tmp_path, capsys):
    argv = ["train", "--dataset", "field", "--iterations", "20000", "--no-plots"]
    argv += ["--validation-split", "0.2", "--patience", "3", "--out", str(tmp_path)]
    code, out, _ = run(argv, capsys)
    assert code == 0, out
    stopped = re.search(r"stopped early\s+at iteration (\d+)", out)
    best = re.search(r"at iteration (\d+) \(restored\)", out)
    assert stopped and best and int(stopped.group(1)) == int(best.group(1)) + 3 * 100
    ckpt = tinygrad_reg.load(tmp_path / "model.npz")
    assert ckpt.metadata["validation_split"] == 0.2 and ckpt.metadata["patience"] == 3


@pytest.mark.parametrize(
    "options, message",
    [
        (["--patience", "3"], "--patience needs a validation set"),
        (["--validation-split", "1"], "fraction in (0, 1)"),
        (["--max-norm", "0"], "a number > 0"),
    ],
)
def test_train_refuses_bad_early_stopping_options(options, message, tmp_path, capsys):
    argv = ["train", "--dataset", "field", "--iterations", "10", "--out", str(tmp_path), *options]
    code, _, err = run(argv, capsys)
    assert code == 2 and message in err


# --- never lose the user's work; robust to absurd input (issue 11, items 9 and 13) -----------


def refuse_writes_in(monkeypatch, folder):
    """Make creating files in ``folder`` fail as in a read-only folder (root ignores chmod)."""
    real_open = os.open

    def guarded_open(path, flags, mode=0o777, **kwargs):
        if os.path.dirname(os.path.abspath(path)) == str(folder) and flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, mode, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)


@pytest.mark.parametrize("command", ["train", "demo"])
def test_an_unwritable_out_is_refused_before_training(
    command, moons, tmp_path, monkeypatch, capsys
):
    out = tmp_path / "locked"
    out.mkdir()
    refuse_writes_in(monkeypatch, out)
    data = ["--data", str(moons / "train.npz")] if command == "train" else []
    code, stdout, stderr = run([command, *data, "--out", str(out), "--iterations", "5"], capsys)
    assert code == 2
    assert stderr.strip().splitlines() == [
        f"{program_name()} {command}: error: --out {out}: cannot write in this folder "
        "(Permission denied)"
    ]
    assert "Training" not in stdout and "iterations" not in stderr  # nothing was trained
    assert os.listdir(out) == []


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write in any folder"
)
def test_a_read_only_out_is_refused_before_training(moons, tmp_path, capsys):
    out = tmp_path / "read-only"
    out.mkdir(mode=0o555)
    code, _, stderr = run(["train", "--data", str(moons / "train.npz"), "--out", str(out)], capsys)
    assert code == 2 and "cannot write in this folder" in stderr


def sabotage_after(monkeypatch, module, name, out):
    """Once ``module.name`` has run (the training is over), replace the folder ``out`` by a
    file: as if it had been removed, or its disk unmounted, during training."""
    real = getattr(module, name)

    def then_remove_out(*args, **kwargs):
        result = real(*args, **kwargs)
        shutil.rmtree(out)
        out.write_text("not a folder any more")
        return result

    monkeypatch.setattr(module, name, then_remove_out)


def test_a_model_that_cannot_be_saved_in_out_is_saved_in_a_fallback_folder(
    moons, tmp_path, monkeypatch, capsys
):
    out, temporary = tmp_path / "out", tmp_path / "system-tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    sabotage_after(monkeypatch, train_command, "fit", out)
    argv = ["train", "--data", str(moons / "train.npz"), "--out", str(out), "--iterations", "20"]
    code, stdout, stderr = run([*argv, "--no-plots"], capsys)
    assert code == 1
    [fallback] = temporary.iterdir()
    assert f"cannot write in {out}" in stderr and f"writing in {fallback} instead" in stderr
    assert f"checkpoint     {fallback / 'model.npz'}" in stdout
    checkpoint = tinygrad_reg.load(fallback / "model.npz")
    assert checkpoint.metadata["iterations"] == 20


def test_demo_plots_that_cannot_be_written_in_out_go_to_a_fallback_folder(
    tmp_path, monkeypatch, capsys
):
    out, temporary = tmp_path / "out", tmp_path / "system-tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    sabotage_after(monkeypatch, demo, "table", out)
    code, _, stderr = run(["demo", "--out", str(out), "--iterations", "5"], capsys)
    assert code == 0
    [fallback] = temporary.iterdir()
    assert f"writing in {fallback} instead" in stderr
    for name in DEMO_PLOTS:
        assert_png(fallback / name)


def one_line_error(stderr):
    lines = stderr.strip().splitlines()
    assert "Traceback" not in stderr and "usage:" not in stderr
    return lines[0]


@pytest.mark.parametrize("command", [["train", "--dataset", "moons"], ["check"], ["sweep"]])
def test_a_seed_of_two_to_the_32_is_a_usage_error(command, tmp_path, capsys):
    code, _, stderr = run([*command, "--seed", str(2**32), "--out", str(tmp_path)], capsys)
    assert code == 2
    assert re.search(
        r"--seed.*4294967296.*an integer from 0 to 2\*\*32 - 1", one_line_error(stderr)
    )


def test_usage_errors_are_one_line_and_a_hint_not_the_usage_block(capsys):
    code, _, stderr = run(["train", "--dataset", "moons", "--lr", "-1"], capsys)
    assert code == 2
    prog = f"{program_name()} train"
    assert stderr.splitlines() == [
        f"{prog}: error: argument --lr: '-1' is not a number > 0",
        f"(see: {prog} --help)",
    ]


def test_a_network_too_big_for_memory_is_refused_before_allocating(tmp_path, capsys):
    argv = ["train", "--dataset", "moons", "--layers", "1000000,1000000", "--out", str(tmp_path)]
    code, stdout, stderr = run(argv, capsys)
    assert code == 2
    weights_and_biases = 10**6 * (2 + 1) + 10**6 * (10**6 + 1) + 1 * (10**6 + 1)
    message = one_line_error(stderr)
    assert "--layers 1000000,1000000: training [2, 1000000, 1000000, 1] on 200 examples" in message
    assert f"({weights_and_biases:,} parameters), more than this machine's" in message
    assert re.search(r"needs about [\d.]+ TiB of memory", message)  # 8 bytes each, at least
    assert "Training" not in stdout


def test_a_data_file_declaring_a_huge_array_is_a_usage_error(tmp_path, capsys):
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': (2, {2**40})}}".encode()
    member = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header
    with zipfile.ZipFile(tmp_path / "huge.npz", "w") as archive:
        archive.writestr("X.npy", member)
        archive.writestr("Y.npy", member)
    argv = ["train", "--data", str(tmp_path / "huge.npz"), "--out", str(tmp_path)]
    code, _, stderr = run(argv, capsys)
    assert code == 2
    assert "huge.npz: array 'X' declares shape (2, 1099511627776)" in one_line_error(stderr)


def test_data_around_1e300_is_refused_with_the_clear_cost_error(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "big.npz", X=1e300 * rng.standard_normal((2, 20)), Y=Y_OK.repeat(5, 1))
    for optimizer in ("sgd", "adam"):
        argv = ["train", "--data", str(tmp_path / "big.npz"), "--out", str(tmp_path / "out")]
        code, stdout, stderr = run([*argv, "--optimizer", optimizer, "--iterations", "5"], capsys)
        assert code == 1
        [error] = [line for line in stderr.splitlines() if "error:" in line]
        assert "fit: the cost is" in error and "overflows float64" in error
        assert "Traceback" not in stderr
        assert "final cost" not in stdout and not (tmp_path / "out" / "model.npz").exists()


def test_train_course_masks_are_saved_and_need_dropout(moons, tmp_path, capsys):
    argv = ["train", "--data", str(moons / "train.npz"), "--iterations", "20", "--no-plots"]
    code, stdout, stderr = run([*argv, "--course-masks", "--out", str(tmp_path / "a")], capsys)
    assert code == 2 and "--course-masks" in stderr and "Traceback" not in stderr
    options = ["--keep-prob", "0.8", "--course-masks", "--out", str(tmp_path / "b")]
    code, stdout, stderr = run([*argv, *options], capsys)
    assert code == 0, stderr
    assert "the course's fixed masks" in stdout
    checkpoint = tinygrad_reg.load(tmp_path / "b" / "model.npz")
    assert checkpoint.metadata["course_masks"] is True
    X, Y, *_ = tinygrad_reg.datasets.load_file(moons / "train.npz")
    by_hand, _ = tinygrad_reg.reference.model(
        X, Y, [2, 20, 3, 1], num_iterations=20, keep_prob=0.8, mask_seed=1
    )
    for name, value in by_hand.items():
        np.testing.assert_allclose(checkpoint.parameters[name], value, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("compressed", [True, False])
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_train_on_an_npz_with_one_byte_changed_refuses_in_one_line_or_reads_it_intact(
    tmp_path, capsys, compressed, data
):
    """Through ``train --data``: a damaged archive is one line and exit 2, before any training
    (no model.npz); a change nothing detects leaves the data exactly as written."""
    original, arrays = sound_archive(compressed)
    path = tmp_path / "damaged.npz"
    path.write_bytes(data.draw(one_byte_changed(original)))
    try:
        loaded = datasets.load_file(str(path))
    except datasets.DataError:
        out = tmp_path / "run"
        code, stdout, stderr = run(
            ["train", "--data", str(path), "--iterations", "2", "--no-plots", "--out", str(out)],
            capsys,
        )
        assert code == 2 and stderr.count("\n") == 1 and "damaged.npz" in stderr, stderr
        assert "Traceback" not in stderr and not (out / "model.npz").exists()
        assert "iteration" not in stdout  # nothing was trained
        return
    np.testing.assert_array_equal(loaded.train_X, arrays["X"])
    np.testing.assert_array_equal(loaded.train_Y, arrays["Y"])

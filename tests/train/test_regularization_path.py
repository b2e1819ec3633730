"""The regularization path: each row of the sweep's table equals a separate fit run with the
same seed, measured independently; folds, the best value, the CSV, interruption, the CLI."""

import concurrent.futures
import csv
import dataclasses
import itertools
import re

import numpy as np
import pytest

from tinygrad_reg import datasets
from tinygrad_reg import reference as ref
from tinygrad_reg.app import cli, plots
from tinygrad_reg.nn import MLP, Sequential
from tinygrad_reg.nn.dropconnect import DropConnectLinear
from tinygrad_reg.nn.gradient_penalty import GradientPenalized
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.nn.noise import GaussianNoise, WeightNoiseLinear
from tinygrad_reg.nn.regularizers import orthogonality_penalty
from tinygrad_reg.optim import SGD, ProximalSGD
from tinygrad_reg.train import regularization_path as sweep
from tinygrad_reg.train.callbacks import SpectralNorm
from tinygrad_reg.train.loop import fit

ITERATIONS = 40


def independent_row(penalty, value, train, val):
    """Train as the demo does, then measure with numpy only (the reference's forward pass)."""
    keep_prob = value if penalty == "dropout" else 1.0
    model = MLP([2, 20, 3, 1], seed=3, keep_prob=keep_prob)
    kind = "none" if penalty == "dropout" else penalty
    lambd = 0.0 if kind == "none" else value
    optimizer = SGD(model.parameters(), lr=0.3)
    fit(
        model,
        *train,
        penalty=kind,
        lambd=lambd,
        optimizer=optimizer,
        iterations=ITERATIONS,
        progress=False,
    )
    return measured(model, train, val)


def assert_row(row, expected):
    got = (
        row.train_accuracy,
        row.val_accuracy,
        row.train_cost,
        row.val_cost,
        row.weight_norm,
        row.near_zero,
    )
    np.testing.assert_allclose(got, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "penalty, values", [("l2", [0.0, 0.7]), ("l1", [0.3]), ("elastic", [0.2]), ("dropout", [0.8])]
)
def test_each_row_equals_a_separate_fit_run_with_the_same_seed(penalty, values):
    data = datasets.load()
    table = sweep.sweep(penalty, values, iterations=ITERATIONS)
    assert table.complete and [row.value for row in table.rows] == values
    for row, value in zip(table.rows, values):
        expected = independent_row(
            penalty, value, (data.train_X, data.train_Y), (data.test_X, data.test_Y)
        )
        assert_row(row, expected)


def test_on_the_three_class_spiral_the_network_has_three_outputs_and_cross_entropy():
    data = datasets.load("spiral")
    table = sweep.sweep("l2", [0.5], dataset="spiral", iterations=ITERATIONS)
    model = sweep.train_one("l2", 0.5, data.train_X, data.train_Y, ITERATIONS)
    assert model.layer_dims == [2, 20, 3, 3]
    val_Y = ref.convert_to_one_hot(data.test_Y, 3)
    A3, _ = ref.forward_propagation(data.test_X, model.to_parameters())  # softmax outputs
    row = table.rows[0]
    assert row.val_cost == pytest.approx(ref.compute_cost(A3, val_Y), rel=1e-12)
    predicted = ref.predict(data.test_X, model.to_parameters())
    assert row.val_accuracy == np.mean(predicted == data.test_Y)


def test_with_folds_each_row_is_the_mean_over_the_folds():
    data = datasets.load()
    X, Y, m = data.train_X, data.train_Y, data.train_X.shape[1]
    parts = sweep.fold_columns(m, 3, seed=3)
    assert sorted(np.concatenate(parts).tolist()) == list(range(m))  # a partition of 0..m-1
    assert max(map(len, parts)) - min(map(len, parts)) <= 1
    table = sweep.sweep("l2", [0.5], iterations=ITERATIONS, folds=3)
    expected = []
    for held_out in parts:
        rest = np.setdiff1d(np.arange(m), held_out)
        expected.append(
            independent_row("l2", 0.5, (X[:, rest], Y[:, rest]), (X[:, held_out], Y[:, held_out]))
        )
    assert_row(table.rows[0], np.mean(expected, axis=0))
    assert "3-fold" in table.validation


def test_best_is_the_lowest_validation_cost_and_the_csv_holds_the_rows(tmp_path):
    rows = [
        sweep.Row(v, 0.9, 0.8, 0.3, cost, 1.0, 0.1, 0.5)
        for v, cost in [(0, 0.6), (1, 0.4), (3, 0.5)]
    ]
    table = sweep.SweepTable("l2", "test set", 10, rows)
    assert table.best is rows[1]
    marked = [line for line in table.format().splitlines() if "< best" in line]
    assert len(marked) == 1 and marked[0].split()[0] == "1"
    path = table.write_csv(tmp_path / "t.csv")
    with open(path, newline="") as file:
        read = list(csv.reader(file))
    assert read[0][0] == "lambd" and read[0][4] == "val_cost"
    assert [float(line[4]) for line in read[1:]] == [0.6, 0.4, 0.5]


def test_ctrl_c_keeps_the_rows_done_so_far(monkeypatch):
    calls = []
    real = sweep.train_one

    def interrupted_on_the_second_value(*args, **kwargs):
        calls.append(args[1])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(sweep, "train_one", interrupted_on_the_second_value)
    seen = []
    table = sweep.sweep(
        "l2", [0.0, 1.0, 2.0], iterations=5, on_row=lambda t: seen.append(len(t.rows))
    )
    assert not table.complete and [row.value for row in table.rows] == [0.0]
    assert seen == [1] and "Interrupted" in table.format()


@pytest.mark.parametrize(
    "penalty, values, folds, message",
    [
        ("l3", [1.0], None, "unknown penalty"),
        ("l2", [-1.0], None, "λ values >= 0"),
        ("l2", [float("nan")], None, "λ values >= 0"),
        ("dropout", [0.0], None, "keep_prob values in"),
        ("l2", [], None, "empty"),
        ("l2", [1.0], 1, "folds"),
    ],
)
def test_bad_arguments_are_refused(penalty, values, folds, message):
    with pytest.raises(ValueError, match=message):
        sweep.sweep(penalty, values, iterations=5, folds=folds)


def test_the_command_writes_the_table_and_the_plot(tmp_path, capsys):
    argv = ["sweep", "--penalty", "dropout", "--values", "1,0.8", "--iterations", "20"]
    code = cli.main([*argv, "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "< best" in out and "[2/2] keep_prob = 0.8" in err
    with open(tmp_path / "sweep_dropout.csv", newline="") as file:
        assert len(list(csv.reader(file))) == 3
    png = tmp_path / "sweep_dropout.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_command_without_matplotlib_writes_the_csv_and_says_how(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(plots, "available", lambda: False)
    code = cli.main(["sweep", "--values", "0", "--iterations", "5", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0 and "install matplotlib" in out
    assert (tmp_path / "sweep_l2.csv").is_file() and not (tmp_path / "sweep_l2.png").exists()


def test_the_command_interrupted_writes_the_partial_table_and_exits_130(
    tmp_path, capsys, monkeypatch
):
    real = sweep.train_one

    def interrupted_on_the_second_value(penalty, value, *args, **kwargs):
        if value == 1.0:
            raise KeyboardInterrupt
        return real(penalty, value, *args, **kwargs)

    monkeypatch.setattr(sweep, "train_one", interrupted_on_the_second_value)
    argv = ["sweep", "--values", "0,1,2", "--iterations", "5", "--no-plots", "--out", str(tmp_path)]
    assert cli.main(argv) == 130
    with open(tmp_path / "sweep_l2.csv", newline="") as file:
        assert [line[0] for line in csv.reader(file)] == ["lambd", "0"]
    assert "Interrupted: 1 value(s) done" in capsys.readouterr().out


@pytest.mark.parametrize(
    "options, message",
    [
        (["--values", "0,x"], "'x' is not a number"),
        (["--values", "-1"], "λ values >= 0"),
        (["--folds", "1"], "folds"),
        (["--iterations", "0"], "--iterations 0"),
        (["--penalty", "dropout", "--values", "1.5"], "keep_prob"),
    ],
)
def test_the_command_refuses_bad_options_with_exit_code_2(options, message, tmp_path, capsys):
    code = cli.main(["sweep", "--out", str(tmp_path), *options])
    assert code == 2 and message in capsys.readouterr().err


# --- the runs in other processes, threads or a cluster ----------------------------------------

PARALLEL = {"penalty": "l2", "values": [0.0, 1.0, 3.0], "iterations": 20, "folds": 2}


@pytest.fixture(scope="module")
def sequential_rows():
    return without_seconds(sweep.sweep(**PARALLEL))


def without_seconds(table):
    assert table.complete
    return [dataclasses.replace(row, seconds=0.0) for row in table.rows]


def test_a_pool_of_processes_gives_the_sequential_table_bit_for_bit(sequential_rows):
    assert without_seconds(sweep.sweep(**PARALLEL, executor=2)) == sequential_rows
    with concurrent.futures.ProcessPoolExecutor(2) as pool:  # the user's own, left running
        assert without_seconds(sweep.sweep(**PARALLEL, executor=pool)) == sequential_rows
        assert pool.submit(int, "7").result() == 7


def test_a_dask_cluster_gives_the_sequential_table_bit_for_bit(sequential_rows):
    distributed = pytest.importorskip(
        "distributed", reason='the optional extra: pip install "tinygrad_reg[distributed]"'
    )
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        table = sweep.sweep(**PARALLEL, executor=client.get_executor())
    assert without_seconds(table) == sequential_rows


class RecordingPool(concurrent.futures.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(max_workers=1)
        self.futures = []

    def submit(self, *args, **kwargs):
        self.futures.append(super().submit(*args, **kwargs))
        return self.futures[-1]


def test_ctrl_c_with_an_executor_cancels_the_pending_runs_and_keeps_the_finished_rows(
    sequential_rows,
):
    def ctrl_c_after_the_first_row(table):
        raise KeyboardInterrupt

    with RecordingPool() as pool:
        table = sweep.sweep(**PARALLEL, executor=pool, on_row=ctrl_c_after_the_first_row)
    assert not table.complete
    assert [dataclasses.replace(row, seconds=0.0) for row in table.rows] == sequential_rows[:1]
    assert len(pool.futures) == 6 and sum(f.cancelled() for f in pool.futures) >= 3


def test_a_failed_run_is_its_row_with_the_error(tmp_path):
    table = sweep.sweep("l1", [0.0, 1e300], iterations=5, executor=2)
    good, failed = table.rows
    assert table.complete and table.best is good and not good.error
    assert failed.error.startswith("FloatingPointError: fit: the cost is")
    assert np.isnan([failed.val_cost, failed.train_accuracy]).all()
    assert "failed: FloatingPointError" in table.format()
    with open(table.write_csv(tmp_path / "t.csv"), newline="") as file:
        read = list(csv.DictReader(file))
    assert read[0]["error"] == "" and read[1]["error"] == failed.error


@pytest.mark.parametrize(
    "options, message",
    [
        ({"executor": 0}, "executor = 0"),
        ({"executor": "2"}, "executor = '2'"),
        ({"seed": -1}, "seed = -1"),
        ({"seed": 2**32}, "seed = 4294967296"),
        ({"values": [1e30]}, "training diverges; expected λ < 2m/lr"),
        ({"penalty": "elastic", "values": [0.0, 1e300]}, r"λ = \[1e\+300\]"),
        ({"dataset": datasets.Dataset(*datasets.load()[:2], None, None, "f")}, "give folds"),
    ],
)
def test_bad_executors_seeds_and_diverging_values_are_refused_before_training(
    options, message, monkeypatch
):
    monkeypatch.setattr(sweep, "train_one", None)  # no training may start
    with pytest.raises(ValueError, match=message):
        sweep.sweep(**{"penalty": "l2", "values": [1.0], "iterations": 5, **options})


# --- the table of techniques -------------------------------------------------------------------


@pytest.mark.parametrize("name", sweep.PENALTIES)
def test_every_technique_is_a_choice_of_the_command_and_refuses_values_outside_its_range(name):
    technique = sweep.TECHNIQUES[name]
    assert technique.name == name and technique.values
    assert sweep.check_values(name, technique.values) == list(technique.values)
    assert all(technique.valid(v) for v in technique.values)
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match=re.escape(technique.expected)):
            sweep.check_values(name, [bad])
    parser = next(
        action for action in cli.build_parser()._actions if action.choices and action.dest
    ).choices["sweep"]
    penalty = next(action for action in parser._actions if action.dest == "penalty")
    assert name in penalty.choices
    table = sweep.SweepTable(name, "test set", 10)
    assert table.columns()[0] == technique.parameter
    assert table.format().split()[0] == technique.symbol


def test_an_unknown_technique_without_values_is_refused_naming_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown penalty 'l3'.*'dropout'"):
        sweep.sweep("l3", iterations=5)


def measured(model, train, val):
    """What a row holds, measured with numpy only (the reference's forward pass)."""
    parameters = model.to_parameters()

    def scores(X, Y):
        A, _ = ref.forward_propagation(X, parameters)
        cost = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
        return np.mean((A > 0.5) == Y), cost

    (train_acc, train_cost), (val_acc, val_cost) = scores(*train), scores(*val)
    W = np.concatenate([parameters[f"W{l}"].ravel() for l in (1, 2, 3)])
    return train_acc, val_acc, train_cost, val_cost, np.linalg.norm(W), np.mean(np.abs(W) < 0.01)


def fit_by_hand(technique, value, X, Y):
    """The run each new technique's row must be, built without the table."""
    m = X.shape[1]
    model = MLP([2, 20, 3, 1], seed=3)
    optimizer = SGD(model.parameters(), lr=0.3)
    trained, options = model, {}
    if technique == "group_lasso":
        optimizer = ProximalSGD(model, lr=0.3, group_lasso=value / m)
    if technique in ("input_gradient", "jacobian"):
        kind = "input" if technique == "input_gradient" else "jacobian"
        trained = GradientPenalized(model, value, kind, binary_cross_entropy_with_logits)
        options = {"loss": trained.loss}
    if technique == "orthogonality":
        options = {"penalty": lambda model, m: orthogonality_penalty(model, value)}
    if technique == "spectral_norm":
        options = {"callbacks": [SpectralNorm(value)]}
    if technique == "label_smoothing":
        options = {"loss": lambda Z, Y: binary_cross_entropy_with_logits(Z, Y, value)}
    if technique == "input_noise":
        trained = Sequential(GaussianNoise(value, rng=model.rng), model)
    layers = {
        "weight_noise": (WeightNoiseLinear, "std"),
        "dropconnect": (DropConnectLinear, "keep_prob"),
    }
    if technique in layers:
        layer_type, setting = layers[technique]
        for l, layer in enumerate(model.linears):
            n_out, n_in = layer.W.shape
            swapped = layer_type(n_in, n_out, init="zeros", rng=model.rng, **{setting: value})
            swapped.W, swapped.b = layer.W, layer.b
            model.linears[l] = model.layers[2 * l] = swapped  # Linear, ReLU, Linear, ...
    fit(trained, X, Y, optimizer=optimizer, iterations=ITERATIONS, progress=False, **options)
    return model


@pytest.mark.parametrize(
    "technique, value",
    [
        ("group_lasso", 3.0),
        ("input_gradient", 0.3),
        ("jacobian", 0.1),
        ("label_smoothing", 0.2),
        ("orthogonality", 0.01),
        ("spectral_norm", 2.0),
        ("input_noise", 0.3),
        ("weight_noise", 0.3),
        ("dropconnect", 0.7),
    ],
)
def test_each_new_technique_row_equals_its_run_built_by_hand(technique, value):
    data = datasets.load()
    train, val = (data.train_X, data.train_Y), (data.test_X, data.test_Y)
    (row,) = sweep.sweep(technique, [value], iterations=ITERATIONS).rows
    assert_row(row, measured(fit_by_hand(technique, value, *train), train, val))
    plain = measured(fit_by_hand("none", 0.0, *train), train, val)
    assert abs(row.weight_norm - plain[4]) > 1e-6 * plain[4]  # the technique changed the run


def test_a_huge_weight_norm_or_cost_keeps_the_table_aligned_and_readable():
    rows = [
        sweep.Row(0.0, 0.9, 0.8, 0.3, 0.4, 6.09, 0.1, 0.5),
        sweep.Row(1.0, 0.5, 0.5, 3.5e5, 1e300, 1.23e12, 0.0, 0.5),
        sweep.Row(3.0, 0.5, 0.5, float("inf"), float("nan"), float("inf"), 0.0, 0.5),
    ]
    lines = sweep.SweepTable("l2", "test set", 10, rows).format().splitlines()
    header, table = lines[0], [line.removesuffix("  < best") for line in lines[2:5]]
    widths = [9, 11, 9, 12, 10, 8, 10]  # the header's columns: λ, train acc, ..., ‖W‖, |w|<0.01
    starts = np.cumsum([0, *widths])
    columns = [[line[a:b] for a, b in itertools.pairwise(starts)] for line in [header, *table]]
    assert all(len(line) == starts[-1] for line in [header, *table])
    assert all(cell.startswith(" ") and cell.strip() for cells in columns for cell in cells)
    norms, costs = [cells[5].strip() for cells in columns], [cells[3].strip() for cells in columns]
    assert norms == ["‖W‖", "6.09", "1.2e+12", "inf"]
    assert costs == ["train cost", "0.3000", "350000.0000", "inf"]  # 3.5e5 fits: as it is
    assert columns[2][4].strip() == "1.00e+300" and columns[3][4].strip() == "nan"

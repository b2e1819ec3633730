"""plots.py: each figure is written as a valid PNG, models are left as they were, and a missing
matplotlib is reported, not crashed on."""

import sys

import matplotlib
import numpy as np
import pytest

from tinygrad_reg import datasets, plots
from tinygrad_reg.nn import MLP

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, written):
    assert written == str(path)
    assert path.stat().st_size > 1000
    assert path.read_bytes()[:8] == PNG_SIGNATURE


@pytest.fixture(scope="module")
def data():
    return datasets.make_moons(n_train=40, n_test=10, seed=2)


@pytest.mark.parametrize("count", [1, 3, 4])
def test_decision_boundaries(tmp_path, data, count):
    models = [MLP([2, 4, 1], seed=s, keep_prob=0.5) for s in range(count)]
    models[0].eval()
    panels = [plots.Panel(f"model {i}", model) for i, model in enumerate(models)]
    path = tmp_path / "boundaries.png"
    assert_png(path, plots.decision_boundaries(path, panels, data.train_X, data.train_Y))
    assert [m.training for m in models] == [False] + [True] * (count - 1)  # modes restored


def test_decision_boundaries_need_two_features(tmp_path):
    X, Y = np.zeros((3, 5)), np.zeros((1, 5))
    panel = plots.Panel("three features", MLP([3, 1]))
    with pytest.raises(ValueError, match=r"X has shape \(3, 5\); expected 2 features"):
        plots.decision_boundaries(tmp_path / "x.png", [panel], X, Y)
    assert not (tmp_path / "x.png").exists()


def test_the_plotted_logits_are_the_models_without_dropout(data):
    model = MLP([2, 5, 1], seed=0, keep_prob=0.3)
    expected = model.eval()(data.train_X).data
    model.train()
    np.testing.assert_array_equal(plots._logits(model, data.train_X), expected)
    assert model.training


@pytest.mark.parametrize("classes", [3, 9])  # 9: more classes than colours, which repeat
def test_decision_regions_of_a_k_class_model(tmp_path, classes):
    spiral = datasets.make_spiral(n_train=60, n_test=10, seed=1, n_classes=classes)
    models = [MLP([2, 6, classes], seed=s, keep_prob=0.5) for s in range(2)]
    panels = [plots.Panel(f"model {i}", model) for i, model in enumerate(models)]
    path = tmp_path / "regions.png"
    assert_png(path, plots.decision_boundaries(path, panels, spiral.train_X, spiral.train_Y))
    assert all(model.training for model in models)


def test_cost_curves(tmp_path):
    curves = {
        "none": ([0, 10, 20], [0.7, 0.3, 0.1]),
        "L2": ([0, 10, 20], [0.7, 0.4, 0.3]),
    }
    path = tmp_path / "costs.png"
    assert_png(path, plots.cost_curves(path, curves))


@pytest.mark.parametrize("all_zero", [False, True])
def test_weight_histograms(tmp_path, all_zero):
    rng = np.random.default_rng(0)
    weights = {"L2": rng.standard_normal(100), "L1": np.r_[np.zeros(80), rng.standard_normal(20)]}
    if all_zero:  # e.g. init="zeros": no spread to make bins from
        weights = {"zeros": np.zeros(6)}
    path = tmp_path / "weights.png"
    assert_png(path, plots.weight_histograms(path, weights, zero_threshold=0.01))


def test_available_is_false_without_matplotlib(monkeypatch):
    assert plots.available()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    assert not plots.available()

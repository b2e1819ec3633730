"""plots.py: each figure is written as a valid PNG, models are left as they were, and a missing
matplotlib is reported, not crashed on."""

import io
import sys

import matplotlib
import numpy as np
import pytest

from tinygrad_reg import datasets
from tinygrad_reg.app import demo, plots
from tinygrad_reg.nn import MLP
from tinygrad_reg.train.regularization_path import Row, SweepTable

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


# --- nothing cut off; every variant; train and test curves -------------------------------------


def drawn_figures(monkeypatch):
    """The figures the plot functions save, kept for inspection."""
    figures = []
    save = plots._save

    def keep(figure, path):
        figures.append(figure)
        return save(figure, path)

    monkeypatch.setattr(plots, "_save", keep)
    return figures


def assert_every_text_inside(figure):
    """Every title, axis label and legend entry lies within the saved figure."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    bounds = figure.bbox
    texts = [figure._suptitle] if figure._suptitle is not None else []
    for ax in figure.axes:
        if ax.get_visible():
            texts += [ax.title, ax.xaxis.label, ax.yaxis.label]
            texts += ax.get_legend().get_texts() if ax.get_legend() else []
    for text in texts:
        if not text.get_text().strip():
            continue
        box = text.get_window_extent(renderer)
        inside = box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1
        inside = inside and box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1
        assert inside, f"{text.get_text()!r} is cut off: {box} outside {bounds}"


def test_four_histograms_with_long_titles_fit_in_the_figure(tmp_path, monkeypatch):
    figures = drawn_figures(monkeypatch)
    rng = np.random.default_rng(0)
    names = ["no regularization", "L2, λ = 0.7", "L1, λ = 0.7", "dropout, keep_prob = 0.86"]
    weights = {name: rng.standard_normal(103) for name in names}
    title = "Weights after training: L1 drives many to 0, L2 only shrinks them"
    plots.weight_histograms(tmp_path / "w.png", weights, 0.01, title=title)
    assert_every_text_inside(figures[-1])
    titles = [ax.get_title() for ax in figures[-1].axes if ax.get_visible()]
    assert [t.split("\n")[0] for t in titles] == names


def test_test_curves_are_dashed_in_their_runs_colour_and_fit(tmp_path, monkeypatch):
    figures = drawn_figures(monkeypatch)
    curves = {"none": ([0, 10, 20], [0.7, 0.3, 0.1]), "L2": ([0, 10, 20], [0.7, 0.4, 0.3])}
    tests = {"none": ([1, 11, 21], [0.6, 0.4, 0.5]), "L2": ([1, 11, 21], [0.6, 0.45, 0.4])}
    title = "Cost during training: [2, 20, 3, 1], gradient descent lr 0.3, full batch\nsecond line"
    plots.cost_curves(tmp_path / "c.png", curves, title=title, test_curves=tests)
    (ax,) = figures[-1].axes
    lines = ax.get_lines()
    assert [line.get_linestyle() for line in lines] == ["-", "--", "-", "--"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color()
    assert list(lines[1].get_ydata()) == tests["none"][1]
    assert_every_text_inside(figures[-1])


def test_the_demo_draws_every_variant_and_its_test_cost(tmp_path, monkeypatch):
    figures = drawn_figures(monkeypatch)
    results = demo.run_demo(40, tmp_path, stdout=io.StringIO(), stderr=io.StringIO())
    histogram_figure, cost_figure = figures[2], figures[1]
    titles = [ax.get_title().split("\n")[0] for ax in histogram_figure.axes if ax.get_visible()]
    assert titles == [r.variant.label for r in results]  # none, L2, L1 and dropout
    assert len(cost_figure.axes[0].get_lines()) == 2 * len(results)  # train and test each
    assert all(r.test_costs[1] and np.all(np.isfinite(r.test_costs[1])) for r in results)
    assert "lr 0.3" in cost_figure.axes[0].get_title()
    for figure in figures:
        assert_every_text_inside(figure)


@pytest.mark.parametrize(
    "penalty, values", [("l2", [0.0, 0.1, 1.0]), ("dropout", [1.0, 0.5]), ("l1", [0.0])]
)
def test_regularization_path(tmp_path, monkeypatch, penalty, values):
    figures = drawn_figures(monkeypatch)
    rows = [Row(v, 0.9, 0.8, 0.2, 0.5 - 0.1 * k, 3.0, 0.1, 1.0) for k, v in enumerate(values)]
    table = SweepTable(penalty, "the test set", 10, rows)
    written = plots.regularization_path(tmp_path / "path.png", table)
    assert_png(tmp_path / "path.png", written)
    assert_every_text_inside(figures[-1])

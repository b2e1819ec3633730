"""Pictures of a training run, written as PNG files (needs matplotlib: the ``plot`` extra).

- ``decision_boundaries``: what each model predicts over the plane, with the training points
  (the probability of label 1 for a binary model, the predicted class for a K-class one);
- ``cost_curves``: the cost against the iteration, one line per run;
- ``weight_histograms``: how the weights are distributed, one panel per run (L1 piles them up
  at exactly 0, L2 only shrinks them), two panels to a row.
- ``regularization_path``: a ``sweep`` table against λ (or keep_prob): accuracy, cost and the
  weights, the best value marked.

Figures are drawn with matplotlib's object interface on the Agg (file) canvas, never pyplot:
nothing global changes, no window opens, and it works on a machine without a display.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from ..engine import no_grad
from ..ops.helpers import stable_sigmoid

INSTALL_HINT = 'pip install "tinygrad_reg[plot]"'

# Label 0 blue and label 1 red, the two ends of the background's colour map ("RdBu_r").
LABEL_COLOURS = ("#2166ac", "#b2182b")
# Class k of a K-class model: the two label colours first, then more distinct hues.
CLASS_COLOURS = (*LABEL_COLOURS, "#1b7837", "#e08214", "#762a83", "#35978f", "#8c510a")
RUN_COLOURS = ("#4d4d4d", "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b")


def available() -> bool:
    """True if matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Any, path: str | os.PathLike[str]) -> str:
    figure.savefig(path)
    return os.fspath(path)


class Panel(NamedTuple):
    """One model to draw: its title (e.g. "L2, λ = 0.7") and the model."""

    title: str
    model: Any


def _logits(model: Any, points: np.ndarray) -> np.ndarray:
    """model(points) for points (2, k): (outputs, k), in evaluation mode (no dropout), no graph."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(points).data
    finally:
        model.train(was_training)


def _shade_probability(ax: Any, xs: np.ndarray, ys: np.ndarray, logits: np.ndarray) -> Any:
    """σ(logits) as a shaded background and its 0.5 line; returns the shading (for a colorbar)."""
    probability = stable_sigmoid(logits).reshape(xs.shape)
    shading = ax.contourf(xs, ys, probability, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
    shading.set_alpha(0.45)
    ax.contour(xs, ys, probability, levels=[0.5], colors="black", linewidths=1.5)
    return shading


def _shade_classes(ax: Any, xs: np.ndarray, ys: np.ndarray, logits: np.ndarray) -> None:
    """Each predicted class's region in its colour, with its border as a black line."""
    predicted = logits.argmax(axis=0).reshape(xs.shape)
    colours = [colour for colour, _ in zip(_cycle(CLASS_COLOURS), range(len(logits)))]
    levels = np.arange(len(logits) + 1) - 0.5  # one band around each class index
    ax.contourf(xs, ys, predicted, levels=levels, colors=colours, alpha=0.35)
    for k in range(len(logits)):
        if (predicted == k).any() and not (predicted == k).all():
            inside = (predicted == k).astype(float)
            ax.contour(xs, ys, inside, levels=[0.5], colors="black", linewidths=1.2)


def decision_boundaries(
    path: str | os.PathLike[str],
    panels: Sequence[Panel],
    X: np.ndarray,
    Y: np.ndarray,
    title: str = "Decision boundaries",
) -> str:
    """One panel per model (a grid of up to 2 columns): the probability of label 1 over the
    plane as a shaded background, the 0.5 boundary as a line, and the points X (2, m) coloured
    by their labels Y (1, m). For models with K >= 2 outputs (K classes, Y the class indices)
    the background shows each predicted class's region instead. Returns the path written."""
    if X.shape[0] != 2:
        raise ValueError(f"decision_boundaries: X has shape {X.shape}; expected 2 features.")
    columns = min(2, len(panels))
    rows = math.ceil(len(panels) / columns)
    figure = _figure(5.2 * columns, 4.6 * rows)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    (x_lo, x_hi), (y_lo, y_hi) = [_padded_range(X[i]) for i in (0, 1)]
    xs, ys = np.meshgrid(np.linspace(x_lo, x_hi, 250), np.linspace(y_lo, y_hi, 250))
    grid = np.stack([xs.ravel(), ys.ravel()])
    labels = Y.reshape(-1)
    shading = None
    classes = 2
    for ax, panel in zip(axes.flat, panels):
        logits = _logits(panel.model, grid)
        if len(logits) == 1:
            shading = _shade_probability(ax, xs, ys, logits)
        else:
            _shade_classes(ax, xs, ys, logits)
            classes = max(classes, len(logits))
        for label, colour in zip(range(classes), _cycle(CLASS_COLOURS)):
            chosen = labels == label
            ax.scatter(
                X[0, chosen],
                X[1, chosen],
                s=16,
                c=colour,
                edgecolors="black",
                linewidths=0.4,
                label=f"label {label}",
            )
        ax.set_title(panel.title, fontsize=11)
        ax.set_xlim(x_lo, x_hi)
        ax.set_ylim(y_lo, y_hi)
    _label_grid(axes, len(panels), "$x_1$", "$x_2$")
    axes.flat[0].legend(loc="upper left", fontsize=9, framealpha=0.9)
    if shading is not None:
        colorbar = figure.colorbar(shading, ax=axes, shrink=0.8)
        colorbar.set_label("predicted probability of label 1")
        figure.suptitle(f"{title}\nblack line: probability 0.5; points: the training set")
    else:
        figure.suptitle(f"{title}\nshading: the predicted class; points: the training set")
    return _save(figure, path)


def _padded_range(values: np.ndarray) -> tuple[float, float]:
    lo, hi = float(values.min()), float(values.max())
    pad = 0.08 * (hi - lo) if hi > lo else 1.0
    return lo - pad, hi + pad


def cost_curves(
    path: str | os.PathLike[str],
    curves: dict[str, tuple[Sequence[int], Sequence[float]]],
    title: str = "Cost during training",
    test_curves: dict[str, tuple[Sequence[int], Sequence[float]]] | None = None,
) -> str:
    """One line per run: name → (iterations, costs); ``test_curves`` (the same names → the
    test set's cost) are drawn dashed in their run's colour. The cost axis is logarithmic, so
    the slow late decrease stays visible. Returns the path written."""
    test_curves = test_curves or {}
    figure = _figure(7.5, 4.6)
    ax = figure.subplots()
    for (name, (iterations, costs)), colour in zip(curves.items(), _cycle(RUN_COLOURS)):
        ax.plot(iterations, costs, label=name, color=colour, linewidth=1.6)
        if name in test_curves:
            test_iterations, test_costs = test_curves[name]
            ax.plot(test_iterations, test_costs, color=colour, linewidth=1.3, linestyle="--")
    ax.set_yscale("log")
    from matplotlib.ticker import FormatStrFormatter

    for axis_formatter in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
        axis_formatter(FormatStrFormatter("%.2g"))
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (cross-entropy + penalty), log scale")
    if test_curves:
        ax.set_ylabel("cost, log scale\nsolid: training (cross-entropy + penalty)\ndashed: test")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return _save(figure, path)


def weight_histograms(
    path: str | os.PathLike[str],
    weights: dict[str, np.ndarray],
    zero_threshold: float,
    title: str = "Weights after training",
) -> str:
    """One histogram panel per run (name → all its weights), on shared bins; each panel says
    how many weights are within ``zero_threshold`` of 0. Counts on a log scale so that a few
    large weights and a pile at 0 both show. Returns the path written."""
    largest = max(zero_threshold, *(float(np.abs(w).max()) for w in weights.values()))
    bins = np.linspace(-largest, largest, 62)  # 61 bins: the middle one centred on 0
    columns = min(2, len(weights))
    rows = math.ceil(len(weights) / columns)
    figure = _figure(5.0 * columns, 3.6 * rows + 0.6)
    axes = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    for ax, (name, w), colour in zip(axes.flat, weights.items(), _cycle(RUN_COLOURS)):
        w = np.ravel(w)
        near_zero = float(np.mean(np.abs(w) < zero_threshold))
        ax.hist(w, bins=bins, color=colour, edgecolor="white", linewidth=0.4)
        ax.set_yscale("log")
        # Two lines, so that the title fits above a panel half the figure wide.
        ax.set_title(f"{name}\n{near_zero:.0%} of {w.size} weights have |w| < {zero_threshold:g}")
        ax.grid(True, axis="y", alpha=0.3)
    _label_grid(axes, len(weights), "weight value", "number of weights (log)")
    figure.suptitle(title)
    return _save(figure, path)


def _label_grid(axes: Any, used: int, xlabel: str, ylabel: str) -> None:
    """Hide the panels beyond the first ``used``; label the bottom row and the left column."""
    for ax in axes.flat[used:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel(xlabel)
    for ax in axes[:, 0]:
        ax.set_ylabel(ylabel)


def _cycle(colours: Sequence[str]) -> Any:
    while True:
        yield from colours


def regularization_path(path: str | os.PathLike[str], table: Any, title: str = "") -> str:
    """Three panels, one above the other, against the regularization strength, from a
    ``sweep.SweepTable``: train and validation accuracy, train and validation cost, and the
    weights' norm with the share of near-zero weights. The best value (lowest validation cost)
    is marked by a dashed line. λ is drawn on a log scale that is linear near 0 (so λ = 0 has a
    place); keep_prob from 1 down, so regularization grows to the right on every plot. Returns
    the path written."""
    rows = table.rows
    values = np.array([row.value for row in rows])
    # One panel above the other: at a page's width (about 7 inches) each stays readable.
    figure = _figure(7.0, 11.0)
    accuracy_ax, cost_ax, weight_ax = figure.subplots(3, 1)
    train_colour, val_colour = RUN_COLOURS[1], RUN_COLOURS[2]
    technique = table.technique
    name = technique.symbol
    for ax in (accuracy_ax, cost_ax, weight_ax):  # scales first: the twin axis below shares x
        if technique.decreasing:
            ax.invert_xaxis()
        else:
            positive = values[values > 0]
            ax.set_xscale("symlog", linthresh=float(positive.min()) if positive.size else 1.0)
        ax.set_xlabel(name)
        ax.grid(True, alpha=0.3)
    for ax, measure, scale in ((accuracy_ax, "accuracy", 100.0), (cost_ax, "cost", 1.0)):
        for split, colour in (("train", train_colour), ("val", val_colour)):
            column = np.array([getattr(row, f"{split}_{measure}") for row in rows]) * scale
            label = "training" if split == "train" else "validation"
            ax.plot(values, column, "o-", color=colour, label=label, linewidth=1.6)
        ax.legend()
    accuracy_ax.set_ylabel("accuracy (%)")
    cost_ax.set_ylabel("cross-entropy (no penalty)")
    norms = [row.weight_norm for row in rows]
    weight_ax.plot(values, norms, "o-", color=RUN_COLOURS[0], label="‖W‖")
    weight_ax.set_ylabel("‖W‖ (all weights)")
    share_ax = weight_ax.twinx()
    shares = [100 * row.near_zero for row in rows]
    share_ax.plot(values, shares, "s--", color=RUN_COLOURS[3], label="|w| < 0.01")
    share_ax.set_ylabel("weights with |w| < 0.01 (%)", color=RUN_COLOURS[3])
    share_ax.set_ylim(-3, 103)
    best = table.best
    if best is not None:
        for ax in (accuracy_ax, cost_ax, weight_ax):
            ax.axvline(best.value, color="#888888", linestyle="--", linewidth=1)
        cost_ax.set_title(f"best {name} = {best.value:g} (lowest validation cost)")
    accuracy_ax.set_title(f"validation: {table.validation}", fontsize=9)
    weight_ax.set_title("the weights")
    figure.suptitle(title or f"Regularization path: {table.penalty}")
    return _save(figure, path)

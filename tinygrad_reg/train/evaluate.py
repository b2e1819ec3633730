"""Using a trained classifier, and the checks of data in the course layout.

``predict`` gives 0/1 predictions (one sigmoid output) or class indices (C >= 2 outputs),
``accuracy`` the fraction predicted right. ``check_data`` and ``check_features`` turn X and Y
into Tensors after checking the course layout: X is (n_features, m) with one column per
example, Y is (1, m) of labels in [0, 1] or class indices, or (C, m) of one-hot columns.
``in_model_dtype`` converts the data to the dtype of the model's parameters, so that numpy
never silently computes a float32 model in float64.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine import no_grad
from ..nn.modules import predicted_labels
from ..ops.cast import float_dtype
from ..tensor import Tensor


def outputs_for_labels(Y: Any) -> int:
    """The outputs a model needs for these labels: 1 for 0/1 labels (a sigmoid output), one per
    class for class indices 0..K-1 with K > 2, or for one-hot columns (C, m)."""
    labels = Y.data if isinstance(Y, Tensor) else np.asarray(Y)
    if labels.ndim == 2 and labels.shape[0] > 1:
        return labels.shape[0]
    largest = int(labels.max())
    return 1 if largest <= 1 else largest + 1


def predict(model: Any, X: Any) -> np.ndarray:
    """0/1 predictions (1, m), sigmoid(logits) > 0.5, or for a model with C >= 2 outputs the
    class indices (1, m) of the largest logits; in evaluation mode (no dropout), no graph."""
    X, _ = in_model_dtype(model, check_features(X, "predict"), None, None, "predict")
    return predicted_labels(model, X)


def accuracy(model: Any, X: Any, Y: Any) -> float:
    """Fraction of examples whose prediction equals the label (the course's accuracy).
    ``predict`` and ``accuracy`` convert X to the dtype of the model's parameters, as ``fit``.
    Labels the model cannot predict (2 for a binary model) are refused, naming them."""
    X, Y = check_data(X, Y, "accuracy")
    check_labels_in_classes(model, X, Y, "accuracy")
    predictions = predict(model, X)
    if Y.shape[0] > 1:  # one-hot (or probability) columns: the class is the largest entry
        Y = Tensor(Y.data.argmax(axis=0).reshape(1, -1))
    if predictions.shape != Y.shape:
        raise ValueError(
            f"accuracy: the model predicts shape {predictions.shape} but Y has shape "
            f"{Y.shape}; expected equal shapes."
        )
    return float(np.mean(predictions == Y.data))


def output_count(model: Any, X: Tensor) -> int:
    """The number of rows of the model's logits, from one example (evaluation mode, no graph:
    no dropout mask is drawn, so measuring changes nothing)."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return model(Tensor(X.data[:, :1])).shape[0]
    finally:
        model.train(was_training)


def check_labels_in_classes(model: Any, X: Tensor, Y: Tensor, where: str) -> None:
    """Y's labels are classes the model can predict: 0 and 1 for one sigmoid output, 0..C-1 or
    one-hot columns of C rows for C outputs; else a ValueError naming the foreign labels."""
    X, _ = in_model_dtype(model, X, None, None, where)
    outputs = output_count(model, X)
    classes = 2 if outputs == 1 else outputs
    model_has = f"the model has {outputs} output{'s' if outputs > 1 else ''}" + (
        " (a binary classifier: classes 0 and 1)"
        if outputs == 1
        else f" (classes 0..{outputs - 1})"
    )
    labels = Y.data
    if labels.shape[0] > 1:
        if labels.shape[0] != outputs:
            raise ValueError(
                f"{where}: Y has {labels.shape[0]} rows (one-hot columns of {labels.shape[0]} "
                f"classes) but {model_has}; expected {outputs} rows."
            )
        return
    foreign = np.unique(labels[~np.isin(labels, np.arange(classes))])
    if foreign.size:
        shown = ", ".join(f"{v:g}" for v in foreign[:10]) + (" ..." if foreign.size > 10 else "")
        raise ValueError(
            f"{where}: Y holds label(s) {shown} that the model cannot predict: {model_has}; "
            f"expected labels in 0..{classes - 1}."
        )


def in_model_dtype(model: Any, X: Tensor, Y: Tensor | None, dtype: Any, where: str) -> Any:
    """X (and float labels Y) converted to the float dtype all of the model's parameters share
    (left alone when they share none); ``dtype``, if given, must be that dtype."""
    shared = {p.dtype for p in model.parameters()} if hasattr(model, "parameters") else set()
    target = shared.pop() if len(shared) == 1 else None
    if dtype is not None:
        wanted = float_dtype(dtype, where)
        if target is not None and wanted != target:
            raise TypeError(
                f"{where}: dtype={wanted} but the model's parameters are {target}; build the "
                f"model in {wanted} (e.g. nn.MLP(layer_dims, dtype=np.{wanted})) or leave "
                "dtype=None to train in the parameters' dtype."
            )
        target = wanted
    if target is None:
        return X, Y
    if X.dtype != target:
        X = Tensor(X.data.astype(target))
    if Y is not None and Y.dtype.kind == "f" and Y.dtype != target:
        Y = Tensor(Y.data.astype(target))
    return X, Y


def check_features(X: Any, where: str) -> Tensor:
    """X as a Tensor (no grad), checked to be a finite 2-D array in the course layout."""
    array = X.data if isinstance(X, Tensor) else np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"{where}: X has shape {array.shape}; expected 2-D (n_features, m), one column per "
            "example (the course layout)."
        )
    if array.dtype.kind not in "biuf" or not np.all(np.isfinite(array)):
        raise ValueError(f"{where}: X (dtype {array.dtype}) must hold finite real numbers.")
    return X if isinstance(X, Tensor) and not X.requires_grad else Tensor(array)


def check_data(X: Any, Y: Any, where: str) -> tuple[Tensor, Tensor]:
    """X (n_features, m) and Y (1, m) of labels in [0, 1] or class indices 0, 1, 2, ..., or
    (C, m) of one-hot or probability columns, as Tensors."""
    X = check_features(X, where)
    labels = Y.data if isinstance(Y, Tensor) else np.asarray(Y)
    m = X.shape[1]
    if labels.shape == (m,):  # one label per example, as PyTorch's targets: the course's row
        labels = labels.reshape(1, m)
    if labels.ndim != 2 or labels.shape[1] != m:
        raise ValueError(
            f"{where}: X has shape {X.shape} (n_features={X.shape[0]}, m={m}) but Y has shape "
            f"{labels.shape}; expected Y of shape (1, {m}) or ({m},), one label per column of "
            f"X{_layout_advice(X.shape, labels.shape)}"
        )
    in_0_1 = labels.dtype.kind in "biuf" and np.all((labels >= 0) & (labels <= 1))
    class_indices = (
        labels.dtype.kind in "biuf"
        and labels.shape[0] == 1
        and np.all(np.isfinite(labels) & (labels >= 0) & (labels % 1 == 0))
    )
    if not (in_0_1 or class_indices):
        raise ValueError(
            f"{where}: Y must hold labels in [0, 1] (0/1 for two classes), class indices "
            "0, 1, 2, ... (1, m) for more classes, or one-hot columns (C, m)."
        )
    return X, Tensor(labels)


def _layout_advice(x_shape: tuple[int, ...], y_shape: tuple[int, ...]) -> str:
    """What to pass instead, when X or Y looks like one row per example: advice that works."""
    if len(y_shape) == 2 and y_shape[0] == x_shape[1]:  # Y (m, 1) or one-hot rows (m, C)
        return "; Y looks like one row per example: pass Y.T."
    if len(y_shape) == 1 and y_shape[0] == x_shape[0]:  # labels (m,), X rows of examples
        return "; X looks like one row per example: pass X.T (Y as it is)."
    if len(y_shape) == 2 and y_shape[1] == x_shape[0]:  # Y a row (1, m), X rows of examples
        return "; X looks like one row per example: pass X.T."
    if len(y_shape) == 2 and y_shape[0] == x_shape[0]:
        return "; X and Y look like one row per example: pass X.T and Y.T."
    return "."

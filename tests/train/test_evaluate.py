"""predict and accuracy: labels the model cannot predict are refused, naming them."""

import numpy as np
import pytest

from tinygrad_reg.nn import MLP
from tinygrad_reg.train.evaluate import accuracy

X = np.random.default_rng(0).normal(size=(2, 6))


@pytest.mark.parametrize(
    ("layer_dims", "Y", "message"),
    [
        (
            [2, 3, 1],
            [[0, 1, 2, 2, 1, 0]],
            r"label\(s\) 2 that the model cannot predict: the model has 1 output \(a binary "
            r"classifier: classes 0 and 1\); expected labels in 0\.\.1",
        ),
        ([2, 3, 1], [[0, 1, 0.5, 1, 1, 0]], r"label\(s\) 0\.5 that the model cannot predict"),
        ([2, 3, 3], [[0, 1, 2, 7, 3, 0]], r"label\(s\) 3, 7 .* 3 outputs \(classes 0\.\.2\)"),
        ([2, 3, 3], np.eye(4)[[0, 1, 2, 3, 0, 1]].T, r"has 4 rows .* expected 3 rows"),
    ],
)
def test_accuracy_refuses_labels_outside_the_models_classes(layer_dims, Y, message):
    with pytest.raises(ValueError, match=r"accuracy: Y (holds )?" + message):
        accuracy(MLP(layer_dims), X, np.array(Y))


def test_accuracy_on_the_models_own_classes_counts_the_matches():
    model = MLP([2, 3, 3], seed=1)
    predicted = model.predict(X)
    Y = np.where(np.arange(6) < 4, predicted, (predicted + 1) % 3)  # 4 of 6 right
    assert accuracy(model, X, Y) == pytest.approx(4 / 6, abs=0)
    one_hot = np.eye(3)[Y.reshape(-1)].T
    assert accuracy(model, X, one_hot) == pytest.approx(4 / 6, abs=0)
    binary = MLP([2, 3, 1], seed=1)
    assert accuracy(binary, X, binary.predict(X).astype(float)) == 1.0  # 0.0/1.0 floats: classes


def test_measuring_the_classes_leaves_dropout_and_its_generator_alone():
    model = MLP([2, 3, 1], keep_prob=0.5, seed=2)
    model.train()
    accuracy(model, X, np.array([[0, 1, 0, 1, 1, 0]]))
    assert model.training

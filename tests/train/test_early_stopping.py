"""Validation during fit and early stopping: the restored parameters are those of the best
validation iteration (found independently, from a run without validation), measuring does
not change the training, and the arguments are checked up front."""

import signal

import numpy as np
import pytest

from tinygrad_reg import datasets
from tinygrad_reg import reference as ref
from tinygrad_reg.nn import MLP
from tinygrad_reg.tensor import Tensor
from tinygrad_reg.train.early_stopping import split_validation
from tinygrad_reg.train.loop import fit

LAYER_DIMS = [2, 20, 3, 1]


@pytest.fixture(scope="module")
def data():
    """The default dataset: 256 training examples with 10% wrong labels, which the course
    network learns by heart after ~1000 iterations (the validation cost then rises)."""
    return datasets.load()


def cross_entropy(parameters, X, Y):
    """The course's cost of the hand-written network, numpy only."""
    A, _ = ref.forward_propagation(X, parameters)
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def test_early_stopping_stops_and_restores_the_parameters_of_the_best_validation_iteration(
    data,
):
    X, Y, X_val, Y_val = data.train_X, data.train_Y, data.test_X, data.test_Y
    iterations, log_every, patience = 8000, 250, 4

    # The same training without validation, recording the parameters before every logged
    # iteration (= after the update of the iteration before it).
    model = MLP(LAYER_DIMS, seed=3)
    before = {0: model.to_parameters()}

    def record(i, cost):
        if (i + 1) % log_every == 0:
            before[i + 1] = model.to_parameters()

    fit(model, X, Y, iterations=iterations, log_every=1, callback=record, progress=False)

    model = MLP(LAYER_DIMS, seed=3)
    history = fit(
        model,
        X,
        Y,
        iterations=iterations,
        log_every=log_every,
        validation=(X_val, Y_val),
        early_stopping=patience,
        progress=False,
    )
    assert history.stopped_early and history.steps < iterations  # it overfits, so it stops
    logged = history.iterations
    expected_costs = [cross_entropy(before[i], X_val, Y_val) for i in logged]
    np.testing.assert_allclose(history.val_costs, expected_costs, rtol=1e-12)
    best = logged[int(np.argmin(expected_costs))]
    assert history.best_iteration == best
    assert history.restored
    for name, value in model.to_parameters().items():
        np.testing.assert_array_equal(value, before[best][name], err_msg=name)
    # It stopped because the last `patience` evaluations were no better than the best.
    assert logged[-1] == best + patience * log_every
    assert min(history.val_costs[-patience:]) >= history.best_val_cost
    assert len(history.accuracies) == len(history.val_accuracies) == len(logged)


def test_restore_best_false_keeps_the_last_parameters(data):
    X, Y = data.train_X, data.train_Y
    common = dict(iterations=4000, log_every=250, early_stopping=2, progress=False)
    model = MLP(LAYER_DIMS, seed=3)
    history = fit(model, X, Y, validation=(data.test_X, data.test_Y), restore_best=False, **common)
    assert history.stopped_early and not history.restored
    assert history.best_iteration < history.iterations[-1]
    # No update is made at the iteration where patience runs out: the parameters are those
    # measured last, i.e. after `steps` updates.
    again = MLP(LAYER_DIMS, seed=3)
    fit(again, X, Y, iterations=history.steps, progress=False)
    for name, value in model.to_parameters().items():
        np.testing.assert_array_equal(value, again.to_parameters()[name], err_msg=name)


def test_an_interrupted_run_keeps_its_last_update_not_the_best_one(data):
    """Ctrl-C after 3 updates, between the first validation (iteration 0, so far the best) and
    the second: the model holds the 3 updates, ready to be saved and continued."""
    X, Y = data.train_X, data.train_Y

    def press_ctrl_c(iteration, cost):
        if iteration == 2:
            signal.raise_signal(signal.SIGINT)

    model = MLP(LAYER_DIMS, seed=3)
    common = dict(iterations=100, validation_split=0.25, seed=3, progress=False)
    history = fit(model, X, Y, log_every=1, callback=press_ctrl_c, interruptible=True, **common)
    assert history.interrupted and history.steps == 3 and not history.restored
    assert history.best_iteration is not None  # measured, and reported
    again = MLP(LAYER_DIMS, seed=3)
    fit(again, X, Y, log_every=50, restore_best=False, **{**common, "iterations": 3})
    for name, value in again.to_parameters().items():
        np.testing.assert_array_equal(model.to_parameters()[name], value, err_msg=name)


@pytest.mark.parametrize("keep_prob", [1.0, 0.86])
def test_measuring_the_validation_set_does_not_change_the_training(data, keep_prob):
    X, Y = data.train_X, data.train_Y
    plain, watched = MLP(LAYER_DIMS, keep_prob=keep_prob), MLP(LAYER_DIMS, keep_prob=keep_prob)
    history = fit(plain, X, Y, iterations=300, log_every=50, progress=False)
    watched_history = fit(
        watched,
        X,
        Y,
        iterations=300,
        log_every=50,
        validation=(data.test_X, data.test_Y),
        restore_best=False,
        progress=False,
    )
    assert watched_history.costs == history.costs
    for name, value in plain.to_parameters().items():
        np.testing.assert_array_equal(watched.to_parameters()[name], value, err_msg=name)
    assert len(watched_history.val_costs) == len(history.iterations) == 7


def test_validation_split_trains_on_the_rest_only(data):
    X, Y = Tensor(data.train_X), Tensor(data.train_Y)
    X_train, Y_train, X_val, Y_val = split_validation(X, Y, 0.25, seed=5)
    assert X_train.shape == (2, 192) and X_val.shape == (2, 64)
    # The two parts are the examples of X, each exactly once.
    together = np.concatenate([X_train.data, X_val.data], axis=1)
    assert sorted(map(tuple, together.T)) == sorted(map(tuple, data.train_X.T))

    split_model, manual_model = MLP(LAYER_DIMS), MLP(LAYER_DIMS)
    history = fit(
        split_model,
        X,
        Y,
        iterations=200,
        log_every=50,
        validation_split=0.25,
        seed=5,
        restore_best=False,
        progress=False,
    )
    manual = fit(
        manual_model,
        X_train,
        Y_train,
        iterations=200,
        log_every=50,
        validation=(X_val, Y_val),
        seed=5,
        restore_best=False,
        progress=False,
    )
    assert history.val_costs == manual.val_costs and history.costs == manual.costs
    for name, value in manual_model.to_parameters().items():
        np.testing.assert_array_equal(split_model.to_parameters()[name], value, err_msg=name)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"early_stopping": 3}, "needs a validation set"),
        ({"validation_split": 0.2, "validation": "V"}, "not both"),
        ({"validation_split": 1.0}, "fraction in"),
        ({"validation_split": True}, "fraction in"),
        ({"validation_split": 0.001}, "at least one example"),
        ({"validation_split": 0.2, "early_stopping": 0}, "integer >= 1"),
        ({"validation_split": 0.2, "early_stopping": 2.5}, "integer >= 1"),
        ({"validation": "V", "early_stopping": 2}, "expected the same features"),
        ({"validation": (1, 2, 3)}, "pair"),
        ({"validation_split": 0.2, "restore_best": "yes"}, "True or False"),
    ],
)
def test_bad_validation_arguments_are_refused_before_training(data, arguments, message):
    X, Y = data.train_X, data.train_Y
    if arguments.get("validation") == "V":
        arguments = {**arguments, "validation": (np.ones((3, 5)), np.ones((1, 5)))}
    model = MLP(LAYER_DIMS)
    start = model.to_parameters()
    with pytest.raises((ValueError, TypeError), match=message):
        fit(model, X, Y, iterations=5, progress=False, **arguments)
    for name, value in model.to_parameters().items():
        np.testing.assert_array_equal(value, start[name])

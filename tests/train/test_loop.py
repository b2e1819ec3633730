"""fit / predict / accuracy: the course recipe run by autodiff equals the hand-written reference
run (short runs here; the full 30 000 iterations are examples/course_recipe.py), plus the loop's
own behaviour: logging, callbacks, mini-batches, progress line, errors."""

import io
import math
import signal
import warnings
from functools import partial

import numpy as np
import pytest

from tinygrad_reg import Tensor, datasets
from tinygrad_reg import reference as ref
from tinygrad_reg.data.loader import DataLoader
from tinygrad_reg.nn import MLP, Module, binary_cross_entropy_with_logits, cross_entropy
from tinygrad_reg.optim import SGD, Adam
from tinygrad_reg.train.callbacks import DivergenceWarning
from tinygrad_reg.train.evaluate import accuracy, predict
from tinygrad_reg.train.loop import COST_OVERFLOW, History, auto_loss, fit

LAYER_DIMS = [2, 20, 3, 1]
LR = 0.3


@pytest.fixture(scope="module")
def data():
    """The project's default dataset's training set, X (2, 256) and Y (1, 256)."""
    dataset = datasets.load()
    return dataset.train_X, dataset.train_Y


def reference_run(X, Y, iterations, penalty="none", lambd=0.0, keep_prob=1.0, log_every=100):
    """The course's model() loop with the hand-written numpy functions: parameters, costs."""
    return ref.model(
        X, Y, LAYER_DIMS, LR, iterations, lambd, penalty, keep_prob, seed=3, log_every=log_every
    )


VARIANTS = {
    "none": {},
    "l2": {"penalty": "l2", "lambd": 0.7},
    "l1": {"penalty": "l1", "lambd": 0.7},
    "dropout": {"keep_prob": 0.86},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_short_course_run_with_autodiff_equals_the_reference_run(data, variant):
    X, Y = data
    settings = VARIANTS[variant]
    iterations = 400
    expected, expected_costs = reference_run(X, Y, iterations, **settings)

    keep_prob = settings.get("keep_prob", 1.0)
    model = MLP(LAYER_DIMS, seed=3, keep_prob=keep_prob)
    penalty = {k: v for k, v in settings.items() if k != "keep_prob"}
    history = fit(model, X, Y, iterations=iterations, log_every=100, progress=False, **penalty)

    got = model.to_parameters()
    assert X.shape[1] == 256  # a power of two: 1/m is exact, so the arithmetic is identical
    for name in expected:
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        assert np.all(np.isfinite(got[name]))
    assert history.iterations == [0, 100, 200, 300, 399]
    np.testing.assert_allclose(history.costs, expected_costs, rtol=1e-10)
    assert accuracy(model, X, Y) == np.mean(ref.predict(X, expected) == Y)
    assert np.array_equal(predict(model, X), ref.predict(X, expected))


def test_saturated_outputs_give_finite_costs_and_the_reference_parameters(data):
    X, Y = data
    parameters = ref.initialize_parameters(LAYER_DIMS, seed=3)
    parameters["W3"] = parameters["W3"] * 1e3  # logits in the hundreds: σ rounds to 0 or 1
    model = MLP.from_parameters(parameters)
    history = fit(model, X, Y, iterations=20, log_every=1, progress=False)

    naive_costs = []
    for _ in range(20):
        A, cache = ref.forward_propagation(X, parameters)
        naive_costs.append(ref.compute_cost(A, Y))
        parameters = ref.update_parameters(parameters, ref.backward_propagation(X, Y, cache), LR)

    assert not np.isfinite(naive_costs[0])  # the course's formula: log(0) for a wrong, sure output
    assert np.all(np.isfinite(history.costs))
    finite = np.isfinite(naive_costs)
    np.testing.assert_allclose(np.array(history.costs)[finite], np.array(naive_costs)[finite])
    for name, value in model.to_parameters().items():
        np.testing.assert_allclose(value, parameters[name], rtol=1e-8, atol=1e-12, err_msg=name)


def test_the_naive_loss_on_saturated_outputs_stops_with_a_clear_error(data):
    X, Y = data
    parameters = ref.initialize_parameters(LAYER_DIMS, seed=3)
    parameters["W3"] = parameters["W3"] * 1e3
    model = MLP.from_parameters(parameters)
    before = model.state_dict()
    message = r"cost is (inf|nan) at iteration 0.*bce_with_logits"
    with pytest.raises(FloatingPointError, match=message), np.errstate(all="ignore"):
        fit(model, X, Y, loss="bce", iterations=5, progress=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # no NaN step was taken


def test_a_diverging_run_with_the_stable_loss_suggests_a_smaller_learning_rate(data):
    X, Y = data
    model = MLP(LAYER_DIMS)
    optimizer = SGD(model.parameters(), lr=1e200)
    with pytest.raises(FloatingPointError) as caught, np.errstate(all="ignore"):
        fit(model, X, Y, optimizer=optimizer, iterations=50, progress=False)
    message = str(caught.value)
    assert "smaller learning rate" in message
    assert "loss=" not in message  # the stable loss is already in use


@pytest.mark.parametrize("optimizer_class", [SGD, Adam])
def test_a_cost_whose_square_overflows_is_refused_like_a_nan(data, optimizer_class):
    """Features around 1e300 give a finite cost around 1e300; with Adam (whose update is at
    most lr) training went on with an infinite second moment and ended "successfully"."""
    X, Y = data
    model = MLP(LAYER_DIMS)
    optimizer = optimizer_class(model.parameters(), lr=0.01)
    with pytest.raises(FloatingPointError) as caught, np.errstate(all="ignore"):
        fit(model, X * 1e300, Y, optimizer=optimizer, iterations=20, progress=False)
    assert "at iteration 0" in str(caught.value) and "overflows float64" in str(caught.value)
    assert abs(float(str(caught.value).split()[4].rstrip(";"))) > COST_OVERFLOW


def test_costs_just_below_the_overflow_limit_are_trained_on(data):
    X, Y = data
    model = MLP([2, 1])  # logistic regression: cost ≈ |w·x|, far below 1e154 for x ~ 1e100
    optimizer = Adam(model.parameters(), lr=1e-3)  # steps of at most lr: w stays of order 1
    history = fit(model, X * 1e100, Y, optimizer=optimizer, iterations=3, progress=False)
    assert all(cost < COST_OVERFLOW for cost in history.costs) and history.steps == 3


# --- the loop --------------------------------------------------------------------------------


def test_the_default_optimizer_is_the_courses_gradient_descent(data):
    X, Y = data
    a, b = MLP(LAYER_DIMS, seed=3), MLP(LAYER_DIMS, seed=3)
    fit(a, X, Y, iterations=3, progress=False)
    fit(b, X, Y, optimizer=SGD(b.parameters(), lr=0.3), iterations=3, progress=False)
    for name, value in a.to_parameters().items():
        np.testing.assert_array_equal(value, b.to_parameters()[name])


def test_history_logs_every_n_iterations_and_the_last(data):
    X, Y = data
    history = fit(MLP(LAYER_DIMS), X, Y, iterations=7, log_every=3, progress=False)
    assert isinstance(history, History)
    assert history.iterations == [0, 3, 6] and len(history.costs) == 3
    assert history.steps == 7 and history.wall_time > 0 and history.iterations_per_second > 0
    assert fit(MLP(LAYER_DIMS), X, Y, iterations=8, log_every=3, progress=False).iterations == [
        0,
        3,
        6,
        7,
    ]


def test_a_callback_sees_each_logged_cost_and_can_stop_training(data):
    X, Y = data
    seen = []

    def callback(iteration, cost):
        seen.append((iteration, cost))
        return iteration >= 4

    history = fit(
        MLP(LAYER_DIMS), X, Y, iterations=100, log_every=2, callback=callback, progress=False
    )
    assert [i for i, _ in seen] == [0, 2, 4]
    assert history.costs == [c for _, c in seen]
    assert history.stopped_early and history.steps == 5


def test_fit_trains_and_restores_the_models_mode(data):
    X, Y = data
    model = MLP(LAYER_DIMS, keep_prob=0.5).eval()
    history = fit(model, X, Y, iterations=300, progress=False)
    assert not model.training
    assert history.costs[-1] < history.costs[0]


def test_adam_and_a_callable_loss_and_penalty(data):
    X, Y = data
    model = MLP(LAYER_DIMS)
    calls = []

    def squared_error(logits, labels):
        calls.append("loss")
        return ((logits.sigmoid() - labels) ** 2).mean()

    def no_penalty(module, m):
        calls.append(m)
        return Tensor(0.0)

    history = fit(
        model,
        X,
        Y,
        loss=squared_error,
        penalty=no_penalty,
        optimizer=Adam(model.parameters(), lr=0.01),
        iterations=50,
        progress=False,
    )
    assert calls[:2] == ["loss", X.shape[1]] and len(calls) == 100
    assert history.costs[-1] < history.costs[0]


@pytest.mark.parametrize("outputs", [1, 2])
def test_auto_loss_with_label_smoothing_is_a_loss_fit_trains_with(data, outputs):
    X, Y = data
    epsilon = 0.2
    loss = partial(auto_loss, label_smoothing=epsilon)
    model = MLP([2, 20, 3, outputs])
    if outputs == 1:
        first = binary_cross_entropy_with_logits(model(X), Y, label_smoothing=epsilon)
    else:
        first = cross_entropy(model(X), Y, label_smoothing=epsilon)
    plain = auto_loss(model(X), Y).item()
    history = fit(model, X, Y, loss=loss, iterations=30, log_every=10, progress=False)
    assert history.costs[0] == first.item() != plain
    assert history.costs[-1] < history.costs[0]


# --- mini-batches ------------------------------------------------------------------------------


class Recorder(Module):
    """Wraps a model and remembers the columns of X it was called with."""

    def __init__(self, model):
        self.model, self.seen = model, []

    def forward(self, X):
        self.seen.append(X.numpy())
        return self.model(X)


def test_mini_batches_visit_every_example_once_per_epoch_in_a_seeded_order(data):
    X, Y = data
    m, batch_size = X.shape[1], 60  # batches of 60 and one smaller last batch
    sizes = [batch_size] * (m // batch_size) + [m % batch_size]
    assert sizes[-1] > 0
    per_epoch = len(sizes)
    recorder = Recorder(MLP(LAYER_DIMS))
    fit(recorder, X, Y, iterations=2 * per_epoch, batch_size=batch_size, seed=7, progress=False)
    assert [b.shape[1] for b in recorder.seen] == sizes * 2

    rng = np.random.RandomState(7)
    for epoch in range(2):
        order = rng.permutation(m)
        np.testing.assert_array_equal(
            np.hstack(recorder.seen[per_epoch * epoch : per_epoch * (epoch + 1)]), X[:, order]
        )

    again = Recorder(MLP(LAYER_DIMS))
    fit(again, X, Y, iterations=2 * per_epoch, batch_size=batch_size, seed=7, progress=False)
    np.testing.assert_array_equal(np.hstack(again.seen), np.hstack(recorder.seen))


def test_fits_mini_batches_are_a_seeded_data_loaders(data):
    X, Y = data
    recorder = Recorder(MLP(LAYER_DIMS))
    history = fit(recorder, X, Y, iterations=11, batch_size=50, seed=9, progress=False)
    loader = DataLoader(X, Y, batch_size=50, shuffle=True, seed=9)
    for seen in recorder.seen:
        np.testing.assert_array_equal(seen, loader.next_batch()[0].numpy())
    assert history.batch_order == loader.state_dict()
    assert history.batch_order["epoch"] == 11 // len(loader)


def test_whole_set_training_passes_a_saved_batch_order_on_unchanged(data):
    """A mini-batch run continued on the whole set, then again with mini-batches, goes on
    with the batches it would have had."""
    X, Y = data
    loader = DataLoader(X, Y, batch_size=60, shuffle=True, seed=2)
    loader.next_batch()
    saved = loader.state_dict()
    history = fit(MLP(LAYER_DIMS), X, Y, iterations=3, progress=False, batch_order=saved)
    assert history.batch_order == saved


def test_fit_on_a_loader_trains_on_its_batches_and_leaves_it_where_it_stopped(data):
    X, Y = data
    by_arguments, by_loader = MLP(LAYER_DIMS), MLP(LAYER_DIMS)
    expected = fit(by_arguments, X, Y, iterations=7, batch_size=40, seed=5, progress=False)
    loader = DataLoader(X, Y.ravel(), batch_size=40, shuffle=True, seed=5)  # (m,) labels too
    history = fit(by_loader, loader, iterations=7, progress=False)
    for name, value in by_arguments.to_parameters().items():
        np.testing.assert_array_equal(by_loader.to_parameters()[name], value)
    assert history.costs == expected.costs
    assert loader.state_dict() == history.batch_order == expected.batch_order
    recorder = Recorder(MLP(LAYER_DIMS))  # a second fit goes on with the next batches
    fit(recorder, loader, iterations=1, progress=False)
    again = DataLoader(X, Y, batch_size=40, shuffle=True, seed=5)
    for _ in range(7):
        again.next_batch()
    np.testing.assert_array_equal(recorder.seen[0], again.next_batch()[0].numpy())


@pytest.mark.parametrize(
    "make, options, message",
    [
        (lambda X, Y: DataLoader(X, Y, batch_size=8), {"batch_size": 8}, "and batch_size"),
        (lambda X, Y: DataLoader(X, Y), {"validation_split": 0.2}, "and validation_split"),
        (lambda X, Y: DataLoader(X.T, Y.ravel(), examples_axis=0), {}, "course layout"),
        (lambda X, Y: DataLoader(X[:, :5], Y[:, :5], batch_size=8, drop_last=True), {}, "0 batch"),
    ],
)
def test_fit_on_a_loader_refuses_what_the_loader_decides(data, make, options, message):
    X, Y = data
    with pytest.raises(ValueError, match=message):
        fit(MLP(LAYER_DIMS), make(X, Y), iterations=2, progress=False, **options)


def test_fit_without_labels_says_what_it_expects(data):
    with pytest.raises(TypeError, match=r"fit: Y is missing; expected fit\(model, X, Y\)"):
        fit(MLP(LAYER_DIMS), data[0], iterations=2, progress=False)


def test_one_batch_of_everything_is_full_batch_training(data):
    X, Y = data
    full, shuffled = MLP(LAYER_DIMS), MLP(LAYER_DIMS)
    fit(full, X, Y, iterations=20, progress=False)
    fit(shuffled, X, Y, iterations=20, batch_size=X.shape[1], progress=False)
    for name, value in full.to_parameters().items():  # only the summation order differs
        np.testing.assert_allclose(shuffled.to_parameters()[name], value, rtol=1e-10)


# --- progress line -----------------------------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_line_updates_in_place_on_a_terminal(data, monkeypatch):
    X, Y = data
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    fit(MLP(LAYER_DIMS), X, Y, iterations=5, progress=True)
    output = terminal.getvalue()
    assert output.startswith("\r") and output.endswith("\n") and output.count("\n") == 1
    assert "iteration 5/5" in output and "cost" in output and "it/s" in output


def test_no_progress_when_switched_off(data, monkeypatch):
    X, Y = data
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    fit(MLP(LAYER_DIMS), X, Y, iterations=5, progress=False)
    assert terminal.getvalue() == ""


def test_off_a_terminal_progress_is_whole_lines_and_a_last_one(data, monkeypatch):
    """A log gets no carriage returns: full lines at most every LOG_INTERVAL seconds (a short
    run finishes before the first is due) and always the final numbers."""
    X, Y = data
    log = io.StringIO()
    monkeypatch.setattr("sys.stderr", log)
    fit(MLP(LAYER_DIMS), X, Y, iterations=5, progress=True)
    assert "\r" not in log.getvalue()
    assert log.getvalue().splitlines() == [
        line for line in log.getvalue().splitlines() if line.startswith("iteration 5/5  cost")
    ]
    assert log.getvalue().count("\n") == 1


@pytest.mark.parametrize(("seconds", "lines"), [(0.0, 5 + 1), (3600.0, 1)])
def test_progress_in_seconds_writes_a_line_at_that_interval(data, monkeypatch, seconds, lines):
    X, Y = data
    log = Terminal()  # a number of seconds means lines, on a terminal too
    monkeypatch.setattr("sys.stderr", log)
    fit(MLP(LAYER_DIMS), X, Y, iterations=5, progress=seconds)
    written = log.getvalue().splitlines()
    assert len(written) == lines and "\r" not in log.getvalue()
    if seconds == 0.0:
        assert [line.split()[1] for line in written] == ["1/5", "2/5", "3/5", "4/5", "5/5", "5/5"]


@pytest.mark.parametrize("progress", [-1.0, "yes", math.nan])
def test_bad_progress_is_refused(data, progress):
    with pytest.raises(ValueError, match="fit: progress"):
        fit(MLP(LAYER_DIMS), *data, iterations=1, progress=progress)


# --- a diverging run -------------------------------------------------------------------------


def test_a_diverging_learning_rate_warns_once(data):
    """lr 1000 throws the network far from its start and it never comes back: fit says why."""
    model = MLP(LAYER_DIMS)
    with pytest.warns(DivergenceWarning, match="learning rate is probably too large") as caught:
        history = fit(
            model,
            *data,
            optimizer=SGD(model.parameters(), lr=1000.0),
            iterations=200,
            progress=False,
        )
    assert len([w for w in caught if w.category is DivergenceWarning]) == 1
    assert history.costs[-1] > history.costs[0]


def test_a_cost_that_goes_down_does_not_warn(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        history = fit(MLP(LAYER_DIMS), *data, iterations=200, progress=False)
    assert history.costs[-1] < history.costs[0]


# --- predict, accuracy -----------------------------------------------------------------------


def test_predict_is_deterministic_under_dropout_and_keeps_the_mode_and_the_rng(data):
    X, _ = data
    masks = np.random.RandomState(0)
    model = MLP(LAYER_DIMS, keep_prob=0.5, rng=masks)
    state = masks.get_state()[1].copy()
    first = predict(model, X)
    assert model.training and np.array_equal(masks.get_state()[1], state)
    assert np.array_equal(first, predict(model, X))
    assert first.shape == (1, X.shape[1]) and set(np.unique(first)) <= {0, 1}


def test_accuracy_counts_agreeing_labels(data):
    X, _ = data
    model = MLP(LAYER_DIMS)
    predictions = predict(model, X)
    flipped = predictions.copy()
    flipped[0, :30] = 1 - flipped[0, :30]
    assert accuracy(model, X, predictions) == 1.0
    assert accuracy(model, X, flipped) == pytest.approx(1 - 30 / X.shape[1])


def test_labels_of_shape_m_train_and_score_as_the_row_does(data):
    X, Y = data
    row, flat = MLP(LAYER_DIMS, seed=3), MLP(LAYER_DIMS, seed=3)
    fit(row, X, Y, iterations=20, progress=False)
    fit(flat, X, Y.ravel(), iterations=20, progress=False)
    for name, value in row.state_dict().items():
        np.testing.assert_array_equal(flat.state_dict()[name], value, err_msg=name)
    assert accuracy(flat, X, Y.ravel()) == accuracy(row, X, Y)
    logits = row(X)
    assert binary_cross_entropy_with_logits(logits, Y.ravel()).item() == (
        binary_cross_entropy_with_logits(logits, Y).item()
    )


@pytest.mark.parametrize(
    "labels_of, advice, fix",
    [
        (lambda Y: Y.ravel(), r"pass X.T \(Y as it is\)", lambda X, Y: (X.T, Y)),
        (lambda Y: Y.T, "pass X.T and Y.T", lambda X, Y: (X.T, Y.T)),
    ],
)
def test_rows_of_examples_get_advice_that_works_when_followed(data, labels_of, advice, fix):
    X, Y = data
    X_rows, Y_given = X.T, labels_of(Y)
    with pytest.raises(ValueError, match=advice):
        accuracy(MLP(LAYER_DIMS), X_rows, Y_given)
    assert 0 <= accuracy(MLP(LAYER_DIMS), *fix(X_rows, Y_given)) <= 1


def test_a_column_of_labels_gets_the_advice_to_transpose_it(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"Y looks like one row per example: pass Y\.T"):
        fit(MLP(LAYER_DIMS), X, Y.T, iterations=1, progress=False)


# --- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda X, Y: (X.T, Y), r"X has shape \(256, 2\).*Y of shape \(1, 2\).*pass X\.T"),
        (
            lambda X, Y: (X, Y.ravel()[:-1]),
            r"Y has shape \(255,\); expected Y of shape \(1, 256\) or \(256,\)",
        ),
        (lambda X, Y: (X[0], Y), r"X has shape \(256,\); expected 2-D \(n_features, m\)"),
        (lambda X, Y: (X, Y + 0.5), r"labels in \[0, 1\]"),
        (lambda X, Y: (X, -Y), r"labels in \[0, 1\]"),
        (lambda X, Y: (X, Y * 2), r"labels go up to 2 \(3 classes\) but the model has one"),
        (lambda X, Y: (np.where(X > 0.5, np.nan, X), Y), "finite"),
    ],
)
def test_bad_data_is_named_before_training(data, change, message):
    X, Y = change(*data)
    model = MLP(LAYER_DIMS)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        fit(model, X, Y, iterations=1, progress=False)
    assert all(np.array_equal(v, before[k]) for k, v in model.state_dict().items())


def test_features_that_do_not_fit_the_first_layer_are_named(data):
    X, Y = data
    with pytest.raises(ValueError, match=r"Linear.*\(2, 256\), \(4, 3\).*X \(n_in, m\)"):
        fit(MLP([3, 4, 1]), X, Y, iterations=1, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss": "mse"}, ValueError, "unknown loss 'mse'"),
        ({"penalty": "l3"}, ValueError, "unknown penalty 'l3'"),
        ({"lambd": 0.7}, ValueError, "lambd = 0.7 but penalty is None"),
        ({"batch_size": 0}, ValueError, "batch_size = 0"),
        ({"batch_size": 257}, ValueError, "batch_size = 257"),
        ({"iterations": -1}, ValueError, "iterations = -1"),
        ({"iterations": 1e4}, ValueError, "iterations = 10000.0"),
        ({"log_every": 0}, ValueError, "log_every = 0"),
        ({"optimizer": "sgd"}, TypeError, "optimizer is a str"),
        ({"optimizer": SGD(MLP(LAYER_DIMS).parameters(), lr=0.1)}, ValueError, "not parameters"),
    ],
)
def test_bad_settings_are_named(data, kwargs, error, message):
    X, Y = data
    with pytest.raises(error, match=message):
        fit(MLP(LAYER_DIMS), X, Y, iterations=kwargs.pop("iterations", 1), progress=False, **kwargs)


# --- Ctrl-C ------------------------------------------------------------------------------------


def test_interruptible_fit_stops_after_the_step_in_progress(data):
    """SIGINT during iteration 7 (sent from the callback): the step completes, fit returns the
    history so far and puts the previous SIGINT handler back."""
    before = signal.getsignal(signal.SIGINT)
    model, twin = MLP(LAYER_DIMS), MLP(LAYER_DIMS)

    def press_ctrl_c(iteration, cost):
        if iteration == 7:
            signal.raise_signal(signal.SIGINT)

    history = fit(
        model,
        *data,
        iterations=100,
        log_every=1,
        callback=press_ctrl_c,
        interruptible=True,
        progress=False,
    )
    assert history.interrupted and history.steps == 8 and history.iterations[-1] == 7
    assert signal.getsignal(signal.SIGINT) is before
    fit(twin, *data, iterations=8, progress=False)  # the same 8 complete steps
    for name, value in twin.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name], value)
    with pytest.raises(KeyboardInterrupt):  # not interruptible: Python's usual Ctrl-C
        fit(
            MLP(LAYER_DIMS),
            *data,
            iterations=20,
            callback=press_ctrl_c,
            log_every=1,
            progress=False,
        )


# --- every argument checked before training (issue 11, items 8 and 14) -----------------------

BAD_FIT_ARGUMENTS = [
    ({"iterations": 0}, ValueError, "iterations"),
    ({"iterations": 2.0}, ValueError, "iterations"),
    ({"iterations": True}, ValueError, "iterations"),
    ({"log_every": 0}, ValueError, "log_every"),
    ({"batch_size": 2.5}, ValueError, "batch_size"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"batch_size": 5}, ValueError, "batch_size"),  # more than m = 4
    ({"seed": -1}, ValueError, "seed"),
    ({"seed": 2**32}, ValueError, "seed"),
    ({"callback": 3}, TypeError, "callback"),
    ({"penalty": "l2", "lambd": -1}, ValueError, "λ"),
    ({"penalty": "l1", "lambd": float("inf")}, ValueError, "λ"),
    ({"penalty": "elastic", "lambd": (0.1, 0.2, 0.3)}, ValueError, "lambd"),
    ({"penalty": "l2", "lambd": {"W9": 0.1}}, ValueError, "W9"),
    ({"start_iteration": -1}, ValueError, "start_iteration"),
    ({"start_iteration": 5}, ValueError, "start_iteration"),  # = iterations: nothing to do
    ({"start_iteration": True}, ValueError, "start_iteration"),
    ({"batch_order": {"position": 0}}, ValueError, "batch_order"),
    ({"batch_size": 2, "batch_order": {"generator": {}, "position": 9}}, ValueError, "example 9"),
]


@pytest.mark.parametrize("kwargs, error, named", BAD_FIT_ARGUMENTS)
def test_fit_refuses_a_bad_argument_before_training(kwargs, error, named):
    model = MLP([2, 3, 1], seed=0)
    before = model.state_dict()
    X, Y = np.ones((2, 4)), np.array([[0.0, 1.0, 1.0, 0.0]])
    with pytest.raises(error, match=named) as raised:
        fit(model, X, Y, progress=False, **{"iterations": 5, **kwargs})
    assert str(raised.value).startswith(("fit", "penalty:", "l1_penalty:", "l2_penalty:"))
    for name, value in model.state_dict().items():  # not one step was taken
        np.testing.assert_array_equal(value, before[name])


def test_fit_refuses_a_model_that_is_not_a_module():
    with pytest.raises(TypeError, match="fit: model is a dict"):
        fit({"W1": np.ones((1, 2))}, np.ones((2, 4)), np.ones((1, 4)), progress=False)


# --- K classes -----------------------------------------------------------------------------------

SOFTMAX_DIMS = [2, 12, 3]


@pytest.fixture(scope="module")
def spiral():
    """128 training examples of the 3-class spiral (a power of two: 1/m is exact)."""
    return datasets.make_spiral(n_train=128, n_test=64, seed=1)


@pytest.mark.parametrize("variant", VARIANTS)
def test_a_softmax_run_with_autodiff_equals_the_reference_run(spiral, variant):
    X, labels = spiral.train_X, spiral.train_Y
    settings = VARIANTS[variant]
    iterations = 200
    Y = ref.convert_to_one_hot(labels, 3)
    expected, expected_costs = ref.model(
        X, Y, SOFTMAX_DIMS, LR, iterations, seed=3, log_every=50, **settings
    )

    model = MLP(SOFTMAX_DIMS, seed=3, keep_prob=settings.get("keep_prob", 1.0))
    penalty = {k: v for k, v in settings.items() if k != "keep_prob"}
    history = fit(model, X, labels, iterations=iterations, log_every=50, progress=False, **penalty)

    got = model.to_parameters()
    for name in expected:  # the same arithmetic: softmax, A − Y, and 1/m exact
        np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
    np.testing.assert_allclose(history.costs, expected_costs, rtol=1e-12)
    assert history.costs[-1] < history.costs[0]
    assert np.array_equal(predict(model, X), ref.predict(X, expected))
    assert accuracy(model, X, labels) == np.mean(ref.predict(X, expected) == labels)


def test_softmax_fit_takes_index_labels_one_hot_columns_and_chooses_cross_entropy(spiral):
    X, labels = spiral.train_X, spiral.train_Y
    runs = {}
    for name, Y, loss in [
        ("indices", labels, "auto"),
        ("int row", labels.astype(np.int64), "auto"),
        ("one-hot", ref.convert_to_one_hot(labels, 3), "auto"),
        ("named", labels, "cross_entropy"),
    ]:
        model = MLP(SOFTMAX_DIMS, seed=3)
        runs[name] = fit(model, X, Y, loss=loss, iterations=30, log_every=10, progress=False)
        runs[name] = (runs[name].costs, model.to_parameters())
    for costs, parameters in runs.values():
        assert costs == runs["indices"][0]
        for key, value in parameters.items():
            np.testing.assert_array_equal(value, runs["indices"][1][key])


def test_softmax_predict_gives_class_indices_and_accuracy_takes_either_label_form(spiral):
    X, labels = spiral.test_X, spiral.test_Y
    model = MLP(SOFTMAX_DIMS, seed=3)
    model.train()
    predictions = predict(model, X)
    assert predictions.shape == (1, 64) and predictions.dtype == np.int64
    assert np.array_equal(predictions[0], model.eval()(X).data.argmax(axis=0))
    by_index = accuracy(model, X, labels)
    assert by_index == np.mean(predictions == labels)
    assert accuracy(model, X, ref.convert_to_one_hot(labels, 3)) == by_index


def test_outputs_for_labels_is_one_for_two_classes_and_k_for_k():
    from tinygrad_reg.train.evaluate import outputs_for_labels

    assert outputs_for_labels(np.array([[0, 1, 1, 0]])) == 1
    assert outputs_for_labels(np.array([[0.0, 0.0]])) == 1
    assert outputs_for_labels(np.array([[0, 2, 1, 0]])) == 3
    assert outputs_for_labels(Tensor(np.array([[4.0, 0.0]]))) == 5
    assert outputs_for_labels(np.eye(4)[:, :3]) == 4  # one-hot columns (C, m)


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([[0, 1, 3, 2]]), r"cross_entropy: labels range over \[0, 3\]; expected class"),
        (np.array([[0, 1, 2.5, 2]]), r"fit: Y must hold labels in \[0, 1\]"),
        (np.full((3, 4), 0.5), r"cross_entropy: the target column of example 0 sums to 1.5"),
    ],
)
def test_softmax_label_errors_are_named_before_any_update(labels, message):
    X = np.random.default_rng(0).standard_normal((2, 4))
    model = MLP(SOFTMAX_DIMS, seed=3)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message):
        fit(model, X, labels, iterations=3, progress=False)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


# --- dtype ------------------------------------------------------------------------------------


def test_a_float32_model_trains_and_predicts_in_float32_from_float64_data(data):
    """fit, predict and accuracy convert the data to the parameters' dtype (documented)."""
    X, Y = data
    model = MLP(LAYER_DIMS, dtype=np.float32)
    seen = []
    model.layers[0].forward = lambda x, f=model.layers[0].forward: seen.append(x.dtype) or f(x)
    history = fit(model, X, Y, iterations=30, progress=False)
    assert set(seen) == {np.dtype(np.float32)}
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert history.costs[-1] < history.costs[0]
    assert predict(model, X).shape == (1, X.shape[1])
    assert 0.5 < accuracy(model, X, Y) <= 1.0
    assert fit(model, X, Y, iterations=1, dtype="float32", progress=False).steps == 1


def test_fit_with_a_dtype_other_than_the_parameters_is_a_clear_error(data):
    with pytest.raises(TypeError, match=r"fit: dtype=float32 but the model's parameters are fl"):
        fit(MLP(LAYER_DIMS), *data, iterations=1, dtype=np.float32, progress=False)

"""fit's callback protocol: the hooks run in order, see what they are promised, can stop the
training, and the callbacks fit builds from its keyword arguments do their one job."""

import signal
import threading
import warnings

import numpy as np
import pytest

from tinygrad_reg import datasets
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import SGD
from tinygrad_reg.train.callbacks import (
    RISING_ITERATIONS,
    Callback,
    DeferInterrupt,
    DivergenceWarning,
    StopOnInterrupt,
    TrainingState,
    WarnOnDivergence,
)
from tinygrad_reg.train.loop import fit

LAYER_DIMS = [2, 5, 1]


@pytest.fixture(scope="module")
def data():
    moons = datasets.make_moons(n_train=40, n_test=10, seed=1)
    return moons.train_X, moons.train_Y


class Recorder(Callback):
    """Writes down every hook call, with the first weight as each hook sees it."""

    def __init__(self):
        self.calls = []

    def weight(self, state):
        return float(state.model.parameters()[0].data.flat[0])

    def on_train_begin(self, state):
        self.calls.append(("begin", None, None))

    def before_update(self, state):
        self.calls.append(("before", state.iteration, self.weight(state)))

    def after_update(self, state):
        self.calls.append(("after", state.iteration, self.weight(state)))

    def on_train_end(self, state):
        self.calls.append(("end", state.iteration, state.error))


def test_hooks_run_in_order_and_before_update_sees_the_parameters_before_the_step(data):
    model = MLP(LAYER_DIMS, seed=0)
    recorder = Recorder()
    fit(model, *data, iterations=3, progress=False, callbacks=[recorder])
    kinds = [kind for kind, _, _ in recorder.calls]
    assert kinds == ["begin", "before", "after", "before", "after", "before", "after", "end"]
    befores = [w for kind, _, w in recorder.calls if kind == "before"]
    afters = [w for kind, _, w in recorder.calls if kind == "after"]
    assert befores[1:] == afters[:-1]  # the next iteration starts where the update left off
    assert all(b != a for b, a in zip(befores, afters))  # and each step moved the weight


def test_stopping_in_before_update_skips_that_update(data):
    class StopAtTwo(Callback):
        def before_update(self, state):
            state.stop = state.iteration == 2

    model = MLP(LAYER_DIMS, seed=0)
    history = fit(model, *data, iterations=10, log_every=1, progress=False, callbacks=[StopAtTwo()])
    assert history.steps == 2  # iterations 0 and 1 updated, 2 did not
    assert history.iterations == [0, 1, 2]  # its cost (before the update) is recorded


def test_stopping_in_after_update_records_the_last_cost(data):
    class StopAtThree(Callback):
        def after_update(self, state):
            state.stop = state.iteration == 3

    history = fit(
        MLP(LAYER_DIMS, seed=0), *data, iterations=100, log_every=50, progress=False,
        callbacks=[StopAtThree()],
    )  # fmt: skip
    assert history.steps == 4
    assert history.iterations == [0, 3]  # the logged one, and the last


def test_a_learning_rate_schedule_as_a_callback_changes_the_run(data):
    class Halve(Callback):
        def after_update(self, state):
            state.optimizer.lr /= 2

    plain, scheduled = MLP(LAYER_DIMS, seed=0), MLP(LAYER_DIMS, seed=0)
    fit(plain, *data, iterations=5, progress=False)
    optimizer = SGD(scheduled.parameters(), lr=0.3)
    fit(scheduled, *data, optimizer=optimizer, iterations=5, progress=False, callbacks=[Halve()])
    assert optimizer.lr == pytest.approx(0.3 / 2**5)
    assert not np.array_equal(plain.parameters()[0].data, scheduled.parameters()[0].data)


def test_on_train_end_runs_after_an_error_and_is_told_of_it(data):
    class Boom(Callback):
        def after_update(self, state):
            raise RuntimeError("boom")

    recorder = Recorder()
    with pytest.raises(RuntimeError, match="boom"):
        fit(MLP(LAYER_DIMS), *data, iterations=3, progress=False, callbacks=[recorder, Boom()])
    kind, _, error = recorder.calls[-1]
    assert kind == "end" and isinstance(error, RuntimeError)


def test_eager_step_lets_a_callback_see_the_parameters_before_a_compiled_update(data):
    class Eager(Recorder):
        def eager_step(self, state):
            return True

    eager, compiled = Eager(), Eager()
    fit(MLP(LAYER_DIMS, seed=0), *data, iterations=3, progress=False, callbacks=[eager])
    fit(MLP(LAYER_DIMS, seed=0), *data, iterations=3, progress=False, callbacks=[compiled],
        compiled=True)  # fmt: skip
    assert compiled.calls[:-1] == eager.calls[:-1]


def test_something_that_is_not_a_callback_is_refused_before_training(data):
    with pytest.raises(TypeError, match="callbacks holds a function; expected Callback"):
        fit(MLP(LAYER_DIMS), *data, iterations=1, callbacks=[lambda state: None])


def test_the_divergence_warning_comes_after_rising_iterations_in_a_row():
    """Exactly RISING_ITERATIONS iterations above the start: one fewer is no warning."""
    costs = iter([1.0] + [2.0] * (RISING_ITERATIONS - 1) + [0.5] + [2.0] * 10**3)
    watcher = WarnOnDivergence()
    state = TrainingState(model=None, optimizer=None, history=None, iterations=10**3)

    def see(i):
        state.iteration, state.cost = i, next(costs)
        watcher.after_update(state)

    with warnings.catch_warnings():
        warnings.simplefilter("error", DivergenceWarning)
        for i in range(RISING_ITERATIONS + 1):
            see(i)
        with pytest.raises(DivergenceWarning, match=f"for {RISING_ITERATIONS} "):
            for i in range(RISING_ITERATIONS + 1, 10**3):
                see(i)


def test_defer_interrupt_holds_the_first_ctrl_c_and_lets_the_second_through():
    before = signal.getsignal(signal.SIGINT)
    with DeferInterrupt() as interrupt:
        assert not interrupt.received
        signal.raise_signal(signal.SIGINT)  # held: the code goes on
        assert interrupt.received
        with pytest.raises(KeyboardInterrupt):  # the second: at once, as usual
            signal.raise_signal(signal.SIGINT)
    assert signal.getsignal(signal.SIGINT) is before
    with DeferInterrupt():
        pass
    assert signal.getsignal(signal.SIGINT) is before


def test_defer_interrupt_outside_the_main_thread_changes_nothing():
    seen = []

    def enter():
        with DeferInterrupt() as interrupt:
            seen.append(interrupt.previous)

    thread = threading.Thread(target=enter)
    thread.start()
    thread.join()
    assert seen == [None]


def test_stop_on_interrupt_watches_a_deferral_held_beyond_fit(data, capsys):
    """The caller's DeferInterrupt stays open after fit (to save the model first); a Ctrl-C
    during fit stops it after that step and is still known to the caller afterwards."""

    class CtrlCAfter(Callback):
        def after_update(self, state):
            if state.iteration == 4:
                signal.raise_signal(signal.SIGINT)

    model = MLP(LAYER_DIMS, seed=0)
    with DeferInterrupt() as interrupt:
        history = fit(
            model,
            *data,
            iterations=50,
            callbacks=[CtrlCAfter(), StopOnInterrupt(interrupt)],
            progress=False,
        )
        assert history.interrupted and history.steps == 5
    assert interrupt.received
    assert "Ctrl-C: stopped after 5 iterations" in capsys.readouterr().err


# --- LRSchedule ---------------------------------------------------------------------------


class SeenLR(Callback):
    """The learning rate each iteration's step uses."""

    def __init__(self):
        self.lrs = []

    def before_update(self, state):
        self.lrs.append(state.optimizer.param_groups[0]["lr"])


def scheduled_run(data, every, compiled, iterations=12):
    from tinygrad_reg.optim import StepLR
    from tinygrad_reg.train.callbacks import LRSchedule

    X, Y = data
    model = MLP(LAYER_DIMS, rng=np.random.default_rng(3))
    optimizer = SGD(model.parameters(), lr=0.2)
    seen = SeenLR()
    schedule = LRSchedule(StepLR(optimizer, step_size=1, gamma=0.5), every=every)
    fit(model, X, Y, optimizer=optimizer, iterations=iterations, batch_size=10,
        callbacks=[seen, schedule], progress=False, compiled=compiled)  # fmt: skip
    return seen.lrs, [p.numpy() for p in model.parameters()]


@pytest.mark.parametrize("every", ["epoch", "iteration"])
def test_lr_schedule_steps_as_a_pytorch_loop_does_and_compiled_follows_it(data, every):
    import torch

    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    torch_schedule = torch.optim.lr_scheduler.StepLR(torch_opt, step_size=1, gamma=0.5)
    expected = []
    for iteration in range(12):  # 40 examples in batches of 10: 4 iterations an epoch
        expected.append(torch_opt.param_groups[0]["lr"])
        torch_opt.step()
        if every == "iteration" or iteration % 4 == 3:
            torch_schedule.step()
    lrs, eager = scheduled_run(data, every, compiled=False)
    assert lrs == expected
    compiled_lrs, compiled = scheduled_run(data, every, compiled=True)
    assert compiled_lrs == expected
    for a, b in zip(eager, compiled):
        np.testing.assert_array_equal(a, b)


def test_reduce_on_plateau_is_fed_the_validation_cost_and_needs_one(data):
    from tinygrad_reg.optim import ReduceLROnPlateau
    from tinygrad_reg.train.callbacks import LRSchedule

    X, Y = data
    model = MLP(LAYER_DIMS, rng=np.random.default_rng(3))
    optimizer = SGD(model.parameters(), lr=0.2)
    plateau = ReduceLROnPlateau(optimizer, patience=0, factor=0.5)
    history = fit(model, X, Y, optimizer=optimizer, iterations=12, batch_size=10, log_every=4,
                  validation_split=0.25, callbacks=[LRSchedule(plateau)],
                  progress=False)  # fmt: skip
    # 30 training examples: epochs end at iterations 2, 5, 8, 11, evaluated there and at
    # 0, 4 (log_every): the schedule is fed the cost measured at each epoch's end
    assert plateau.last_epoch == 4 and history.iterations == [0, 2, 4, 5, 8, 11]
    epoch_ends = [c for i, c in zip(history.iterations, history.val_costs) if i % 3 == 2]
    import torch

    torch_opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.2)
    torch_plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, patience=0, factor=0.5)
    for cost in epoch_ends:
        torch_plateau.step(cost)
    assert plateau.best == torch_plateau.best
    assert optimizer.param_groups[0]["lr"] == torch_opt.param_groups[0]["lr"]
    plateau = ReduceLROnPlateau(optimizer)
    with pytest.raises(ValueError, match="ReduceLROnPlateau needs the validation cost"):
        fit(model, X, Y, optimizer=optimizer, iterations=4, batch_size=10,
            callbacks=[LRSchedule(plateau)], progress=False)  # fmt: skip

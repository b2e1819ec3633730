"""What the recorder hears (jit/recorder.py): hyperparameters read at each replay, and a call
that fails, while recording or replaying, leaves the model, its gradients and the optimizer's
state exactly as they were.

Every comparison is exact: a replay makes the eager step's numpy calls on the same values.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinygrad_reg as tg
from tinygrad_reg import TraceError
from tinygrad_reg.engine import Function
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.optim import SGD, Adam, AdamW, ProximalSGD

OPTIMIZERS = {
    "sgd": lambda params: SGD(params, lr=0.1),
    "momentum": lambda params: SGD(params, lr=0.1, momentum=0.9),
    "adam": lambda params: Adam(params, lr=0.01),
    "adamw": lambda params: AdamW(params, lr=0.01),
    "proximal": lambda params: ProximalSGD(params, lr=0.1, l1=0.01),
}

# (optimizer, hyperparameter, the value it is given between calls)
CHANGES = [
    ("sgd", "lr", 0.05),
    ("sgd", "weight_decay", 0.01),  # 0 → not 0: another path through update
    ("sgd", "momentum", 0.5),  # plain SGD becomes momentum SGD
    ("momentum", "lr", 0.05),
    ("momentum", "momentum", 0.5),
    ("momentum", "weight_decay", 0.1),
    ("momentum", "nesterov", True),
    ("adam", "lr", 0.02),
    ("adam", "betas", (0.8, 0.9)),
    ("adam", "eps", 1e-6),
    ("adam", "weight_decay", 0.1),
    ("adamw", "lr", 0.02),
    ("adamw", "betas", (0.8, 0.9)),
    ("adamw", "weight_decay", 0.2),
    ("proximal", "lr", 0.05),
    ("proximal", "l1", 0.02),
    ("proximal", "momentum", 0.3),
]

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 5))
Y = np.array([[0.0, 1.0, 1.0, 0.0, 1.0]])


class Fails(Function):
    """The identity, whose backward raises while ``failing`` is set: a Function of yours."""

    failing = False

    def forward(self, x):
        return x * 1.0

    def backward(self, g, out, x):
        """d x/d x = 1"""
        if Fails.failing:
            raise ValueError("a Function of yours failed")
        return (g,)


def model_and_step(optimizer: str, compiled: bool):
    model = MLP([2, 3, 1], seed=0)
    opt = OPTIMIZERS[optimizer](model.parameters())

    def step(X, Y):
        opt.zero_grad()
        cost = binary_cross_entropy_with_logits(Fails()(model(X)), Y)
        cost.backward()
        opt.step()
        return cost

    return model, opt, tg.compile(step) if compiled else step


def snapshot(model, opt) -> list:
    """Copies of everything a step may change: parameters, gradients, optimizer state."""
    params = model.parameters()
    state = [{k: np.copy(v) for k, v in s.items()} for s in opt.state]
    return [
        [p.data.copy() for p in params],
        [None if p.grad is None else p.grad.copy() for p in params],
        state,
        {name: getattr(opt, name) for name in opt.hyperparameters},
    ]


def assert_same(a, b) -> None:
    if isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    else:
        assert a == b and type(a) is type(b)


# --- hyperparameters --------------------------------------------------------------------------


@pytest.mark.parametrize(("optimizer", "name", "value"), CHANGES)
def test_a_hyperparameter_changed_between_calls_is_honoured(optimizer, name, value) -> None:
    results = []
    for compiled in (False, True):
        model, opt, step = model_and_step(optimizer, compiled)
        step(X, Y)
        step(X, Y)
        setattr(opt, name, value)
        step(X, Y)
        step(X, Y)
        results.append(snapshot(model, opt))
    assert_same(*results)


def test_per_group_hyperparameters_changed_between_calls_are_honoured() -> None:
    """Two parameter groups, each with its own lr and weight decay, changed between calls."""
    results = []
    for compiled in (False, True):
        model = MLP([2, 3, 1], seed=0)
        weights, biases = model.parameters()[0::2], model.parameters()[1::2]
        opt = SGD([{"params": weights, "weight_decay": 0.01}, {"params": biases}], lr=0.1)

        def step(X, Y, model=model, opt=opt):
            opt.zero_grad()
            binary_cross_entropy_with_logits(model(X), Y).backward()
            opt.step()

        step = tg.compile(step) if compiled else step
        for lr_weights, lr_biases, decay in [
            (0.1, 0.1, 0.01),
            (0.03, 0.2, 0.01),
            (0.5, 0.01, 0.02),
        ]:
            opt.param_groups[0]["lr"], opt.param_groups[1]["lr"] = lr_weights, lr_biases
            opt.param_groups[0]["weight_decay"] = decay
            step(X, Y)
        results.append([p.data.copy() for p in model.parameters()])
    assert_same(*results)
    assert step.recordings == 1  # the recorded update read each group's values through cells


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_bad_value_set_in_a_group_is_refused_by_a_replay_as_by_step(optimizer) -> None:
    for compiled in (False, True):
        model, opt, step = model_and_step(optimizer, compiled)
        step(X, Y)
        step(X, Y)
        before = snapshot(model, opt)
        opt.param_groups[0]["lr"] = -0.5
        with pytest.raises(ValueError, match=r"step: param_groups\[0\]\['lr'\] = -0.5"):
            step(X, Y)
        opt.param_groups[0]["lr"] = before[3]["lr"]
        after = snapshot(model, opt)
        if not compiled:  # the eager step's backward ran before step() refused: new .grad
            after[1] = before[1]
        assert_same(after, before)  # the parameters and the optimizer's state as before


def test_fit_compiled_with_an_lr_schedule_equals_fit() -> None:
    """A callback lowering the learning rate every iteration, as docs/compile.md shows."""
    results = []
    for compiled in (False, True):
        model = MLP([2, 4, 1], seed=1)
        for name, make in [("sgd", OPTIMIZERS["sgd"]), ("adam", OPTIMIZERS["adam"])]:
            opt = make(model.parameters())

            def schedule(iteration, cost, opt=opt):
                opt.lr = opt.lr * 0.9

            history = tg.fit(
                model, X, Y, optimizer=opt, iterations=6, log_every=1, progress=False,
                callback=schedule, compiled=compiled,
            )  # fmt: skip
            results.append((name, history.costs, [p.data.copy() for p in model.parameters()]))
    half = len(results) // 2
    assert_same(results[:half], results[half:])


# --- a replay that raises changes nothing ------------------------------------------------------


def raise_in_function(step):
    Fails.failing = True
    try:
        step(X, Y)
    finally:
        Fails.failing = False


def raise_under_errstate(step):
    with np.errstate(all="raise"):
        step(X * 1e300, Y)  # the logits' exp overflows


def raise_on_a_bad_label(step):
    step(X, np.array([[0.0, 1.0, 2.0, 0.0, 1.0]]))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize(
    ("fail", "error"),
    [
        (raise_in_function, ValueError),
        (raise_under_errstate, FloatingPointError),
        (raise_on_a_bad_label, ValueError),
    ],
    ids=["a Function of yours", "errstate raise", "a bad label"],
)
def test_a_replay_that_raises_leaves_everything_as_before(optimizer, fail, error) -> None:
    model, opt, step = model_and_step(optimizer, compiled=True)
    eager_model, eager_opt, eager_step = model_and_step(optimizer, compiled=False)
    for s in (step, step, eager_step, eager_step):
        s(X, Y)  # a recording, a replay; and the same two steps eagerly
    before = snapshot(model, opt)
    with pytest.raises(error):
        fail(step)
    assert step.recordings == 1  # it was a replay that failed
    assert_same(snapshot(model, opt), before)
    step(X, Y)  # and the next call goes on as if the failed one had not happened
    eager_step(X, Y)
    assert_same(snapshot(model, opt), snapshot(eager_model, eager_opt))


# --- a refused recording ----------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_refused_recording_leaves_the_model_as_it_was(optimizer) -> None:
    model, opt, eager_step = model_and_step(optimizer, compiled=False)
    eager_step(X, Y)  # gradients and optimizer state to keep
    arrays = [(p.data, p.grad) for p in model.parameters()]
    before = snapshot(model, opt)

    def refused(X, Y):
        cost = eager_step(X, Y)
        cost.item()  # a value read into Python after the update
        return cost

    with pytest.raises(TraceError, match="item"):
        tg.compile(refused)(X, Y)
    assert [(p.data, p.grad) for p in model.parameters()] == arrays  # the same objects
    assert all(type(p.data) is np.ndarray for p in model.parameters())
    assert_same(snapshot(model, opt), before)

    step = tg.compile(eager_step)  # the next compiled step works and equals eager
    other_model, other_opt, other_step = model_and_step(optimizer, compiled=False)
    other_step(X, Y)
    for _ in range(3):
        step(X, Y)
        other_step(X, Y)
    assert_same(snapshot(model, opt), snapshot(other_model, other_opt))


# --- threads ----------------------------------------------------------------------------------


def test_two_threads_replaying_one_step_on_a_shared_model_step_it_in_turn() -> None:
    """Each thread records its own trace; calls take turns (a lock), so 2 x 20 calls from two
    threads leave the model where 40 eager steps do."""
    model, opt, step = model_and_step("adam", compiled=True)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                step(X, Y)
        except BaseException as error:  # reported by the assert below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert step.recordings == 2
    eager_model, eager_opt, eager_step = model_and_step("adam", compiled=False)
    for _ in range(40):
        eager_step(X, Y)
    assert_same(snapshot(model, opt), snapshot(eager_model, eager_opt))

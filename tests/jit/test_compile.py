"""compile(step): a replay equals the eager step to the last bit; retraces; clear errors.

Every comparison is np.array_equal: the replay calls the same numpy functions on the same
arrays in the same order as the eager step, so there is no rounding difference to allow for.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_reg as tg
from tinygrad_reg import Tensor, TraceError
from tinygrad_reg.engine import Function
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits, cross_entropy
from tinygrad_reg.nn.regularizers import penalty
from tinygrad_reg.optim import SGD, Adam, AdamW
from tinygrad_reg.testing import Network, networks

OPTIMIZERS = {
    "sgd": lambda params: SGD(params, lr=0.05),
    "momentum": lambda params: SGD(params, lr=0.05, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda params: SGD(params, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda params: Adam(params, lr=0.01, weight_decay=0.01),
    "adamw": lambda params: AdamW(params, lr=0.01),
}


def training_step(model, opt, loss=binary_cross_entropy_with_logits, extra=None):
    """The usual step: clear, cost (plus ``extra(model, m)``, a penalty), backward, update."""

    def step(X, Y):
        opt.zero_grad()
        cost = loss(model(X), Y)
        if extra is not None:
            cost = cost + extra(model, X.shape[1])
        cost.backward()
        opt.step()
        return cost

    return step


def build(net: Network, optimizer: str, dtype: type = np.float64):
    """A model, its optimizer and a step for ``net``; dropout masks from RandomState(seed)."""
    parameters = {k: v.astype(dtype) for k, v in net.parameters.items()}
    model = MLP.from_parameters(
        parameters, keep_prob=net.keep_prob, rng=np.random.RandomState(net.seed)
    )
    opt = OPTIMIZERS[optimizer](model.parameters())
    loss = cross_entropy if net.Y.shape[0] > 1 else binary_cross_entropy_with_logits
    return model, training_step(
        model, opt, loss, lambda model, m: penalty(net.penalty, model, net.lambd, m)
    )


def run(net: Network, optimizer: str, compiled: bool, steps: int, dtype: type = np.float64):
    """The costs and final parameters of ``steps`` steps, eager or compiled."""
    model, step = build(net, optimizer, dtype)
    if compiled:
        step = tg.compile(step)
    X, Y = net.X.astype(dtype), net.Y.astype(dtype)
    costs = [step(X, Y).data for _ in range(steps)]
    return costs, [p.data for p in model.parameters()]


def assert_bit_identical(a, b) -> None:
    (costs_a, params_a), (costs_b, params_b) = a, b
    for i, (x, y) in enumerate(zip(costs_a, costs_b, strict=True)):
        assert np.array_equal(x, y), f"cost of step {i}: {x} != {y}"
    for i, (x, y) in enumerate(zip(params_a, params_b, strict=True)):
        assert x.dtype == y.dtype and np.array_equal(x, y), f"parameter {i} differs"


optimizers = st.sampled_from(sorted(OPTIMIZERS))


@given(networks(max_width=12, max_examples=24), optimizers)
def test_replay_equals_eager_bit_for_bit(net: Network, optimizer: str) -> None:
    assert_bit_identical(run(net, optimizer, False, 4), run(net, optimizer, True, 4))


@given(networks(max_width=12, max_examples=24, dropout=True), optimizers)
def test_dropout_draws_a_fresh_mask_each_replay(net: Network, optimizer: str) -> None:
    assert_bit_identical(run(net, optimizer, False, 4), run(net, optimizer, True, 4))


@given(networks(max_width=12, max_examples=24, multiclass=True, dropout=True), optimizers)
def test_softmax_networks_with_cross_entropy(net: Network, optimizer: str) -> None:
    assert_bit_identical(run(net, optimizer, False, 3), run(net, optimizer, True, 3))


@given(networks(max_width=8, max_examples=16, dropout=True), optimizers)
def test_float32(net: Network, optimizer: str) -> None:
    eager = run(net, optimizer, False, 3, np.float32)
    assert eager[1][0].dtype == np.float32
    assert_bit_identical(eager, run(net, optimizer, True, 3, np.float32))


def test_the_masks_differ_between_replays() -> None:
    """Not one mask recorded and reused: each replayed step drops other units."""
    model = MLP([3, 50, 1], keep_prob=0.5, seed=1)
    step = tg.compile(lambda X: model(X))
    X = np.ones((3, 4))
    first, second = step(X).data, step(X).data
    assert step.recordings == 1
    assert not np.array_equal(first, second)


def test_plain_sgd_is_recorded_call_by_call_and_other_optimizers_run_as_python() -> None:
    """SGD's update makes the same numpy calls every step: they are on the tape, and update
    the parameters in place. Adam's step count is Python state: its step() runs as Python."""
    X, Y = np.ones((2, 3)), np.ones((1, 3))
    kinds = {}
    for name in ("sgd", "adam"):
        model = MLP([2, 3, 1], seed=0)
        compiled = tg.compile(training_step(model, OPTIMIZERS[name](model.parameters())))
        compiled(X, Y)
        [trace] = next(iter(compiled.traces.values()))
        kinds[name] = {getattr(f, "__name__", "") for f, _ in trace.entries}
    assert "step_in_place" not in kinds["sgd"] and "subtract" in kinds["sgd"]
    assert "step_in_place" in kinds["adam"]


def test_parameters_alternate_between_two_buffers() -> None:
    """A replay writes a parameter's new values into the other of its two buffers, so an array
    taken from p.data before a call keeps its values through that call (had the call failed,
    the parameter would still hold it); the call after that writes it again."""
    model = MLP([2, 3, 1], seed=0)
    compiled = tg.compile(training_step(model, SGD(model.parameters(), lr=0.1)))
    X, Y = np.ones((2, 3)), np.zeros((1, 3))
    compiled(X, Y)
    W = model.parameters()[0].data
    before = W.copy()
    compiled(X, Y)
    assert np.array_equal(W, before)
    assert not np.array_equal(model.parameters()[0].data, before)
    compiled(X, Y)
    assert model.parameters()[0].data is W and not np.array_equal(W, before)
    assert not W.flags.writeable  # the tensor's view is read-only; only the tape writes


def test_a_failed_guard_records_the_other_path() -> None:
    """The BCE forward checks in Python whether its sum overflowed: a guard on the tape.
    Logits whose terms overflow the sum fail it: that call records the other path, and later
    calls replay whichever trace's guards hold."""
    w = Tensor(np.ones((1, 2)), requires_grad=True)

    def cost(X, Y):
        return binary_cross_entropy_with_logits(w @ X, Y)

    compiled = tg.compile(cost)
    Y = np.zeros((1, 3))
    ordinary, huge = np.ones((2, 3)), np.full((2, 3), 5e307)  # logits 1e308: the sum is inf
    for X in (ordinary, huge, ordinary, huge, huge):
        assert np.array_equal(compiled(X, Y).data, cost(Tensor(X), Y).data)
    assert np.isfinite(compiled(huge, Y).item())
    assert compiled.recordings == 2
    assert compiled.guard_failures == 3  # each switch of path tries the other trace first
    assert len(compiled.traces[next(iter(compiled.traces))]) == 2


class Cube(Function):
    """x³, an op defined outside the library: its methods run as Python on each replay."""

    save_inputs, save_out = True, False

    def forward(self, x):
        return x**3

    def backward(self, g, out, x):
        """d(x³)/dx = 3x²·g"""
        return (3 * x**2 * g,)


def test_your_own_function_runs_as_python_on_each_replay() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)

    def step(x):
        w.grad = None
        cost = Cube()(w * x).sum()
        cost.backward()
        return cost, Tensor(w.grad)

    compiled = tg.compile(step)
    w.grad = None
    for x in (np.array([1.0, 2.0]), np.array([0.5, -3.0]), np.array([2.0, 0.25])):
        cost, grad = compiled(x)
        assert np.array_equal(cost.data, (w.data * x) ** 3 @ np.ones(2))
        assert np.array_equal(grad.data, 3 * (w.data * x) ** 2 * x)
        w.grad = None


class ScaleBy(Function):
    """x·y with no gradient for y: a rule may return None for an input."""

    def forward(self, x, y):
        return x * y

    def backward(self, g, out, x, y):
        """d(x·y)/dx = g·y"""
        return (g * y, None)


def test_your_own_rule_may_return_none_for_an_input() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)

    def step(y):
        w.grad = None
        cost = ScaleBy()(w, y).sum()
        cost.backward()
        return Tensor(w.grad)

    compiled = tg.compile(step)
    for y in (np.array([3.0, 4.0]), np.array([5.0, -6.0])):
        assert np.array_equal(compiled(y).data, y)
        w.grad = None


# --- retracing ------------------------------------------------------------------------------


def steps_for(seed: int = 0):
    rng = np.random.RandomState(seed)
    model = MLP([4, 6, 1], seed=seed)
    opt = Adam(model.parameters(), lr=0.01)
    step = training_step(model, opt)
    batches = [(rng.randn(4, m), (rng.rand(1, m) > 0.5) * 1.0) for m in (8, 8, 5, 8, 5)]
    return model, opt, step, batches


def test_a_new_shape_is_traced_once_and_changing_data_is_followed() -> None:
    eager_model, _, eager_step, batches = steps_for()
    model, _, step, _ = steps_for()
    compiled = tg.compile(step)
    for X, Y in batches:
        assert np.array_equal(compiled(X, Y).data, eager_step(X, Y).data)
    assert compiled.recordings == 2  # m = 8 and m = 5, each recorded once
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert np.array_equal(p.data, q.data)


def test_class_index_labels_that_change_are_followed() -> None:
    """cross_entropy turns class indices into one-hot columns in an op, so the replay
    recomputes them from each call's labels."""

    def classifier_step():
        model = MLP([3, 5, 4], seed=1)
        return training_step(model, SGD(model.parameters(), lr=0.1), cross_entropy)

    results = []
    for step in (classifier_step(), tg.compile(classifier_step())):
        data = np.random.RandomState(2)
        results.append([step(data.randn(3, 6), data.randint(0, 4, 6)).data for _ in range(4)])
    assert all(np.array_equal(a, b) for a, b in zip(*results, strict=True))


def test_bad_labels_are_caught_on_replay_too() -> None:
    model = MLP([3, 4], seed=1)
    compiled = tg.compile(lambda X, labels: cross_entropy(model(X), labels))
    compiled(np.ones((3, 2)), np.array([0, 3]))
    with pytest.raises(ValueError, match=r"expected class indices 0\.\.3"):
        compiled(np.ones((3, 2)), np.array([0, 4]))


def test_a_new_dtype_is_traced_anew() -> None:
    compiled = tg.compile(lambda x: (x * 2).sum())
    x = np.arange(3.0)
    assert compiled(x).dtype == np.float64
    assert compiled(x.astype(np.float32)).dtype == np.float32
    assert compiled(x).dtype == np.float64
    assert compiled.recordings == 2


def test_other_optimizer_parameters_retrace() -> None:
    model, opt, step, batches = steps_for()
    compiled = tg.compile(step)
    X, Y = batches[0]
    compiled(X, Y)
    compiled(X, Y)
    opt.params = opt.params[:2]  # optimize the first layer only
    opt.state = opt.state[:2]
    frozen = model.parameters()[2].data.copy()
    compiled(X, Y)
    assert compiled.recordings == 2
    assert np.array_equal(model.parameters()[2].data, frozen)  # not optimized any more


def test_static_arguments_select_the_trace() -> None:
    x = Tensor(np.arange(3.0))
    compiled = tg.compile(lambda t, k: t * k)
    assert np.array_equal(compiled(x, 2).data, [0.0, 2.0, 4.0])
    assert np.array_equal(compiled(x, 3).data, [0.0, 3.0, 6.0])
    assert np.array_equal(compiled(x, 2).data, [0.0, 2.0, 4.0])
    assert compiled.recordings == 2


def test_parameters_changed_between_calls_are_read_afresh() -> None:
    """The tape reads a parameter's array when it runs, so load_state_dict is seen."""
    model = MLP([2, 3, 1], seed=0)
    compiled = tg.compile(lambda X: model(X))
    X = np.ones((2, 1))
    compiled(X)
    state = {k: v * 2 for k, v in model.state_dict().items()}
    model.load_state_dict(state)
    assert np.array_equal(compiled(X).data, model(X).data)


def test_a_constant_replaced_between_calls_is_followed() -> None:
    """A tensor the step reads from a closure: replacing its values makes the step record
    again (its read-only array was the buffer itself, not a copy)."""
    X = Tensor(np.ones((2, 3)))
    w = Tensor(np.array([[1.0, 2.0]]))
    compiled = tg.compile(lambda: w @ X)
    assert np.array_equal(compiled().data, [[3.0, 3.0, 3.0]])
    X.data = np.full((2, 3), 2.0)
    assert np.array_equal(compiled().data, [[6.0, 6.0, 6.0]])
    assert compiled.recordings == 2


def test_gradients_accumulate_when_the_step_does_not_clear_them() -> None:
    w = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    compiled = tg.compile(lambda x: (w * x).sum().backward())
    w.grad = None
    compiled(np.array([3.0, 4.0]))
    w.grad = None  # cleared outside the step: the replay stores a fresh gradient
    compiled(np.array([5.0, 6.0]))
    assert np.array_equal(w.grad, [5.0, 6.0])


def test_each_thread_records_its_own_trace() -> None:
    compiled = tg.compile(lambda x: x * 2 + 1)
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            results[i] = compiled(np.full(4, float(i))).data

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert np.array_equal(results[i], np.full(4, 2.0 * i + 1))
    assert compiled.recordings == 4  # a trace per thread: replays write into their buffers


# --- what cannot be traced --------------------------------------------------------------------


def parameter_step(body):
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        cost = (w * x).sum()
        return body(w, cost, opt)

    return tg.compile(step)


@pytest.mark.parametrize(
    "read",
    [
        lambda w, cost, opt: cost.item(),
        lambda w, cost, opt: float(cost),
        lambda w, cost, opt: bool(cost),
        lambda w, cost, opt: cost.tolist(),
        lambda w, cost, opt: cost.numpy(),
        lambda w, cost, opt: cost > 0,
        lambda w, cost, opt: w < 1,
        lambda w, cost, opt: w == 1,
        lambda w, cost, opt: 1.0 in cost,
        lambda w, cost, opt: np.asarray(cost),
        lambda w, cost, opt: np.array(w) * 2,
    ],
)
def test_reading_values_while_recording_is_an_error(read) -> None:
    compiled = parameter_step(read)
    with pytest.raises(TraceError, match="into Python while the step is being traced"):
        compiled(np.ones(2))


def test_changing_gradients_in_python_is_an_error() -> None:
    def clip_in_numpy(w, cost, opt):
        cost.backward()
        w.grad = np.clip(w.grad, -0.5, 0.5)
        opt.step()

    with pytest.raises(TraceError, match="did not produce"):
        parameter_step(clip_in_numpy)(np.ones(2))


def test_changing_parameters_outside_the_optimizer_is_an_error() -> None:
    def constrain(w, cost, opt):
        cost.backward()
        opt.step()
        tg.apply_max_norm({"W": w}, 0.5)

    with pytest.raises(TraceError, match=r"replaced the values|after optimizer\.step"):
        parameter_step(constrain)(np.ones(2))


def test_updating_parameters_in_place_is_an_error() -> None:
    def manual_sgd(w, cost, opt):
        cost.backward()
        with tg.no_grad():
            w -= 0.1 * Tensor(w.grad)

    with pytest.raises(TraceError, match="replaced the values"):
        parameter_step(manual_sgd)(np.ones(2))


def test_clearing_a_gradient_by_hand_is_caught_at_replay() -> None:
    w = Tensor(np.array([1.0, -2.0]), requires_grad=True)
    opt = SGD([w], lr=0.1)

    def step(x):
        w.grad = None  # not zero_grad(): the tape does not see it
        (w * x).sum().backward()
        opt.step()

    compiled = tg.compile(step)
    compiled(np.ones(2))
    with pytest.raises(TraceError, match="changed outside"):
        compiled(np.ones(2))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (lambda w, cost, opt: cost.item() and None, "into Python"),
        (lambda w, cost, opt: 1.0, "returned a float"),
        (lambda w, cost, opt: tg.grad(cost, w), "grad"),
        (lambda w, cost, opt: (cost * 2).retain_grad().backward(), "retain_grad"),
    ],
)
def test_untraceable_steps_name_the_problem(body, message) -> None:
    with pytest.raises(TraceError, match=message):
        parameter_step(body)(np.ones(2))


def test_arguments_are_checked() -> None:
    compiled = tg.compile(lambda x: x * 2)
    with pytest.raises(TraceError, match="requires grad"):
        compiled(Tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="argument 0 is a list"):
        compiled([1.0, 2.0])
    with pytest.raises(TraceError, match="inside another"):
        tg.compile(lambda x: compiled(x))(np.ones(1))


def test_a_failed_recording_leaves_nothing_behind() -> None:
    compiled = parameter_step(lambda w, cost, opt: cost.item())
    with pytest.raises(TraceError):
        compiled(np.ones(2))
    assert all(paths == [] for paths in compiled.traces.values())
    assert tg.engine.hooks.recorder is None
    assert (Tensor([1.0]) > 0).all()  # value reads work again outside the trace


# --- fit(compiled=True) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"batch_size": 7, "penalty": "l2", "lambd": 0.5},
        {"batch_size": 10, "classes": 3},
        {"validation_split": 0.25, "early_stopping": 2, "log_every": 3, "penalty": "elastic"},
    ],
    ids=["full batch", "mini-batches", "3 classes", "early stopping"],
)
def test_fit_compiled_equals_fit(options: dict) -> None:
    options = dict(options)
    classes = options.pop("classes", 1)
    rng = np.random.RandomState(0)
    X = rng.randn(3, 40)
    Y = rng.randint(0, classes, (1, 40)) if classes > 1 else (rng.rand(1, 40) > 0.5) * 1.0
    results = []
    for compiled in (False, True):
        model = MLP([3, 8, classes], keep_prob=0.8, seed=2)
        opt = Adam(model.parameters(), lr=0.05)
        history = tg.fit(
            model,
            X,
            Y,
            optimizer=opt,
            iterations=25,
            progress=False,
            compiled=compiled,
            **{"log_every": 1, **options},
        )
        results.append((history, [p.data for p in model.parameters()]))
    (eager, eager_params), (replayed, replayed_params) = results
    assert eager.costs == replayed.costs and eager.iterations == replayed.iterations
    assert eager.val_costs == replayed.val_costs and eager.steps == replayed.steps
    for p, q in zip(eager_params, replayed_params, strict=True):
        assert np.array_equal(p, q)


def test_cli_train_compile_gives_the_same_model(tmp_path, capsys) -> None:
    from tinygrad_reg.app import cli

    saved = []
    for flags in ([], ["--compile"]):
        out = tmp_path / ("compiled" if flags else "eager")
        argv = ["train", "--dataset", "circles", "--iterations", "30", "--keep-prob", "0.8"]
        argv += ["--optimizer", "adam", "--batch-size", "50", "--no-plots", "--out", str(out)]
        assert cli.main([*argv, *flags]) == 0, capsys.readouterr().err
        saved.append(tg.load(out / "model.npz"))
    eager, compiled = (MLP(c.metadata["layer_dims"]) for c in saved)
    saved[0].restore(eager)
    saved[1].restore(compiled)
    for p, q in zip(eager.parameters(), compiled.parameters(), strict=True):
        assert np.array_equal(p.data, q.data)

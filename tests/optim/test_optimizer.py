"""Parameter groups (optim/optimizer.py) on every optimizer, compared with torch.optim over many
steps; bad groups and bad values set between steps are refused naming them.

Tolerance, from the arithmetic: both sides compute the same rule in float64 in a different
order (numpy expressions against torch's fused in-place ops), so each step's move Δp differs by
at most K roundings of |Δp| (K = 16 covers the ~10 operations of the longest rule, doubled),
and a rule with running averages carries the relative error of its state from step to step,
growing linearly with the step s; p ← p − Δp (and AdamW's decay of p) adds up to two
roundings of |p| on each side. Summed over the steps:
|ours − torch| <= U·Σₛ (K·s·|Δpₛ| + 4·|pₛ|). The gradients are kept away from 0 by
construction (|g| in [0.1, 2]) so that Adam's and RMSprop's √v never sits at its kink, where
the rules themselves are ill-conditioned.
"""

import re

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinygrad_reg import Tensor
from tinygrad_reg.nn import MLP
from tinygrad_reg.optim import SGD, Adagrad, Adam, AdamW, ProximalSGD, RMSprop

STEPS = 30
U = np.finfo(np.float64).eps / 2
K = 16

# name → (our class, torch's class, the constructor's keywords, each group's own keywords)
CASES = {
    "sgd": (SGD, torch.optim.SGD, {"lr": 0.05}, [{"weight_decay": 0.01}, {"lr": 0.1}]),
    "momentum": (
        SGD, torch.optim.SGD, {"lr": 0.05, "momentum": 0.9},
        [{"nesterov": True, "weight_decay": 0.02}, {"momentum": 0.5, "dampening": 0.3}],
    ),
    "adam": (
        Adam, torch.optim.Adam, {"lr": 0.01},
        [{"betas": (0.8, 0.99), "weight_decay": 0.05}, {"lr": 0.03, "eps": 1e-6}],
    ),
    "adamw": (
        AdamW, torch.optim.AdamW, {"lr": 0.01},
        [{"weight_decay": 0.1}, {"weight_decay": 0.0, "betas": (0.5, 0.9)}],
    ),
    "rmsprop": (
        RMSprop, torch.optim.RMSprop, {"lr": 0.01},
        [{"momentum": 0.9, "weight_decay": 0.01}, {"centered": True, "alpha": 0.9}],
    ),
    "rmsprop centered momentum": (
        RMSprop, torch.optim.RMSprop, {"lr": 0.005, "centered": True, "momentum": 0.5},
        [{"eps": 1e-6}, {"alpha": 0.8, "weight_decay": 0.1}],
    ),
    # torch's Adagrad fills its sums with the constructor's initial_accumulator_value, not
    # the group's (ours uses the group's, as for every other key): given to the constructor
    "adagrad": (
        Adagrad, torch.optim.Adagrad, {"lr": 0.1, "initial_accumulator_value": 0.5},
        [{"lr_decay": 0.01, "weight_decay": 0.02}, {"lr": 0.05, "eps": 1e-6}],
    ),
}  # fmt: skip


@st.composite
def parameters_and_seed(draw):
    """Two or three float64 parameters and a seed for their gradients."""
    count = draw(st.integers(2, 3))
    shapes = [draw(array_shapes(min_dims=0, max_dims=2, max_side=4)) for _ in range(count)]
    values = st.floats(-2.0, 2.0, allow_nan=False, allow_subnormal=False)
    params = [draw(arrays(np.float64, shape, elements=values)) for shape in shapes]
    return params, draw(st.integers(0, 2**32 - 1))


def gradients(params, seed):
    """STEPS random non-uniform gradients for each parameter, |g| in [0.1, 2]."""
    rng = np.random.default_rng(seed)
    return [
        [rng.choice([-1.0, 1.0], p.shape) * rng.uniform(0.1, 2.0, p.shape) for p in params]
        for _ in range(STEPS)
    ]


def run_both(case, params, seed, grouped, change_at=None):
    """Our optimizer and torch's on the same parameters and gradients; returns both
    trajectories, step by step. ``grouped``: the last parameter in a group of its own, each
    group with its own keywords. ``change_at``: the step at which every group's lr is halved."""
    ours_class, torch_class, defaults, group_keywords = CASES[case]
    ours = [Tensor(p, requires_grad=True) for p in params]
    theirs = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]

    def groups(tensors):
        if not grouped:
            return tensors
        return [
            {"params": tensors[:-1], **group_keywords[0]},
            {"params": tensors[-1:], **group_keywords[1]},
        ]

    ours_optimizer = ours_class(groups(ours), **defaults)
    torch_optimizer = torch_class(groups(theirs), **defaults)
    trajectories = ([], [])
    for step, grads in enumerate(gradients(params, seed)):
        if step == change_at:
            for optimizer in (ours_optimizer, torch_optimizer):
                for group in optimizer.param_groups:
                    group["lr"] = group["lr"] / 2
        for p, t, g in zip(ours, theirs, grads, strict=True):
            p.grad, t.grad = g.copy(), torch.tensor(g)
        ours_optimizer.step()
        torch_optimizer.step()
        trajectories[0].append([p.numpy() for p in ours])
        trajectories[1].append([t.detach().numpy().copy() for t in theirs])
    return trajectories


def assert_close_to_torch(params, ours, theirs):
    for i in range(len(params)):
        bound, previous = np.zeros_like(params[i]), params[i]
        for s in range(STEPS):
            current = theirs[s][i]
            bound = bound + U * (K * (s + 1) * np.abs(current - previous) + 4 * np.abs(current))
            difference = np.abs(ours[s][i] - current)
            assert np.all(difference <= bound), (i, s, difference.max(), bound.min())
            previous = current


@pytest.mark.parametrize("grouped", [False, True], ids=["one group", "two groups"])
@pytest.mark.parametrize("case", list(CASES))
@given(parameters_and_seed())
def test_every_optimizer_and_group_configuration_matches_torch(case, grouped, drawn):
    params, seed = drawn
    ours, theirs = run_both(case, params, seed, grouped)
    assert_close_to_torch(params, ours, theirs)


@pytest.mark.parametrize("case", list(CASES))
@given(parameters_and_seed())
def test_a_learning_rate_changed_in_the_groups_between_steps_matches_torch(case, drawn):
    params, seed = drawn
    ours, theirs = run_both(case, params, seed, grouped=True, change_at=STEPS // 2)
    assert_close_to_torch(params, ours, theirs)


@pytest.mark.parametrize("case", list(CASES))
def test_defaults_and_group_structure_are_pytorchs(case):
    ours_class, torch_class, _, _ = CASES[case]
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    ta, tb = torch.zeros(1, requires_grad=True), torch.zeros(1, requires_grad=True)
    kwargs = {"lr": 0.1} if ours_class is SGD else {}
    ours = ours_class([{"params": [a]}, {"params": b, "lr": 0.5}], **kwargs)
    theirs = torch_class([{"params": [ta]}, {"params": tb, "lr": 0.5}], **kwargs)
    assert len(ours.param_groups) == 2
    assert ours.param_groups[0]["params"] == [a] and ours.param_groups[1]["params"] == [b]
    assert ours.param_groups[1]["lr"] == 0.5
    for name in ours_class.hyperparameters:
        for group, torch_group in zip(ours.param_groups, theirs.param_groups, strict=True):
            expected = torch_group[name]
            assert group[name] == (tuple(expected) if isinstance(expected, tuple) else expected)
        assert ours.defaults[name] == theirs.defaults[name]


def test_add_param_group_takes_the_defaults_and_its_parameters_step():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    optimizer = SGD([a], lr=0.1, weight_decay=0.5)
    optimizer.add_param_group({"params": [b], "lr": 0.2})
    assert optimizer.param_groups[1]["weight_decay"] == 0.5 and optimizer.params == [a, b]
    a.grad, b.grad = np.array([1.0]), np.array([1.0])
    optimizer.step()
    np.testing.assert_array_equal(b.data, [2.0 - 0.2 * (1.0 + 0.5 * 2.0)])
    np.testing.assert_array_equal(a.data, [1.0 - 0.1 * (1.0 + 0.5 * 1.0)])


def test_the_attribute_sets_every_group_and_reads_their_common_value():
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    optimizer = Adam([{"params": [a]}, {"params": [b], "lr": 0.5}])
    with pytest.raises(AttributeError, match=r"different values \[0.001, 0.5\]"):
        _ = optimizer.lr
    optimizer.lr = 0.2
    assert [g["lr"] for g in optimizer.param_groups] == [0.2, 0.2] and optimizer.lr == 0.2
    with pytest.raises(AttributeError, match="no attribute 'learning_rate'"):
        _ = optimizer.learning_rate


def test_no_weight_decay_on_the_biases_is_two_optimizers_in_one():
    model_a, model_b = MLP([2, 3, 1], seed=0), MLP([2, 3, 1], seed=0)
    split = [(n[0] == "W", p) for n, p in model_a.named_parameters()]
    grouped = SGD(
        [
            {"params": [p for is_w, p in split if is_w]},
            {"params": [p for is_w, p in split if not is_w], "weight_decay": 0.0},
        ],
        lr=0.1, momentum=0.9, weight_decay=0.05,
    )  # fmt: skip
    names = [n for n, _ in model_b.named_parameters()]
    weights = [p for n, p in zip(names, model_b.parameters()) if n[0] == "W"]
    biases = [p for n, p in zip(names, model_b.parameters()) if n[0] != "W"]
    pair = [SGD(weights, 0.1, 0.9, weight_decay=0.05), SGD(biases, 0.1, 0.9)]
    rng = np.random.default_rng(3)
    for _ in range(5):
        for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
            p.grad = rng.standard_normal(p.shape)
            q.grad = p.grad.copy()
        grouped.step()
        for optimizer in pair:
            optimizer.step()
    for p, q in zip(model_a.parameters(), model_b.parameters(), strict=True):
        np.testing.assert_array_equal(p.data, q.data)


# --- bad groups -------------------------------------------------------------------------------


def two():
    return Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda a, b: SGD([{"params": [a]}, {"params": [a, b]}], lr=0.1), ValueError,
         r"param_groups\[1\]\['params'\]\[0\] \(shape \(1,\)\) is already in param_groups\[0\]"),
        (lambda a, b: Adam([{"params": [a], "learning_rate": 0.1}]), ValueError,
         r"param_groups\[0\] has unknown keys \['learning_rate'\]"),
        (lambda a, b: Adam([{"params": [a]}, {"params": [b], "betas": (0.9, 1.5)}]), ValueError,
         r"param_groups\[1\]\['betas'\]\[1\] = 1.5"),
        (lambda a, b: RMSprop([{"params": [a], "alpha": -0.1}]), ValueError,
         r"param_groups\[0\]\['alpha'\] = -0.1"),
        (lambda a, b: SGD([{"params": [a], "nesterov": True}], lr=0.1), ValueError,
         r"param_groups\[0\]\['nesterov'\]=True needs momentum > 0"),
        (lambda a, b: Adagrad([{"params": [a], "lr": "fast"}]), TypeError,
         r"param_groups\[0\]\['lr'\] = 'fast'"),
        (lambda a, b: SGD([{"lr": 0.1}], lr=0.1), TypeError, "expected a dict with a 'params'"),
        (lambda a, b: SGD([{"params": [a]}, b], lr=0.1), TypeError, "mixes dicts"),
        (lambda a, b: SGD([{"params": []}], lr=0.1), ValueError, r"\['params'\] is empty"),
        (lambda a, b: SGD([a], lr=0.1).add_param_group({"params": [a]}), ValueError,
         r"add_param_group: param_groups\[1\]\['params'\]\[0\].*already in param_groups\[0\]"),
    ],
)  # fmt: skip
def test_bad_groups_are_refused_naming_the_group_and_key(make, error, message):
    with pytest.raises(error, match=message):
        make(*two())


@pytest.mark.parametrize(
    ("case", "key", "value", "error", "shown"),
    [
        ("sgd", "lr", -0.1, ValueError, "['lr'] = -0.1"),
        ("sgd", "lr", float("nan"), ValueError, "['lr'] = nan"),
        ("momentum", "nesterov", "yes", TypeError, "['nesterov'] = 'yes'"),
        ("adam", "betas", (0.9, 1.0), ValueError, "['betas'][1] = 1.0"),
        ("adamw", "weight_decay", float("inf"), ValueError, "['weight_decay'] = inf"),
        ("rmsprop", "centered", 1, TypeError, "['centered'] = 1"),
        ("adagrad", "lr_decay", -1.0, ValueError, "['lr_decay'] = -1.0"),
    ],
)
def test_a_bad_value_set_between_steps_is_refused_by_the_next_and_nothing_moves(
    case, key, value, error, shown
):
    ours_class, _, defaults, group_keywords = CASES[case]
    a, b = two()
    optimizer = ours_class([{"params": [a]}, {"params": [b], **group_keywords[1]}], **defaults)
    for p in (a, b):
        p.grad = np.array([0.5])
    optimizer.step()
    values, state = [a.numpy(), b.numpy()], optimizer.state_dict()
    good = optimizer.param_groups[1][key]
    optimizer.param_groups[1][key] = value
    with pytest.raises(error, match=re.escape(f"step: param_groups[1]{shown}")):
        optimizer.step()
    optimizer.param_groups[1][key] = good
    np.testing.assert_array_equal(a.data, values[0])
    np.testing.assert_array_equal(b.data, values[1])
    after = optimizer.state_dict()
    for name, array in state.items():
        np.testing.assert_array_equal(after[name], array, err_msg=name)


# --- state_dict with groups -------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_state_dict_carries_each_groups_hyperparameters_and_continues_bit_for_bit(case):
    ours_class, _, defaults, group_keywords = CASES[case]
    rng = np.random.default_rng(5)
    start = [rng.standard_normal((2, 3)), rng.standard_normal((2, 1))]
    grads = [[rng.standard_normal(p.shape) for p in start] for _ in range(6)]

    def make(tensors, **changed):
        groups = [{"params": [tensors[0]], **group_keywords[0]}, {"params": [tensors[1]]}]
        groups[1].update(group_keywords[1])
        return ours_class(groups, **{**defaults, **changed})

    def steps(optimizer, tensors, some):
        for gs in some:
            for p, g in zip(tensors, gs, strict=True):
                p.grad = g.copy()
            optimizer.step()

    tensors = [Tensor(p, requires_grad=True) for p in start]
    optimizer = make(tensors)
    steps(optimizer, tensors, grads[:3])
    optimizer.param_groups[1]["lr"] = 0.25  # a schedule's change, saved with the state
    saved, saved_values = optimizer.state_dict(), [p.numpy() for p in tensors]
    steps(optimizer, tensors, grads[3:])

    restored_tensors = [Tensor(v, requires_grad=True) for v in saved_values]
    restored = make(restored_tensors, lr=123.0)
    restored.load_state_dict(saved)
    assert restored.param_groups[1]["lr"] == 0.25
    for group, original in zip(restored.param_groups, optimizer.param_groups, strict=True):
        assert {k: v for k, v in group.items() if k != "params"} == {
            k: v for k, v in original.items() if k != "params"
        }
    steps(restored, restored_tensors, grads[3:])
    for p, q in zip(tensors, restored_tensors, strict=True):
        np.testing.assert_array_equal(p.data, q.data)


def test_a_state_saved_before_groups_loads_as_one_group():
    a, b = two()
    old = {  # the layout of the checkpoints written before parameter groups; no dampening yet
        "type": np.array("SGD"), "lr": np.array(0.1), "momentum": np.array(0.9),
        "nesterov": np.array(False), "weight_decay": np.array(0.0),
        "0.momentum_buffer": np.array([1.0]), "1.momentum_buffer": np.array([2.0]),
    }  # fmt: skip
    restored = SGD([a, b], lr=1.0)
    restored.load_state_dict(old)
    assert restored.param_groups[0]["lr"] == 0.1 and restored.param_groups[0]["momentum"] == 0.9
    assert restored.param_groups[0]["dampening"] == 0.0  # the current value, as PyTorch fills it
    np.testing.assert_array_equal(restored.state[1]["momentum_buffer"], [2.0])


def test_a_state_with_other_groups_is_refused_and_nothing_changes():
    a, b = two()
    one_group = SGD([a, b], lr=0.1).state_dict()
    optimizer = SGD([{"params": [a]}, {"params": [b], "lr": 0.2}], lr=0.1)
    with pytest.raises(ValueError, match=r"parameter groups \['0'\]; this optimizer has 2"):
        optimizer.load_state_dict(one_group)
    assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.2]


def test_proximal_sgd_thresholds_per_group():
    w, b = Tensor([[0.05, -0.05]], requires_grad=True), Tensor([0.05], requires_grad=True)
    optimizer = ProximalSGD([{"params": [w], "l1": 0.1}, {"params": [b]}], lr=1.0)
    w.grad, b.grad = np.zeros((1, 2)), np.zeros(1)
    optimizer.step()
    np.testing.assert_array_equal(w.data, [[0.0, 0.0]])
    np.testing.assert_array_equal(b.data, [0.05])  # its group's l1 is the default, 0


def test_step_rechecks_a_hyperparameter_changed_after_a_checked_step():
    """step skips the groups' check while every value is the object it checked; a value set
    between steps (a new object), or a list changed in place, is checked again."""
    w = Tensor(np.ones(3), requires_grad=True)
    optimizer = SGD([w], lr=0.1)
    for bad in (-1.0, float("nan"), "0.1"):
        w.grad = np.ones(3)
        optimizer.step()  # checked and remembered
        optimizer.param_groups[0]["lr"] = bad
        w.grad = np.ones(3)
        before = w.data.copy()
        with pytest.raises((ValueError, TypeError), match="lr"):
            optimizer.step()
        np.testing.assert_array_equal(w.data, before)
        optimizer.param_groups[0]["lr"] = 0.1
    adam = Adam([w], lr=0.1)
    w.grad = np.ones(3)
    adam.step()
    adam.param_groups[0]["betas"] = [0.9, 0.999]
    adam.step()
    adam.param_groups[0]["betas"][1] = 1.5  # in place: the same list object
    w.grad = np.ones(3)
    with pytest.raises(ValueError, match="betas"):
        adam.step()

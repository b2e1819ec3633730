"""Learning-rate schedules: every schedule step for step against torch.optim.lr_scheduler (the
learning rates equal to the float), with 1 and 2 parameter groups under every optimizer; the
plateau schedule fed the same metrics; state_dict round trips; errors."""

import io

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg import Tensor
from tinygrad_reg import optim as ours
from tinygrad_reg.optim import schedules

STEPS = 40
rates = st.floats(1e-4, 1.0)
gammas = st.floats(0.05, 1.0)


@st.composite
def schedule(draw):
    """A schedule's name and keyword arguments, drawn within what both libraries accept."""
    name = draw(
        st.sampled_from(["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR"])
    )
    if name == "StepLR":
        kwargs = {"step_size": draw(st.integers(1, 12)), "gamma": draw(gammas)}
    elif name == "MultiStepLR":
        kwargs = {
            "milestones": draw(st.lists(st.integers(0, STEPS), max_size=5)),
            "gamma": draw(gammas),
        }
    elif name == "ExponentialLR":
        kwargs = {"gamma": draw(gammas)}
    elif name == "CosineAnnealingLR":
        kwargs = {"T_max": draw(st.integers(1, 15)), "eta_min": draw(st.floats(0.0, 1e-3))}
    else:
        kwargs = {
            "start_factor": draw(st.floats(0.01, 1.0)),
            "end_factor": draw(st.floats(0.0, 1.0)),
            "total_iters": draw(st.integers(1, 15)),
        }
    return name, kwargs


def pair(optimizer_name, lrs, seed=0):
    """The same optimizer in both libraries, one group per lr, each parameter with a gradient."""
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=3) for _ in lrs]
    mine = [Tensor(v, requires_grad=True) for v in values]
    theirs = [torch.tensor(v, requires_grad=True) for v in values]
    mine_opt = getattr(ours, optimizer_name)(
        [{"params": [p], "lr": lr} for p, lr in zip(mine, lrs)]
    )
    torch_opt = getattr(torch.optim, optimizer_name)(
        [{"params": [p], "lr": lr} for p, lr in zip(theirs, lrs)]
    )
    for p, q in zip(mine, theirs):
        p.grad = np.ones(3)
        q.grad = torch.ones(3, dtype=torch.float64)
    return mine_opt, torch_opt


def lrs_of(optimizer):
    return [group["lr"] for group in optimizer.param_groups]


def epoch(optimizer, scheduler, *metric):
    optimizer.step()
    scheduler.step(*metric)


# every optimizer: a schedule rewrites group["lr"], which each one reads in its own rule
optimizers = st.sampled_from(["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
group_rates = st.lists(rates, min_size=1, max_size=2)


@given(schedule(), optimizers, group_rates)
def test_each_schedule_equals_pytorch_step_for_step(drawn, optimizer_name, lrs):
    name, kwargs = drawn
    mine_opt, torch_opt = pair(optimizer_name, lrs)
    mine = getattr(schedules, name)(mine_opt, **kwargs)
    theirs = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    assert lrs_of(mine_opt) == lrs_of(torch_opt)
    for _ in range(STEPS):
        epoch(mine_opt, mine)
        epoch(torch_opt, theirs)
        assert mine.get_last_lr() == at_least_zero(theirs.get_last_lr())
        assert lrs_of(mine_opt) == at_least_zero(lrs_of(torch_opt))
        assert mine.last_epoch == theirs.last_epoch
    assert mine.base_lrs == theirs.base_lrs


def at_least_zero(lrs):
    """PyTorch's rates with the roundings below zero made 0, as ours (LinearLR to 0)."""
    return [max(lr, 0.0) for lr in lrs]


def test_linear_decay_to_zero_ends_at_zero_where_pytorch_rounds_below():
    # found by the release profile: torch's chained rule ends this decay at -3.19e-17
    kwargs = {"start_factor": 0.5749326719986608, "end_factor": 0.0, "total_iters": 4}
    mine_opt, torch_opt = pair("SGD", [1.0])
    mine = schedules.LinearLR(mine_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.LinearLR(torch_opt, **kwargs)
    for _ in range(5):
        epoch(mine_opt, mine)  # SGD.step refuses a negative rate: this would raise
        epoch(torch_opt, theirs)
    assert theirs.get_last_lr()[0] < 0.0
    assert mine.get_last_lr() == [0.0]


@given(st.integers(1, 10), st.floats(0.0, 1e-3), rates, st.integers(0, 3 * 10))
def test_cosine_carries_on_an_lr_set_by_hand_as_pytorch(T_max, eta_min, lr, when):
    mine_opt, torch_opt = pair("SGD", [lr])
    mine = schedules.CosineAnnealingLR(mine_opt, T_max, eta_min)
    theirs = torch.optim.lr_scheduler.CosineAnnealingLR(torch_opt, T_max, eta_min)
    for step in range(3 * T_max + 2):
        if step == when:  # recursive form: the hand-set value is carried on
            mine_opt.param_groups[0]["lr"] = torch_opt.param_groups[0]["lr"] = eta_min + lr / 2
        epoch(mine_opt, mine)
        epoch(torch_opt, theirs)
        assert lrs_of(mine_opt) == lrs_of(torch_opt)


plateau_settings = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["min", "max"]),
        "factor": st.floats(0.0, 0.99),
        "patience": st.integers(0, 4),
        "threshold": st.floats(0.0, 0.2),
        "threshold_mode": st.sampled_from(["rel", "abs"]),
        "cooldown": st.integers(0, 3),
        "min_lr": st.floats(0.0, 1e-3),
        "eps": st.sampled_from([1e-8, 1e-3]),
    }
)
# Few distinct values, so plateaus (repeats) and ties occur.
metric_sequences = st.lists(
    st.sampled_from([0.3, 0.5, 0.51, 0.52, 1.0, 2.0]), min_size=1, max_size=STEPS
)


@given(plateau_settings, optimizers, group_rates, metric_sequences)
def test_reduce_on_plateau_equals_pytorch_fed_the_same_metrics(
    kwargs, optimizer_name, lrs, metrics
):
    mine_opt, torch_opt = pair(optimizer_name, lrs)
    mine = schedules.ReduceLROnPlateau(mine_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_opt, **kwargs)
    for metric in metrics:
        epoch(mine_opt, mine, metric)
        epoch(torch_opt, theirs, metric)
        assert lrs_of(mine_opt) == lrs_of(torch_opt)
        assert mine.get_last_lr() == theirs.get_last_lr()
        assert (mine.best, mine.num_bad_epochs, mine.cooldown_counter) == (
            theirs.best,
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )


def saved_and_loaded(state_dict):
    """Through an npz file without pickle, as a checkpoint stores it."""
    buffer = io.BytesIO()
    np.savez(buffer, **state_dict)
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as npz:
        return {key: npz[key] for key in npz.files}


@given(schedule(), optimizers, group_rates, st.integers(0, STEPS), metric_sequences)
def test_state_dict_round_trip_continues_bit_for_bit(drawn, optimizer_name, lrs, stop, metrics):
    name, kwargs = drawn
    cases = [(getattr(schedules, name), kwargs, [()] * STEPS)]
    cases.append((schedules.ReduceLROnPlateau, {"patience": 1}, [(m,) for m in metrics]))
    for make, kwargs, arguments in cases:
        whole_opt, _ = pair(optimizer_name, lrs)
        whole = make(whole_opt, **kwargs)
        first_opt, _ = pair(optimizer_name, lrs)
        first = make(first_opt, **kwargs)
        cut = min(stop, len(arguments))
        for argument in arguments[:cut]:
            epoch(whole_opt, whole, *argument)
            epoch(first_opt, first, *argument)
        resumed_opt, _ = pair(optimizer_name, lrs)
        resumed = make(resumed_opt, **kwargs)
        resumed_opt.load_state_dict(saved_and_loaded(first_opt.state_dict()))
        resumed.load_state_dict(saved_and_loaded(first.state_dict()))
        for p, q in zip(resumed_opt.params, first_opt.params):
            p.data = q.data
        for argument in arguments[cut:]:
            epoch(whole_opt, whole, *argument)
            epoch(resumed_opt, resumed, *argument)
            assert lrs_of(resumed_opt) == lrs_of(whole_opt)
            assert resumed.state().keys() == whole.state().keys()
            for key, value in whole.state().items():
                assert resumed.state()[key] == value, key
        for p, q in zip(resumed_opt.params, whole_opt.params):
            np.testing.assert_array_equal(p.numpy(), q.numpy())


def test_load_state_dict_refuses_another_schedule_and_changes_nothing():
    optimizer, _ = pair("SGD", [0.1])
    step = schedules.StepLR(optimizer, step_size=2)
    cosine = schedules.CosineAnnealingLR(optimizer, T_max=5)
    before = cosine.state()
    with pytest.raises(ValueError, match="saved by 'StepLR'; expected 'CosineAnnealingLR'"):
        cosine.load_state_dict(step.state_dict())
    bad = cosine.state_dict() | {"base_lrs": np.array([0.1, 0.2])}
    with pytest.raises(ValueError, match="'base_lrs' holds 2 values; this optimizer has 1"):
        cosine.load_state_dict(bad)
    assert cosine.state() == before


BAD_ARGUMENTS = [
    ("StepLR", {"step_size": 0}, r"StepLR: step_size = 0; expected an integer >= 1"),
    ("StepLR", {"step_size": 2.5}, r"StepLR: step_size = 2.5 is a float"),
    ("ExponentialLR", {"gamma": -1}, r"ExponentialLR: gamma = -1.0; expected a number >= 0"),
    ("MultiStepLR", {"milestones": [3, -1]}, r"MultiStepLR: milestones\[\] = -1; expected"),
    ("CosineAnnealingLR", {"T_max": 0}, r"CosineAnnealingLR: T_max = 0; expected an integer"),
    ("LinearLR", {"start_factor": 0}, r"LinearLR: start_factor = 0.0; expected a number > 0"),
    ("LinearLR", {"end_factor": 1.5}, r"LinearLR: end_factor = 1.5; expected a number >= 0"),
    ("ReduceLROnPlateau", {"mode": "low"}, r"mode = 'low'; expected one of \['min', 'max'\]"),
    ("ReduceLROnPlateau", {"factor": 1.0}, r"ReduceLROnPlateau: factor = 1.0; expected a n"),
    ("ReduceLROnPlateau", {"min_lr": [0, 0]}, r"min_lr = \[0, 0\] holds 2 values; expected one"),
    ("StepLR", {"step_size": 1, "last_epoch": 3}, r"StepLR: last_epoch = 3 resumes a schedule"),
]


@pytest.mark.parametrize(("name", "kwargs", "match"), BAD_ARGUMENTS)
def test_bad_arguments_are_named_with_the_value_and_what_is_expected(name, kwargs, match):
    optimizer, _ = pair("SGD", [0.1])
    with pytest.raises((ValueError, TypeError, KeyError), match=match):
        getattr(schedules, name)(optimizer, **kwargs)
    assert lrs_of(optimizer) == [0.1]


VALID = {"StepLR": [2], "MultiStepLR": [[2]], "ExponentialLR": [0.5], "CosineAnnealingLR": [5],
         "LinearLR": [], "ReduceLROnPlateau": []}  # fmt: skip


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_schedule_refuses_what_is_not_an_optimizer(name):
    with pytest.raises(TypeError, match=f"{name}: optimizer is a object; expected a tinygrad_reg"):
        getattr(schedules, name)(object(), *VALID[name])


def test_plateau_refuses_a_nan_metric():
    optimizer, _ = pair("SGD", [0.1])
    plateau = schedules.ReduceLROnPlateau(optimizer)
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau\.step: metrics = nan at epoch 1"):
        plateau.step(float("nan"))
    assert plateau.last_epoch == 0

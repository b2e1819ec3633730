"""The tape optimizer (jit/tape_optimizer.py): each pass fires, and replays stay bit-identical."""

import numpy as np

import tinygrad_reg as tg
from tinygrad_reg.jit import tape_optimizer
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.nn.modules import MLP
from tinygrad_reg.nn.regularizers import l2_penalty
from tinygrad_reg.optim import SGD

rng = np.random.RandomState(0)
X, Y = rng.randn(2, 7), (rng.rand(1, 7) > 0.5).astype(float)


def model_and_step(returns_cost):
    model = MLP([2, 4, 1], seed=1)
    sgd = SGD(model.parameters(), lr=0.1)

    def step(X, Y):
        sgd.zero_grad()
        cost = binary_cross_entropy_with_logits(model(X), Y) + l2_penalty(model, 0.7, 7)
        cost.backward()
        sgd.step()
        return cost if returns_cost else None

    return model, step


def test_unread_results_are_dropped_and_replays_equal_eager() -> None:
    model, step = model_and_step(returns_cost=False)
    eager_model, eager_step = model_and_step(returns_cost=False)
    compiled = tg.compile(step)
    for _ in range(4):
        compiled(X, Y)
        eager_step(X, Y)
    [trace] = next(iter(compiled.traces.values()))
    # the penalty's value and the cost's sum are read by nobody: fewer calls than recorded
    assert trace.calls < trace.recorded_calls
    for p, q in zip(model.parameters(), eager_model.parameters()):
        assert np.array_equal(p.data, q.data) and np.array_equal(p.grad, q.grad)


def test_a_returned_cost_keeps_what_computes_it() -> None:
    _, quiet = model_and_step(returns_cost=False)
    _, loud = model_and_step(returns_cost=True)
    quiet, loud = tg.compile(quiet), tg.compile(loud)
    quiet(X, Y)
    cost = loud(X, Y)
    [quiet_trace] = next(iter(quiet.traces.values()))
    [loud_trace] = next(iter(loud.traces.values()))
    assert quiet_trace.recorded_calls == loud_trace.recorded_calls
    assert quiet_trace.calls < loud_trace.calls  # the cost's calls stay when it is returned
    _, eager = model_and_step(returns_cost=True)
    assert np.array_equal(cost.data, eager(X, Y).data)


def test_cleared_grads_overwritten_later_are_dropped() -> None:
    w = tg.Tensor(np.ones(3), requires_grad=True)
    entries = [(setattr, (w, "grad", None)), (setattr, (w, "grad", np.zeros(3)))]
    assert tape_optimizer.without_cleared_grads(entries) == entries[1:]


def test_an_entry_with_effects_is_kept_even_if_unread() -> None:
    draws = np.random.RandomState(0)
    buffer = np.empty(3)
    from tinygrad_reg.jit.tape import into

    entries = [(into, (buffer, draws.random, (3,)))]  # a draw advances the generator
    assert tape_optimizer.without_unread_results(entries, [buffer], [], []) == entries
    pure = [(np.exp, (np.ones(3), buffer))]
    assert tape_optimizer.without_unread_results(pure, [buffer], [], []) == []
    assert tape_optimizer.without_unread_results(pure, [buffer], [], [buffer]) == pure


def bce_step(returns_cost):
    w = tg.Tensor(np.ones((1, 7)), requires_grad=True)
    sgd = SGD([w], lr=1e-310)  # w stays near 1, so w * 5e307 stays finite

    def step(Z, Y):
        sgd.zero_grad()
        cost = binary_cross_entropy_with_logits(w * Z, Y)
        cost.backward()
        sgd.step()
        return cost if returns_cost else None

    return w, step


def test_the_loss_guard_goes_with_an_unread_loss_and_stays_with_a_returned_one() -> None:
    # 5e307 in every column: the terms' sum overflows, so the loss takes its other path
    small, huge = rng.randn(1, 7), np.full((1, 7), 5e307)
    guards = {}
    for returns_cost in (False, True):
        w, step = bce_step(returns_cost)
        eager_w, eager_step = bce_step(returns_cost)
        compiled = tg.compile(step)
        for Z in (small, small, huge, huge):
            got, expected = compiled(Z, Y), eager_step(Z, Y)
            assert np.array_equal(w.data, eager_w.data) and np.array_equal(w.grad, eager_w.grad)
            if returns_cost:
                assert np.array_equal(got.data, expected.data) and np.isfinite(got.item())
        traces = next(iter(compiled.traces.values()))
        guards[returns_cost] = [f for f, _ in traces[-1].entries].count(tape_optimizer.check)
        # unread: one trace serves both paths; returned: the loss's guard chose anew
        assert compiled.recordings == (2 if returns_cost else 1)
    assert guards[True] == guards[False] + 1  # on the first path; the others check Y (labels)

"""L2, L1 and elastic-net penalties: values, gradients, one node, selection, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_reg import Tensor, grad
from tinygrad_reg.nn import (
    MLP,
    BatchNorm2d,
    Conv2d,
    Embedding,
    LayerNorm,
    Linear,
    Module,
    ReLU,
    Sequential,
)
from tinygrad_reg.nn.regularizers import (
    ElasticNet,
    SumOfAbs,
    SumOfSquares,
    elastic_net_penalty,
    is_weight,
    l1_penalty,
    l2_penalty,
    named_weights,
    param_groups_without_decay,
    penalty,
    weights_of,
)
from tinygrad_reg.optim import SGD, Adam, AdamW
from tinygrad_reg.testing import nonzero_floats
from tinygrad_reg.testing.gradcheck import gradcheck

matrix_shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=4)
weights_lists = st.lists(
    hnp.arrays(np.float64, matrix_shapes, elements=nonzero_floats()), min_size=1, max_size=3
)
lambdas = st.floats(0, 5, allow_subnormal=False)  # λ·W stays a normal float
examples = st.integers(1, 64)


def tensors(arrays):
    return [Tensor(a, requires_grad=True) for a in arrays]


@given(weights_lists, lambdas, examples)
def test_l2_is_lambda_over_2m_sum_of_squares_with_gradient_lambda_over_m_w(arrays, lam, m):
    ws = tensors(arrays)
    out = l2_penalty(ws, lam, m)
    assert out.item() == pytest.approx(lam / (2 * m) * sum((a**2).sum() for a in arrays), rel=1e-12)
    out.backward()
    for w, a in zip(ws, arrays):
        np.testing.assert_allclose(w.grad, lam / m * a, rtol=1e-14)


@given(weights_lists, lambdas, examples)
def test_l1_is_lambda_over_m_sum_of_abs_with_gradient_lambda_over_m_sign(arrays, lam, m):
    ws = tensors(arrays)
    out = l1_penalty(ws, lam, m)
    assert out.item() == pytest.approx(lam / m * sum(np.abs(a).sum() for a in arrays), rel=1e-12)
    out.backward()
    for w, a in zip(ws, arrays):
        np.testing.assert_allclose(w.grad, lam / m * np.sign(a), rtol=1e-14)


@given(weights_lists, lambdas, lambdas, examples)
def test_elastic_net_is_the_sum_of_both(arrays, l1, l2, m):
    ws = tensors(arrays)
    out = elastic_net_penalty(ws, l1, l2, m)
    expected = l1_penalty(ws, l1, m).item() + l2_penalty(ws, l2, m).item()
    assert out.item() == pytest.approx(expected, rel=1e-12)
    out.backward()
    for w, a in zip(ws, arrays):
        np.testing.assert_allclose(w.grad, l1 / m * np.sign(a) + l2 / m * a, rtol=1e-13)


@given(weights_lists, st.floats(0.1, 5), examples)
def test_every_penalty_passes_gradcheck(arrays, lam, m):
    for make in (
        lambda *ws: l2_penalty(list(ws), lam, m),
        lambda *ws: l1_penalty(list(ws), lam, m),
        lambda *ws: elastic_net_penalty(list(ws), lam, 2 * lam, m),
    ):
        assert gradcheck(make, arrays)


@given(weights_lists, lambdas, examples)
def test_second_derivatives_l2_is_lambda_over_m_l1_is_0(arrays, lam, m):
    ws = tensors(arrays)
    u = [np.random.default_rng(i).standard_normal(a.shape) for i, a in enumerate(arrays)]
    first = grad(l2_penalty(ws, lam, m), ws, create_graph=True)
    directional = sum((g * ui).sum() for g, ui in zip(first, u))
    second = grad(directional, ws)
    for s, ui in zip(second, u):
        np.testing.assert_allclose(s.data, lam / m * ui, rtol=1e-14, atol=1e-300)
    # λ/m·sign(W) is piecewise constant: a graph that depends on no weight
    first = grad(l1_penalty(ws, lam, m), ws, create_graph=True)
    assert not any(g.requires_grad for g in first)


def test_at_w_equal_0_the_l1_gradient_is_0():
    w = Tensor([[0.0, 2.0, -3.0]], requires_grad=True)
    l1_penalty([w], 1.0, 1).backward()
    np.testing.assert_array_equal(w.grad, [[0.0, 1.0, -1.0]])


@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (lambda ws: l2_penalty(ws, 0.1, 5), SumOfSquares),
        (lambda ws: l1_penalty(ws, 0.1, 5), SumOfAbs),
        (lambda ws: elastic_net_penalty(ws, 0.1, 0.2, 5), ElasticNet),
    ],
)
def test_each_penalty_is_one_node_over_all_weights(make, kind):
    ws = [Tensor(np.ones((2, 3)), requires_grad=True), Tensor(np.ones((1, 2)), requires_grad=True)]
    out = make(ws)
    assert isinstance(out.grad_fn, kind)
    assert all(p is w for p, w in zip(out.grad_fn.parents, ws, strict=True))


# --- what is penalized -----------------------------------------------------------------------


def test_by_default_weights_only_never_biases():
    model = MLP([3, 4, 1], seed=0)
    model.linears[0].b.data = np.full((4, 1), 7.0)
    out = l2_penalty(model, 0.5, 10)
    weights = [model.linears[0].W.data, model.linears[1].W.data]
    assert out.item() == pytest.approx(0.5 / 20 * sum((w**2).sum() for w in weights), rel=1e-14)
    assert out.grad_fn.input_shapes == ((4, 3), (1, 4))
    out.backward()
    assert model.linears[0].b.grad is None


def test_default_selection_by_name():
    assert is_weight("W1") and is_weight("W") and is_weight("layers.0.W") and is_weight("0.weight")
    assert not is_weight("b1") and not is_weight("0.b") and not is_weight("Wrapper.b")
    assert not is_weight("0.bias") and not is_weight("weights")
    model = Sequential(Linear(2, 3, rng=np.random.RandomState(0)), Linear(3, 1))
    out = l1_penalty(model, 1.0, 1)  # names "0.W", "0.b", "1.W", "1.b"
    assert [id(p) for p in out.grad_fn.parents] == [id(model[0].W), id(model[1].W)]


def test_a_dict_of_lambdas_penalizes_exactly_those_each_with_its_own():
    model = MLP([3, 4, 2, 1], seed=0)
    params = dict(model.named_parameters())
    out = l2_penalty(model, {"W2": 0.3, "b1": 2.0}, 8)
    expected = 0.3 / 16 * (params["W2"].data ** 2).sum() + 2.0 / 16 * (params["b1"].data ** 2).sum()
    assert out.item() == pytest.approx(expected, rel=1e-14)
    out.backward()
    np.testing.assert_allclose(params["W2"].grad, 0.3 / 8 * params["W2"].data, rtol=1e-15)
    assert params["W1"].grad is None and params["W3"].grad is None


def test_a_dict_of_tensors_works_like_a_module():
    model = MLP([3, 4, 1], seed=0)
    assert l2_penalty(dict(model.named_parameters()), 0.2, 4).item() == (
        l2_penalty(model, 0.2, 4).item()
    )


def test_elastic_net_with_different_selections_for_each_part():
    model = MLP([3, 4, 1], seed=0)
    W1, W2 = model.linears[0].W, model.linears[1].W
    out = elastic_net_penalty(model, {"W1": 1.0}, {"W2": 2.0}, 4)
    expected = 1.0 / 4 * np.abs(W1.data).sum() + 2.0 / 8 * (W2.data**2).sum()
    assert out.item() == pytest.approx(expected, rel=1e-14)
    out.backward()
    np.testing.assert_allclose(W1.grad, np.sign(W1.data) / 4, rtol=1e-15)
    np.testing.assert_allclose(W2.grad, 2.0 / 4 * W2.data, rtol=1e-15)


def test_float32_weights_give_a_float32_penalty():
    w = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True)
    for out in (l2_penalty([w], 0.1, 3), l1_penalty([w], 0.1, 3), penalty("none", [w], 0.1, 3)):
        assert out.dtype == np.float32


# --- the dispatcher --------------------------------------------------------------------------


def test_penalty_dispatches_by_kind():
    model = MLP([3, 4, 1], seed=0)
    assert penalty("l2", model, 0.3, 5).item() == l2_penalty(model, 0.3, 5).item()
    assert penalty("l1", model, 0.3, 5).item() == l1_penalty(model, 0.3, 5).item()
    elastic = elastic_net_penalty(model, 0.3, 0.3, 5).item()
    assert penalty("elastic", model, 0.3, 5).item() == elastic
    pair = elastic_net_penalty(model, 0.1, 0.7, 5).item()
    assert penalty("elastic", model, (0.1, 0.7), 5).item() == pair
    none = penalty("none", model, 0.3, 5)
    assert none.item() == 0.0 and not none.requires_grad


# --- errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda model: l2_penalty(model, {"W9": 1.0}, 4), ValueError, r"λ given for \['W9'\]"),
        (lambda model: l2_penalty(model, {"W1": -2.0}, 4), ValueError, "λ for W1 is -2.0"),
        (lambda model: l2_penalty(model, -0.1, 4), ValueError, "λ for every parameter is -0.1"),
        (
            lambda model: l1_penalty(model, float("inf"), 4),
            ValueError,
            "λ for every parameter is inf",
        ),
        (lambda model: l2_penalty(model, 0.1, 0), ValueError, "m=0; expected the number"),
        (lambda model: l2_penalty(model, 0.1, 2.5), ValueError, "m=2.5"),
        (lambda model: l2_penalty(model.parameters(), {"W1": 1.0}, 4), TypeError, "got a list"),
        (lambda model: l2_penalty([], 0.1, 4), ValueError, "nothing to penalize"),
        (lambda model: l2_penalty("W1", 0.1, 4), TypeError, "got str"),
        (lambda model: l2_penalty({"W1": np.ones(2)}, 0.1, 4), TypeError, "W1 is a ndarray"),
        (lambda model: penalty("L2", model, 0.1, 4), ValueError, "unknown kind 'L2'"),
    ],
)
def test_bad_arguments_are_named(call, error, message):
    model = MLP([3, 4, 1], seed=0)
    with pytest.raises(error, match=message):
        call(model)


def test_a_model_with_no_weight_names_is_an_error_not_a_silent_zero():
    class Custom(Linear):
        pass

    layer = Custom(2, 2, rng=np.random.RandomState(0))
    layer.weight = layer.__dict__.pop("W")
    with pytest.raises(ValueError, match="nothing to penalize"):
        l2_penalty(layer, 0.1, 4)


def test_elastic_penalty_with_more_than_two_lambdas_names_lambd():
    # issue 11, item 14: was "too many values to unpack"
    model = MLP([2, 3, 1], seed=0)
    with pytest.raises(ValueError, match=r"penalty: elastic lambd = \(1.0, 2.0, 3.0\)"):
        penalty("elastic", model, (1.0, 2.0, 3.0), 4)


def conv_net() -> Sequential:
    rng = np.random.RandomState(0)
    return Sequential(
        Conv2d(2, 3, 3, rng=rng), BatchNorm2d(3), ReLU(), LayerNorm(5), Embedding(4, 5, rng=rng)
    )


def test_the_layers_own_weights_are_penalized_and_biases_and_norms_are_not():
    model = conv_net()
    conv, embedding = model[0], model[4]
    assert [name for name, _ in named_weights(model)] == ["0.weight", "4.weight"]
    out = l2_penalty(model, 0.7, 5)
    by_hand = 0.7 / 10 * ((conv.weight.data**2).sum() + (embedding.weight.data**2).sum())
    assert out.item() == pytest.approx(by_hand, rel=1e-14)
    out.backward()
    np.testing.assert_allclose(conv.weight.grad, 0.7 / 5 * conv.weight.data, rtol=1e-15)
    assert conv.bias.grad is None and model[1].weight.grad is None and model[3].weight.grad is None
    np.testing.assert_array_equal(
        weights_of(model), np.concatenate([conv.weight.data.ravel(), embedding.weight.data.ravel()])
    )


def test_a_module_that_does_not_declare_its_weights_is_read_by_name():
    class Scale(Module):  # no weight_names: "W…" and "weight" are weights, the rest not
        def __init__(self):
            self.weight = Tensor(np.ones(3), requires_grad=True)
            self.offset = Tensor(np.ones(3), requires_grad=True)

    model = Sequential(Scale(), Linear(3, 2, rng=np.random.RandomState(0)))
    assert [name for name, _ in named_weights(model)] == ["0.weight", "1.W"]
    assert l1_penalty(model, 1.0, 1).item() == pytest.approx(3 + np.abs(model[1].W.data).sum())


def torch_twin_of(model: Sequential) -> torch.nn.Sequential:
    """conv_and_linear()'s layers in torch, with the same values."""
    conv, norm, linear = model[0], model[1], model[2]
    twin = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 2), torch.nn.BatchNorm2d(2), torch.nn.Linear(3, 2)
    ).double()
    values = [conv.weight, conv.bias, norm.weight, norm.bias, linear.W, linear.b.reshape(-1)]
    with torch.no_grad():
        for t, v in zip(twin.parameters(), values, strict=True):
            t.copy_(torch.tensor(v.numpy()))
    return twin


def conv_and_linear() -> Sequential:
    rng = np.random.RandomState(1)
    model = Sequential(Conv2d(1, 2, 2, rng=rng), BatchNorm2d(2), Linear(3, 2, rng=rng))
    model[1].weight.data, model[1].bias.data = rng.uniform(0.5, 2, 2), rng.uniform(-1, 1, 2)
    return model


def test_the_no_decay_groups_hold_the_weights_and_then_everything_else():
    model = conv_and_linear()
    conv, norm, linear = model[0], model[1], model[2]
    decayed, plain = param_groups_without_decay(model, 0.01)
    assert [id(p) for p in decayed["params"]] == [id(conv.weight), id(linear.W)]
    assert [id(p) for p in plain["params"]] == list(
        map(id, [conv.bias, norm.weight, norm.bias, linear.b])
    )
    assert (decayed["weight_decay"], plain["weight_decay"]) == (0.01, 0.0)
    no_bias = param_groups_without_decay(Sequential(Conv2d(1, 2, 2, bias=False)), 0.1)
    assert len(no_bias) == 1 and no_bias[0]["weight_decay"] == 0.1  # no empty group


@pytest.mark.parametrize(
    ("ours", "theirs", "options"),
    [
        (SGD, torch.optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (Adam, torch.optim.Adam, {"lr": 0.01}),
        (AdamW, torch.optim.AdamW, {"lr": 0.01}),
    ],
    ids=["SGD", "Adam", "AdamW"],
)
def test_training_with_the_no_decay_groups_equals_torch_with_the_same_split(ours, theirs, options):
    model = conv_and_linear()
    twin = torch_twin_of(model)
    # The split as PyTorch users write it: the weights of the Conv2d and Linear layers decay.
    decays = [
        p
        for module in twin
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear))
        for name, p in module.named_parameters()
        if name == "weight"
    ]
    others = [p for p in twin.parameters() if all(p is not q for q in decays)]
    optimizer = ours(param_groups_without_decay(model, 0.05), **options)
    torch_optimizer = theirs(
        [{"params": decays, "weight_decay": 0.05}, {"params": others, "weight_decay": 0.0}],
        **options,
    )
    rng = np.random.default_rng(0)
    for _ in range(5):  # gradients bounded away from 0, as in tests/optim/test_optimizer.py
        grads = [
            rng.choice([-1.0, 1.0], p.shape) * rng.uniform(0.1, 2.0, p.shape)
            for p in model.parameters()
        ]
        for p, t, g in zip(model.parameters(), twin.parameters(), grads, strict=True):
            p.grad, t.grad = g, torch.tensor(g.reshape(t.shape))
        optimizer.step()
        torch_optimizer.step()
    for p, t in zip(model.parameters(), twin.parameters(), strict=True):
        # 5 steps of a few float64 operations each on values of size ~1: a few roundings
        np.testing.assert_allclose(
            p.numpy().reshape(t.shape), t.detach().numpy(), rtol=1e-13, atol=1e-15
        )

"""nn/dropconnect.py: DropConnectLinear, dropout on the weight entries of a Linear."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import linear_cases, sgd_steps, upstream_gradient

import tinygrad_reg as tg
from tinygrad_reg import Tensor
from tinygrad_reg.nn import MLP, Dropout, Linear
from tinygrad_reg.nn.dropconnect import DropConnectLinear, replace_linears
from tinygrad_reg.testing.gradcheck import gradcheck

keep_probs = st.floats(0.1, 0.95)
seeds = st.integers(0, 2**32 - 1)


@given(linear_cases(keep_probs))
def test_the_mask_is_the_course_draw_on_W_and_gradients_are_those_of_W_mask_over_keep_prob(case):
    """With its mask, the layer is torch's linear of W·M/keep_prob: same output and gradients of
    x, W (through the mask: g@xᵀ·M/keep_prob) and b."""
    n_in, n_out, X, keep_prob, seed = case
    layer = DropConnectLinear(n_in, n_out, keep_prob=keep_prob, rng=np.random.RandomState(seed))
    W0 = layer.W.data.copy()
    x = Tensor(X, requires_grad=True)
    out = layer(x)
    replay = np.random.RandomState(seed)
    replay.standard_normal(W0.shape)  # the init's draw comes first
    assert np.array_equal(layer.mask, replay.random_sample(W0.shape) < keep_prob)
    mask = torch.tensor(layer.mask.astype(np.float64))
    t_x = torch.tensor(X, requires_grad=True)
    t_W = torch.tensor(W0, requires_grad=True)
    t_b = torch.tensor(layer.b.data[:, 0], requires_grad=True)
    t_out = torch.nn.functional.linear(t_x.T, t_W * mask / keep_prob, t_b).T
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = upstream_gradient(seed, out.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    for ours, theirs in [(x.grad, t_x.grad), (layer.W.grad, t_W.grad), (layer.b.grad, t_b.grad)]:
        np.testing.assert_allclose(
            ours.reshape(-1), theirs.numpy().reshape(-1), rtol=1e-12, atol=1e-12
        )
    assert np.all(layer.W.grad[~layer.mask] == 0)  # a dropped weight learns nothing this step


@given(linear_cases(keep_probs))
def test_with_the_mask_fixed_the_gradients_pass_gradcheck(case):
    n_in, n_out, X, keep_prob, seed = case
    weights = upstream_gradient(seed, (n_out, X.shape[1]))
    W0 = DropConnectLinear(n_in, n_out, keep_prob=keep_prob, rng=np.random.RandomState(seed)).W

    def dropped_loss(x, W, b):
        layer = DropConnectLinear(n_in, n_out, keep_prob=keep_prob, rng=np.random.RandomState(seed))
        layer.W, layer.b = W, b  # the same generator state after the init: the same mask each call
        out = layer(x)
        return (out * out * weights).sum()

    b0 = upstream_gradient(seed + 1, (n_out, 1))
    assert gradcheck(dropped_loss, [X, W0.data, b0])


def test_eval_mode_and_keep_prob_1_are_the_plain_linear():
    layer = DropConnectLinear(3, 2, p=0.5, rng=np.random.RandomState(7))
    plain = Linear(3, 2, rng=np.random.RandomState(7))
    assert np.array_equal(layer.W.data, plain.W.data)
    X = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(layer.eval()(X).data, plain(X).data)
    assert not np.array_equal(layer.train()(X).data, plain(X).data)
    kept = DropConnectLinear(3, 2, keep_prob=1.0, rng=np.random.RandomState(7))
    assert np.array_equal(kept(X).data, plain(X).data) and kept.mask is None
    assert [name for name, _ in layer.named_parameters()] == ["W", "b"]
    assert repr(layer) == "DropConnectLinear(in_features=3, out_features=2, p=0.5)"
    assert repr(kept) == "DropConnectLinear(in_features=3, out_features=2, keep_prob=1)"


def test_the_masks_keep_keep_prob_of_the_weights_and_the_mean_weight_is_W():
    """Over 400 fresh masks of a 50×60 W: the kept share is keep_prob and the mean of
    W·M/keep_prob is W, each to within 5 standard errors (binomial: √(kp(1−kp)/n))."""
    keep_prob, draws = 0.7, 400
    layer = DropConnectLinear(60, 50, keep_prob=keep_prob, rng=np.random.RandomState(0))
    masks = []
    for _ in range(draws):
        layer(np.zeros((60, 1)))
        masks.append(layer.mask)
    masks = np.array(masks)
    assert not np.array_equal(masks[0], masks[1])  # a fresh mask on every call
    n = masks.size
    assert abs(masks.mean() - keep_prob) < 5 * np.sqrt(keep_prob * (1 - keep_prob) / n)
    per_weight = masks.mean(axis=0)  # each weight alone, over the draws
    mean_weight = layer.W.data * per_weight / keep_prob
    error = np.abs(layer.W.data) * np.sqrt((1 - keep_prob) / (keep_prob * draws))
    assert np.all(np.abs(mean_weight - layer.W.data) <= 5 * error + 1e-15)


def test_a_bare_number_is_refused_as_by_dropout():
    with pytest.raises(TypeError, match=r"DropConnectLinear: a positional 0\.5 is ambiguous"):
        DropConnectLinear(3, 2, 0.5)
    with pytest.raises(ValueError, match="both given"):
        DropConnectLinear(3, 2, p=0.5, keep_prob=0.5)
    with pytest.raises(ValueError, match="DropConnectLinear: keep_prob=0"):
        DropConnectLinear(3, 2, keep_prob=0)
    assert DropConnectLinear(3, 2).keep_prob == Dropout().keep_prob == 0.5  # PyTorch's default


def test_without_rng_the_thread_generator_draws_init_and_masks():
    tg.manual_seed(5)
    first = DropConnectLinear(4, 3)
    first(np.ones((4, 2)))
    tg.manual_seed(5)
    second = DropConnectLinear(4, 3)
    second(np.ones((4, 2)))
    assert np.array_equal(first.W.data, second.W.data)
    assert np.array_equal(first.mask, second.mask)


def test_a_compiled_step_draws_a_new_mask_each_replay_the_same_as_eager():
    def make_model():
        return DropConnectLinear(3, 2, keep_prob=0.6, rng=np.random.RandomState(4))

    X, Y = np.ones((3, 4)), np.zeros((2, 4))
    eager_costs, eager_values = sgd_steps(make_model, X, Y, 5, compiled=False)
    compiled_costs, compiled_values = sgd_steps(make_model, X, Y, 5, compiled=True)
    assert len(set(eager_costs)) > 1  # new masks
    assert compiled_costs == eager_costs
    assert all(np.array_equal(a, b) for a, b in zip(compiled_values, eager_values, strict=True))


def test_replace_linears_shares_the_parameters_and_keeps_the_names():
    model = MLP([2, 4, 3, 1], seed=3)
    before = model.state_dict()
    tensors = [layer.W for layer in model.linears]
    replace_linears(model, DropConnectLinear, keep_prob=0.5, rng=np.random.RandomState(1))
    assert all(isinstance(layer, DropConnectLinear) for layer in model.linears)
    assert all(layer.W is W for layer, W in zip(model.linears, tensors))  # the same Tensors
    assert [m for m in model.layers if isinstance(m, Linear)] == model.linears
    assert {k: v.tolist() for k, v in model.state_dict().items()} == {
        k: v.tolist() for k, v in before.items()
    }
    X = np.random.RandomState(0).standard_normal((2, 5))
    assert np.array_equal(model.eval()(X).data, MLP([2, 4, 3, 1], seed=3)(X).data)
    model.train()(X)
    assert all(layer.mask is not None for layer in model.linears)

"""nn/noise.py: Gaussian noise on inputs (GaussianNoise) and on weights (WeightNoiseLinear)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import linear_cases, sgd_steps, upstream_gradient

import tinygrad_reg as tg
from tinygrad_reg import Tensor
from tinygrad_reg.nn import Linear, mse_loss
from tinygrad_reg.nn.noise import GaussianNoise, WeightNoiseLinear, standard_normal
from tinygrad_reg.testing.gradcheck import gradcheck

shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=5)
stds = st.floats(0.01, 3)
seeds = st.integers(0, 2**32 - 1)


def box_muller(seed, shape):
    """The draw written out: two uniform arrays from RandomState(seed), in that order."""
    rng = np.random.RandomState(seed)
    u1, u2 = rng.random_sample(shape), rng.random_sample(shape)
    return np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2)


@given(data=st.data(), std=stds, seed=seeds)
def test_train_mode_adds_std_times_the_box_muller_draw_and_passes_the_gradient(data, std, seed):
    x_values = data.draw(hnp.arrays(np.float64, data.draw(shapes), elements=st.floats(-3, 3)))
    noise = GaussianNoise(std, rng=np.random.RandomState(seed))
    x = Tensor(x_values, requires_grad=True)
    out = noise(x)
    expected_noise = std * box_muller(seed, x.shape)
    np.testing.assert_allclose(noise.noise, expected_noise, rtol=1e-15, atol=1e-300)
    np.testing.assert_allclose(out.data, x_values + expected_noise, rtol=1e-15, atol=1e-15)
    g = upstream_gradient(seed, x.shape)
    out.backward(g)
    assert np.array_equal(x.grad, g)


@given(data=st.data(), std=stds, seed=seeds)
def test_with_the_noise_fixed_the_gradient_passes_gradcheck(data, std, seed):
    x_values = data.draw(hnp.arrays(np.float64, data.draw(shapes), elements=st.floats(-3, 3)))
    weights = upstream_gradient(seed, x_values.shape)

    def noisy_loss(x):  # the same generator state on every call: a fixed noise draw
        out = GaussianNoise(std, rng=np.random.RandomState(seed))(x)
        return (out * out * weights).sum()

    assert gradcheck(noisy_loss, [x_values])


def test_eval_mode_and_std_0_are_the_identity():
    x = Tensor(np.ones((2, 3)))
    assert GaussianNoise(0.5).eval()(x) is x
    assert GaussianNoise(0.0)(x) is x


def test_each_call_draws_new_noise_and_the_draws_are_standard_normal():
    """Mean 0 and variance std² to within 5 standard errors of 10⁶ draws (√(2/n)·std² for the
    variance of a normal sample)."""
    n, std = 10**6, 2.0
    noise = GaussianNoise(std, rng=np.random.RandomState(0))
    first, second = noise(np.zeros(n)).data, noise(np.zeros(n)).data
    assert not np.array_equal(first, second)
    assert abs(first.mean()) < 5 * std / np.sqrt(n)
    assert abs(first.var() - std**2) < 5 * std**2 * np.sqrt(2 / n)
    # a normal's fourth moment is 3·std⁴; the uniform's would be 1.8·std⁴
    assert abs(np.mean(first**4) / std**4 - 3) < 0.05


def test_a_generator_works_as_well_as_a_random_state():
    z = standard_normal(np.random.default_rng(1), (3, 4))
    rng = np.random.default_rng(1)
    u1, u2 = rng.random((3, 4)), rng.random((3, 4))
    np.testing.assert_allclose(z, np.sqrt(-2 * np.log(1 - u1)) * np.cos(2 * np.pi * u2))


def test_float32_input_gets_float32_noise():
    out = GaussianNoise(1.0, rng=np.random.RandomState(0))(np.ones((2, 2), dtype=np.float32))
    assert out.dtype == np.float32


def test_input_noise_on_a_linear_model_is_ridge_in_expectation():
    """Bishop's identity, exact for a linear model: E[mse(w·(x + ε) + b, y)] = mse(w·x + b, y)
    + σ²·‖w‖² (one output, mean over the examples). Checked on 4000 draws, to within 5 standard
    errors of their mean."""
    rng = np.random.RandomState(0)
    X, y = rng.standard_normal((3, 8)), rng.standard_normal((1, 8))
    layer, std = Linear(3, 1, rng=rng), 0.3
    noise = GaussianNoise(std, rng=np.random.RandomState(1))
    losses = [mse_loss(layer(noise(X)), y).item() for _ in range(4000)]
    expected = mse_loss(layer(X), y).item() + std**2 * np.sum(layer.W.data**2)
    standard_error = np.std(losses) / np.sqrt(len(losses))
    assert abs(np.mean(losses) - expected) < 5 * standard_error


def test_a_compiled_step_draws_new_noise_each_replay_the_same_as_eager():
    def make_model():
        model = tg.nn.Sequential(GaussianNoise(0.5, rng=np.random.RandomState(4)), Linear(2, 1))
        model[1].W = Tensor([[0.5, -1.0]], requires_grad=True)
        return model

    X, Y = np.ones((2, 3)), np.zeros((1, 3))
    eager_costs, eager_values = sgd_steps(make_model, X, Y, 4, compiled=False)
    compiled_costs, compiled_values = sgd_steps(make_model, X, Y, 4, compiled=True)
    assert len(set(eager_costs)) == 4  # new noise each step
    assert compiled_costs == eager_costs
    assert all(np.array_equal(a, b) for a, b in zip(compiled_values, eager_values, strict=True))


# --- on the weights ----------------------------------------------------------------------------


@given(linear_cases(stds))
def test_weight_noise_forward_and_gradients_as_torch_with_the_same_noisy_weights(case):
    n_in, n_out, X, std, seed = case
    layer = WeightNoiseLinear(n_in, n_out, std=std, rng=np.random.RandomState(seed))
    W0 = layer.W.data.copy()
    x = Tensor(X, requires_grad=True)
    out = layer(x)
    noisy = W0 + layer.noise
    t_x = torch.tensor(X, requires_grad=True)
    t_W = torch.tensor(W0, requires_grad=True)
    t_b = torch.tensor(layer.b.data[:, 0], requires_grad=True)
    t_out = torch.nn.functional.linear(t_x.T, t_W + torch.tensor(layer.noise), t_b).T
    np.testing.assert_allclose(out.data, t_out.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = upstream_gradient(seed, out.shape)
    out.backward(g)
    t_out.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad, t_x.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, t_W.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad[:, 0], t_b.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad, noisy.T @ g, rtol=1e-12, atol=1e-12)  # noisy W in dX


@given(linear_cases(stds))
def test_weight_noise_with_the_noise_fixed_passes_gradcheck(case):
    n_in, n_out, X, std, seed = case
    weights = upstream_gradient(seed, (n_out, X.shape[1]))
    W0 = WeightNoiseLinear(n_in, n_out, std=std, rng=np.random.RandomState(seed)).W.data

    def noisy_loss(x, W):
        layer = WeightNoiseLinear(n_in, n_out, std=std, rng=np.random.RandomState(seed))
        layer.W = W  # the same generator state after the init: the same noise every call
        out = layer(x)
        return (out * out * weights).sum()

    assert gradcheck(noisy_loss, [X, W0])


def test_weight_noise_eval_is_the_plain_linear_and_init_draws_first_from_rng():
    layer = WeightNoiseLinear(3, 2, std=0.5, rng=np.random.RandomState(7))
    plain = Linear(3, 2, rng=np.random.RandomState(7))
    assert np.array_equal(layer.W.data, plain.W.data)
    X = np.arange(6.0).reshape(3, 2)
    assert np.array_equal(layer.eval()(X).data, plain(X).data)
    trained = layer.train()(X).data
    assert not np.array_equal(trained, plain(X).data)
    assert [name for name, _ in layer.named_parameters()] == ["W", "b"]
    assert repr(layer) == "WeightNoiseLinear(in_features=3, out_features=2, std=0.5)"


@pytest.mark.parametrize(
    "make", [lambda std: GaussianNoise(std), lambda std: WeightNoiseLinear(2, 1, std=std)]
)
@pytest.mark.parametrize(
    ("bad", "error"),
    [(-1.0, ValueError), (np.nan, ValueError), (np.inf, ValueError), ("1", TypeError)],
)
def test_a_bad_std_is_an_error_naming_it(make, bad, error):
    with pytest.raises(error, match=r"std="):
        make(bad)

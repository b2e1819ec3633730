"""Every op whose gradient picks a branch by a mask (relu, abs, clip, leaky_relu, softplus, elu,
maximum, minimum, where, tril), against PyTorch at ±inf, at huge values and at the kinks:
values, first and second derivatives, and upstream gradients that are themselves ±inf or NaN
(the branch not taken gets exactly 0, never inf·0 = NaN: ``helpers.masked``)."""

import warnings

import numpy as np
import pytest

import tinygrad_reg
from tinygrad_reg import Tensor, grad
from tinygrad_reg.ops.select import maximum, minimum, where

torch = pytest.importorskip("torch")
F = torch.nn.functional

HUGE = [1e200, 1e300]
POINTS = np.array(
    [-np.inf, *(-h for h in HUGE), -800.0, -40.0, -1.0, -0.0, 0.0, 1.0, 40.0, 800.0, *HUGE, np.inf]
)


def scalar(value):
    return torch.tensor(value, dtype=torch.float64)


# name -> (ours, PyTorch's); the kinks 0 (and ±1 for clip, 1 for maximum) are among POINTS
MASKED_OPS = {
    "relu": (lambda t: t.relu(), torch.relu),
    "abs": (lambda t: t.abs(), torch.abs),
    "clip": (lambda t: t.clip(-1.0, 1.0), lambda t: torch.clamp(t, -1.0, 1.0)),
    "clip below": (lambda t: t.clip(0.0, None), lambda t: torch.clamp(t, min=0.0)),
    "leaky_relu": (tinygrad_reg.leaky_relu, F.leaky_relu),
    "softplus": (tinygrad_reg.softplus, F.softplus),
    "elu": (tinygrad_reg.elu, F.elu),
    "elu alpha=2": (lambda t: tinygrad_reg.elu(t, 2.0), lambda t: F.elu(t, 2.0)),
    "elu alpha=0.5": (lambda t: tinygrad_reg.elu(t, 0.5), lambda t: F.elu(t, 0.5)),
    "maximum": (lambda t: maximum(t, 0.0), lambda t: torch.maximum(t, scalar(0.0))),
    "maximum tie at 1": (lambda t: maximum(t, 1.0), lambda t: torch.maximum(t, scalar(1.0))),
    "minimum": (lambda t: minimum(t, 0.0), lambda t: torch.minimum(t, scalar(0.0))),
    "where": (
        lambda t: where(t.data > 0, t, t * 2.0),
        lambda t: torch.where(t > 0, t, t * 2.0),
    ),
    "tril": (
        lambda t: t.reshape(2, 7).tril().reshape(14),
        lambda t: t.reshape(2, 7).tril().reshape(14),
    ),
}


def assert_same(ours, theirs, what):
    """Equal to PyTorch's up to a few rounding errors of one elementwise op (rtol 1e-12), NaN
    exactly where PyTorch has NaN, infinities equal."""
    ours, theirs = np.asarray(ours, dtype=np.float64), np.asarray(theirs, dtype=np.float64)
    same_nan = np.isnan(ours) == np.isnan(theirs)
    close = np.isclose(ours, theirs, rtol=1e-12, atol=0) | (ours == theirs) | np.isnan(theirs)
    wrong = ~(same_nan & close)
    assert not wrong.any(), f"{what} at x = {POINTS[wrong]}: {ours[wrong]}, PyTorch {theirs[wrong]}"


def our_gradients(op, upstream):
    x = Tensor(POINTS.copy(), requires_grad=True)
    y = op(x)
    (dx,) = grad(y, [x], grad_outputs=upstream, create_graph=True)
    if not dx.requires_grad:  # piecewise linear: the first derivative is a constant
        return y.data, dx.data, np.zeros_like(POINTS)
    (dxx,) = grad(dx, [x], grad_outputs=np.ones_like(POINTS))
    return y.data, dx.data, dxx.data


def torch_gradients(op, upstream):
    x = torch.tensor(POINTS, requires_grad=True)
    y = op(x)
    (dx,) = torch.autograd.grad(y, x, torch.tensor(upstream), create_graph=True)
    if not dx.requires_grad:
        return y.detach().numpy(), dx.numpy(), np.zeros_like(POINTS)
    (dxx,) = torch.autograd.grad(dx, x, torch.ones_like(x), allow_unused=True)
    dxx = np.zeros_like(POINTS) if dxx is None else dxx.numpy(force=True)  # abs: a ZeroTensor
    return y.detach().numpy(), dx.detach().numpy(), dxx


@pytest.mark.parametrize("name", MASKED_OPS)
def test_masked_ops_agree_with_pytorch_at_infinities_huge_values_and_kinks(name):
    ours, theirs = MASKED_OPS[name]
    upstream = np.random.default_rng(0).normal(size=POINTS.shape)  # non-uniform
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # inf - inf in the inputs' own values
        for what, a, b in zip(
            ("value", "gradient", "second derivative"),
            our_gradients(ours, upstream),
            torch_gradients(theirs, upstream),
        ):
            assert_same(a, b, f"{name}: {what}")


@pytest.mark.parametrize("upstream", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("name", MASKED_OPS)
def test_a_branch_not_taken_gets_zero_even_from_an_infinite_upstream_gradient(name, upstream):
    ours, theirs = MASKED_OPS[name]
    g = np.full(POINTS.shape, upstream)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        x = Tensor(POINTS.copy(), requires_grad=True)
        (dx,) = grad(ours(x), [x], grad_outputs=g)
        tx = torch.tensor(POINTS, requires_grad=True)
        (tdx,) = torch.autograd.grad(theirs(tx), tx, torch.tensor(g))
    assert_same(dx.data, tdx.numpy(), f"{name}: gradient for an upstream {upstream}")


def test_elu_gradient_at_infinity_is_one_as_pytorch():
    x = Tensor([np.inf, -np.inf, 1e300], requires_grad=True)
    tinygrad_reg.elu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 1.0])  # PyTorch: 1, 0, 1


def test_elu_gradient_keeps_float32():
    x = Tensor(np.array([-50.0, -1.0, 0.0, 2.0], dtype=np.float32), requires_grad=True)
    tinygrad_reg.elu(x).sum().backward()
    assert x.grad.dtype == np.float32
    expected = np.where(x.data > 0, 1.0, np.exp(np.minimum(x.data, 0)))
    np.testing.assert_allclose(x.grad, expected, rtol=2e-7)  # one float32 exp

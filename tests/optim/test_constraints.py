"""clip_grad_norm and the max-norm constraint, checked against their definitions."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from tinygrad_reg import Tensor, apply_max_norm, clip_grad_norm, datasets
from tinygrad_reg.nn import MLP, BatchNorm2d, Conv2d, Sequential
from tinygrad_reg.nn.losses import binary_cross_entropy_with_logits
from tinygrad_reg.optim import SGD
from tinygrad_reg.optim.constraints import (
    CLIP_EPS,
    apply_spectral_norm,
    max_norm_rows,
    spectral_norm,
    spectral_norm_clipped,
)
from tinygrad_reg.train.loop import fit

values = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)


@st.composite
def gradients(draw):
    """One to four float64 gradients of random shapes."""
    shapes = draw(
        st.lists(array_shapes(min_dims=0, max_dims=3, max_side=4), min_size=1, max_size=4)
    )
    return [draw(arrays(np.float64, shape, elements=values)) for shape in shapes]


@given(gradients(), st.floats(0.01, 20.0))
def test_clip_grad_norm_scales_every_gradient_by_one_factor_to_at_most_max_norm(grads, max_norm):
    params = [Tensor(np.zeros(g.shape), requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    originals = [p.grad for p in params]

    total = clip_grad_norm(params, max_norm)

    expected_total = math.sqrt(sum(np.sum(g**2) for g in grads))
    assert total == pytest.approx(expected_total, rel=1e-12, abs=1e-300)
    scale = min(1.0, max_norm / (expected_total + CLIP_EPS))
    for p, g, original in zip(params, grads, originals):
        np.testing.assert_allclose(p.grad, g * scale, rtol=1e-12, atol=0)
        np.testing.assert_array_equal(original, g)  # the old arrays were not written into
    new_total = math.sqrt(sum(np.sum(p.grad**2) for p in params))
    assert new_total <= max_norm * (1 + 1e-12)
    if scale == 1.0:  # short enough (with the 1e-6 margin): left exactly as it was
        assert all(np.array_equal(p.grad, g) for p, g in zip(params, grads))


def test_clip_grad_norm_skips_parameters_without_gradient_and_takes_a_module():
    model = MLP([2, 4, 1])
    params = dict(model.named_parameters())
    params["W1"].grad = np.full((4, 2), 3.0)  # norm √(8·9) = √72
    params["b2"].grad = np.array([[-1.0]])
    total = clip_grad_norm(model, 1.0)
    assert total == pytest.approx(math.sqrt(73), rel=1e-15)
    assert params["W2"].grad is None
    np.testing.assert_allclose(params["b2"].grad, [[-1 / (math.sqrt(73) + CLIP_EPS)]], rtol=1e-14)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, "1", True])
def test_clip_grad_norm_refuses_a_bad_max_norm(bad):
    p = Tensor(np.ones(3), requires_grad=True)
    p.grad = np.ones(3)
    with pytest.raises((ValueError, TypeError), match="max_norm"):
        clip_grad_norm([p], bad)
    np.testing.assert_array_equal(p.grad, np.ones(3))


def test_clip_grad_norm_refuses_non_finite_gradients():
    p = Tensor(np.ones(2), requires_grad=True)
    p.grad = np.array([1.0, np.nan])
    with pytest.raises(FloatingPointError, match="NaN or inf"):
        clip_grad_norm([p], 1.0)


@given(
    arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=values),
    st.floats(0.05, 4.0),
)
def test_max_norm_scales_each_row_longer_than_max_norm_onto_the_sphere(W, max_norm):
    clipped = max_norm_rows(W, max_norm)
    for row, new in zip(W, clipped):
        norm = np.sqrt(np.sum(row**2))
        if norm <= max_norm:
            np.testing.assert_array_equal(new, row)
        else:  # same direction, length max_norm
            np.testing.assert_allclose(new, row * (max_norm / norm), rtol=1e-12)
            assert np.sqrt(np.sum(new**2)) == pytest.approx(max_norm, rel=1e-12)


@given(
    arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 5)),
        elements=values.map(lambda v: v if abs(v) > 1e-3 else 0.0),  # the reference's own norm
    ),
    st.sampled_from([1e-200, 1e150, 1e200, 1e300]),
    st.floats(0.05, 4.0),
)
def test_max_norm_of_huge_or_tiny_rows_is_computed_without_overflow(W, scale, max_norm):
    """Rows of norm ~1e200 (whose w·w overflows to inf) keep their direction and get length
    max_norm; rows of norm ~1e-200 (whose w·w underflows to 0) are left alone."""
    clipped = max_norm_rows(W * scale, max_norm)
    for row, new in zip(W, clipped):
        norm = np.linalg.norm(row)  # of the unscaled row: no overflow
        if norm == 0 or norm * scale <= max_norm:
            np.testing.assert_array_equal(new, row * scale)
        else:  # a few roundings: scaling, the sum of ≤ 5 squares, sqrt, one division
            np.testing.assert_allclose(new, row / norm * max_norm, rtol=1e-14, atol=0)
            assert np.linalg.norm(new) == pytest.approx(max_norm, rel=1e-14)


def test_max_norm_refuses_rows_with_nan_or_inf_naming_the_parameter_and_rows():
    model = MLP([2, 3, 1])
    params = dict(model.named_parameters())
    W1 = np.array([[3.0, 4.0], [np.inf, 0.0], [1.0, np.nan]])
    params["W1"].data, params["W2"].data = W1, params["W2"].data * 100  # W2: rows too long
    W1, W2 = params["W1"].data, params["W2"].data  # the arrays the parameters hold
    with pytest.raises(
        FloatingPointError, match=r"max-norm: W1 \(shape \(3, 2\)\).*row\(s\) \[1, 2\]"
    ):
        apply_max_norm(model, 1.0)
    assert params["W1"].data is W1 and params["W2"].data is W2  # nothing changed
    # a 3-D weight's rows are its output units: W[0] holds the NaN
    with pytest.raises(FloatingPointError, match=r"params\[0\] \(shape \(1, 2, 1\)\).*\) \[0\]"):
        apply_max_norm([Tensor(np.array([[[1.0], [np.nan]]]))], 1.0)


def test_apply_max_norm_clips_the_rows_of_the_weights_and_leaves_the_biases():
    model = MLP([2, 3, 1])
    params = dict(model.named_parameters())
    params["W1"].data = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, -2.0]])
    params["b1"].data = np.full((3, 1), 10.0)
    apply_max_norm(model, 1.0)
    np.testing.assert_allclose(params["W1"].data, [[0.6, 0.8], [0.3, 0.4], [0.0, -1.0]], rtol=1e-15)
    np.testing.assert_array_equal(params["b1"].data, np.full((3, 1), 10.0))


def test_fit_with_max_norm_equals_sgd_steps_each_followed_by_the_row_clipping():
    data = datasets.load()
    X, Y, max_norm, steps = data.train_X, data.train_Y, 0.8, 50
    model = MLP([2, 20, 3, 1])
    fit(model, X, Y, iterations=steps, max_norm=max_norm, progress=False)

    by_hand = MLP([2, 20, 3, 1])
    optimizer = SGD(by_hand.parameters(), lr=0.3)
    for _ in range(steps):
        by_hand.zero_grad()
        binary_cross_entropy_with_logits(by_hand(X), Y).backward()
        optimizer.step()
        for name, p in by_hand.named_parameters():
            if name.startswith("W"):
                norms = np.linalg.norm(p.data, axis=1, keepdims=True)
                p.data = np.where(norms > max_norm, p.data * max_norm / norms, p.data)
    for name, value in by_hand.to_parameters().items():
        np.testing.assert_allclose(model.to_parameters()[name], value, rtol=1e-12, atol=1e-15)
    W1 = dict(model.named_parameters())["W1"].data
    assert np.all(np.linalg.norm(W1, axis=1) <= max_norm * (1 + 1e-12))
    # The constraint was active: without it some row of W1 grows past max_norm.
    free = MLP([2, 20, 3, 1])
    fit(free, X, Y, iterations=steps, progress=False)
    assert np.max(np.linalg.norm(free.to_parameters()["W1"], axis=1)) > max_norm


def test_fit_refuses_a_bad_max_norm():
    data = datasets.load()
    with pytest.raises(ValueError, match="fit: max_norm"):
        fit(MLP([2, 3, 1]), data.train_X, data.train_Y, iterations=2, max_norm=-1.0)


def test_max_norm_on_a_conv_weight_bounds_each_output_channel_and_leaves_bias_and_norm():
    model = Sequential(Conv2d(2, 4, 3, rng=np.random.RandomState(0)), BatchNorm2d(4))
    conv, norm = model[0], model[1]
    scales = np.array([0.1, 1.0, 5.0, 20.0]).reshape(4, 1, 1, 1)
    conv.weight.data = conv.weight.data * scales
    conv.bias.data = np.full(4, 30.0)
    norm.weight.data = np.full(4, 30.0)
    before = conv.weight.data
    apply_max_norm(model, 2.0)
    rows, after = before.reshape(4, -1), conv.weight.data.reshape(4, -1)
    norms = np.linalg.norm(rows, axis=1)
    for j in range(4):  # each channel's 18 weights as one vector, not each kernel row
        expected = rows[j] if norms[j] <= 2.0 else rows[j] * (2.0 / norms[j])
        np.testing.assert_allclose(after[j], expected, rtol=1e-14)
    assert np.all(np.linalg.norm(after, axis=1) <= 2.0 * (1 + 1e-14))
    assert np.any(norms > 2.0) and np.any(norms < 2.0)  # both cases are exercised
    np.testing.assert_array_equal(conv.bias.data, np.full(4, 30.0))
    np.testing.assert_array_equal(norm.weight.data, np.full(4, 30.0))


weight_arrays = arrays(
    np.float64,
    st.one_of(
        st.tuples(st.integers(1, 5), st.integers(1, 5)),
        st.tuples(st.integers(1, 3), st.integers(1, 2), st.integers(1, 2), st.integers(1, 2)),
    ),
    elements=values,
)


@given(weight_arrays, st.sampled_from([1e-200, 1.0, 1e200]))
def test_the_spectral_norm_is_torchs_matrix_2_norm_even_for_huge_or_tiny_weights(W, scale):
    matrix = torch.tensor(W.reshape(W.shape[0], -1))
    expected = float(torch.linalg.matrix_norm(matrix, ord=2)) * scale  # unscaled: no overflow
    # the SVD is backward stable: a few roundings of the largest singular value
    assert spectral_norm(W * scale) == pytest.approx(expected, rel=1e-13, abs=0)


@given(weight_arrays, st.floats(0.05, 4.0))
def test_spectral_clipping_caps_sigma_max_keeps_the_direction_and_leaves_small_weights(W, c):
    sigma = float(torch.linalg.matrix_norm(torch.tensor(W.reshape(W.shape[0], -1)), ord=2))
    clipped = spectral_norm_clipped(W, c)
    if sigma <= c:
        assert clipped is W
    else:  # W·c/σ: the same direction, σ_max = c up to the roundings of one scaling and an SVD
        np.testing.assert_allclose(clipped, W * (c / sigma), rtol=1e-13, atol=0)
        assert spectral_norm(clipped) <= c * (1 + 1e-13)
        assert spectral_norm(clipped) == pytest.approx(c, rel=1e-13)


def test_apply_spectral_norm_clips_the_weights_of_a_module_and_leaves_biases_and_norms():
    model = Sequential(Conv2d(1, 3, 2, rng=np.random.RandomState(0)), BatchNorm2d(3))
    conv, norm = model[0], model[1]
    conv.weight.data = conv.weight.data * 50
    conv.bias.data, norm.weight.data = np.full(3, 40.0), np.full(3, 40.0)
    before = conv.weight.data
    apply_spectral_norm(model, 1.5)
    assert spectral_norm(conv.weight.data) == pytest.approx(1.5, rel=1e-13)
    np.testing.assert_allclose(conv.weight.data, before * (1.5 / spectral_norm(before)), rtol=1e-13)
    np.testing.assert_array_equal(conv.bias.data, np.full(3, 40.0))
    np.testing.assert_array_equal(norm.weight.data, np.full(3, 40.0))
    untouched = conv.weight.data
    apply_spectral_norm(model, 1.5 * (1 + 1e-12))  # already within: the same array stays
    assert conv.weight.data is untouched
    with pytest.raises(FloatingPointError, match=r"spectral norm: params\[0\] \(shape \(2, 2\)\)"):
        apply_spectral_norm([Tensor(np.array([[1.0, np.nan], [0.0, 1.0]]))], 1.0)


def test_fit_with_spectral_norm_equals_sgd_steps_each_followed_by_the_clipping():
    data = datasets.load()
    X, Y, c, steps = data.train_X, data.train_Y, 1.2, 30
    model = MLP([2, 20, 3, 1])
    fit(model, X, Y, iterations=steps, spectral_norm=c, progress=False)

    by_hand = MLP([2, 20, 3, 1])
    optimizer = SGD(by_hand.parameters(), lr=0.3)
    clipped_somewhere = False
    for _ in range(steps):
        by_hand.zero_grad()
        binary_cross_entropy_with_logits(by_hand(X), Y).backward()
        optimizer.step()
        weights = [p.data for name, p in by_hand.named_parameters() if name.startswith("W")]
        clipped_somewhere |= any(spectral_norm(W) > c for W in weights)
        apply_spectral_norm(by_hand, c)  # its arithmetic is tested above, against torch
    assert clipped_somewhere  # the constraint was active
    for name, value in by_hand.to_parameters().items():
        # fit must call the same clipping after each step: the same operations, bit for bit
        np.testing.assert_array_equal(model.to_parameters()[name], value)
        if name.startswith("W"):
            assert spectral_norm(model.to_parameters()[name]) <= c * (1 + 1e-13)
    with pytest.raises(ValueError, match="fit: spectral_norm"):
        fit(MLP([2, 3, 1]), X, Y, iterations=2, spectral_norm=0.0)

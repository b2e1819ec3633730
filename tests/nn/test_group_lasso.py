"""Group lasso: the penalty's value and gradient (against numpy, PyTorch and finite
differences, away from the kink by construction), the subgradient at a zero group, the
selection of the weights, and the pruned-groups report."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from torch_twin import assert_matches_torch

from tinygrad_reg import Tensor
from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.group_lasso import (
    group_lasso_penalty,
    group_norms,
    pruned_groups,
)
from tinygrad_reg.testing import nonzero_floats
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck

# Every entry has |w| >= 0.1, so every group's norm is >= 0.1: far from the kink at 0.
matrices = hnp.arrays(
    np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=5), elements=nonzero_floats()
)
lambdas = st.floats(0.01, 5)
examples = st.integers(1, 64)
groupings = st.sampled_from(["rows", "columns"])


def by_hand(W: np.ndarray, groups: str) -> tuple[float, np.ndarray]:
    """Σ_g √p·‖W_g‖ and its gradient, group by group with Python loops."""
    slices = list(W) if groups == "rows" else list(W.T)
    p = len(slices[0])
    value = sum(math.sqrt(p) * math.sqrt(sum(w * w for w in g)) for g in slices)
    rows = [math.sqrt(p) * g / math.sqrt(sum(w * w for w in g)) for g in slices]
    gradient = np.array(rows) if groups == "rows" else np.array(rows).T
    return value, gradient


@given(st.lists(matrices, min_size=1, max_size=3), lambdas, examples, groupings)
def test_the_penalty_is_lambda_over_m_sum_of_sqrt_p_group_norms(arrays, lam, m, groups):
    ws = [Tensor(a, requires_grad=True) for a in arrays]
    out = group_lasso_penalty(ws, lam, m, groups)
    expected = [by_hand(a, groups) for a in arrays]
    assert out.item() == pytest.approx(lam / m * sum(v for v, _ in expected), rel=1e-12)
    out.backward()
    for w, (_, gradient) in zip(ws, expected):
        np.testing.assert_allclose(w.grad, lam / m * gradient, rtol=1e-12)


@given(matrices, lambdas, examples, groupings, st.integers(0, 2**16))
def test_value_first_and_second_derivatives_equal_pytorchs(W, lam, m, groups, seed):
    dim = 1 if groups == "rows" else 0
    p = W.shape[dim]
    assert_matches_torch(
        lambda w: group_lasso_penalty([w], lam, m, groups),
        lambda w: lam / m * math.sqrt(p) * torch.linalg.vector_norm(w, dim=dim).sum(),
        [W],
        seed,
    )


@given(st.lists(matrices, min_size=1, max_size=2), lambdas, groupings)
def test_gradcheck_and_gradgradcheck_away_from_the_kink(arrays, lam, groups):
    f = lambda *ws: group_lasso_penalty(list(ws), lam, 7, groups)  # noqa: E731
    assert gradcheck(f, arrays, upstream=None)
    assert gradgradcheck(f, arrays)


@given(matrices, lambdas, groupings, st.data())
def test_at_a_zero_group_the_gradient_is_0_a_subgradient_of_least_norm(W, lam, groups, data):
    """At W_g = 0 the rule gives 0 for the group and the usual gradient elsewhere. 0 is a
    subgradient: the penalty never drops below its value plus ⟨gradient, d⟩, for any step d
    (the penalty is convex), and 0 has the least norm of all subgradients."""
    W = W.copy()
    axis_length = W.shape[0] if groups == "rows" else W.shape[1]
    zero = data.draw(st.integers(0, axis_length - 1))
    if groups == "rows":
        W[zero] = 0.0
    else:
        W[:, zero] = 0.0
    w = Tensor(W, requires_grad=True)
    out = group_lasso_penalty([w], lam, 3, groups)
    out.backward()
    zero_part = w.grad[zero] if groups == "rows" else w.grad[:, zero]
    np.testing.assert_array_equal(zero_part, 0.0)
    kept = np.delete(W, zero, axis=0 if groups == "rows" else 1)
    if kept.size:
        expected = lam / 3 * by_hand(kept, groups)[1]
        np.testing.assert_allclose(
            np.delete(w.grad, zero, axis=0 if groups == "rows" else 1), expected
        )
    steps = data.draw(hnp.arrays(np.float64, W.shape, elements=st.floats(-1, 1)))
    moved = group_lasso_penalty([Tensor(W + steps)], lam, 3, groups).item()
    assert moved >= out.item() + np.vdot(w.grad, steps) - 1e-12 * (1 + abs(moved))


def test_a_module_has_its_weights_penalized_and_the_biases_left_alone():
    model = MLP([3, 4, 2], seed=1)
    out = group_lasso_penalty(model, 0.5, 10, "columns")
    expected = sum(
        math.sqrt(p.shape[0]) * group_norms(p.data, "columns").sum()
        for name, p in model.named_parameters()
        if name.startswith("W")
    )
    assert out.item() == pytest.approx(0.05 * expected, rel=1e-12)
    out.backward()
    params = dict(model.named_parameters())
    assert params["b1"].grad is None and params["W1"].grad is not None


def test_group_norms_keep_the_axis_so_they_broadcast_against_the_matrix():
    W = np.arange(6.0).reshape(2, 3)
    assert group_norms(W, "rows").shape == (2, 1)
    assert group_norms(W, "columns").shape == (1, 3)
    np.testing.assert_allclose(group_norms(W, "rows").ravel(), np.linalg.norm(W, axis=1))


def test_pruned_groups_lists_the_exactly_zero_rows_or_columns_of_each_weight():
    model = MLP([3, 4, 2], seed=1)
    params = dict(model.named_parameters())
    W1 = params["W1"].data.copy()
    W1[[0, 2]] = 0.0
    W1[0, 1] = 1e-300  # tiny, not zero: not pruned
    params["W1"].data = W1
    assert pruned_groups(model) == {"W1": [2], "W2": []}
    W2 = params["W2"].data.copy()
    W2[:, 3] = 0.0
    params["W2"].data = W2
    assert pruned_groups(model, "columns") == {"W1": [], "W2": [3]}


@pytest.mark.parametrize(
    "params, groups, message",
    [
        ([Tensor(np.ones(3), requires_grad=True)], "rows", r"shape \(3,\) has no rows"),
        ([Tensor(np.ones((2, 2)), requires_grad=True)], "units", "groups = 'units'"),
    ],
)
def test_bad_inputs_are_refused_naming_what_was_expected(params, groups, message):
    with pytest.raises(ValueError, match=message):
        group_lasso_penalty(params, 1.0, 1, groups)


@pytest.mark.parametrize("size", [1e-200, 1e200])
def test_tiny_and_huge_groups_have_their_exact_norm_and_unit_direction(size):
    W = np.array([[3.0, 4.0], [0.0, 0.0]]) * size
    w = Tensor(W, requires_grad=True)
    out = group_lasso_penalty([w], 1.0, 1, "rows")
    assert out.item() == pytest.approx(math.sqrt(2) * 5 * size, rel=1e-15)
    out.backward()
    np.testing.assert_allclose(w.grad, math.sqrt(2) * np.array([[0.6, 0.8], [0, 0]]), rtol=1e-15)

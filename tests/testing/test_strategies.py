"""tinygrad_reg.testing: the strategies keep their promises. (The course's gradient check it
re-exports is tested in test_gradcheck.py.)"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_reg import Tensor
from tinygrad_reg import reference as R
from tinygrad_reg.testing import (
    Network,
    axes,
    broadcastable_shapes,
    broadcastable_tensors,
    networks,
    nonzero_floats,
    positive_floats,
    tensors,
)


def test_without_hypothesis_a_strategy_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "hypothesis", None)  # as if not installed
    monkeypatch.delitem(sys.modules, "tinygrad_reg.testing.strategies")
    testing = importlib.import_module("tinygrad_reg.testing")  # gradcheck needs numpy only
    monkeypatch.delattr(testing, "strategies")
    assert testing.gradient_check_n is not None
    with pytest.raises(ImportError, match=r'pip install "tinygrad_reg\[test\]"'):
        testing.networks  # noqa: B018


def test_it_re_exports_the_courses_gradient_check():
    from tinygrad_reg import testing
    from tinygrad_reg.testing import gradcheck

    assert testing.gradient_check_n is gradcheck.gradient_check_n


# --- strategies ------------------------------------------------------------------------------


@given(tensors(dtype=np.float32, requires_grad=True, max_dims=2, max_side=3))
def test_tensors_have_the_requested_dtype_grad_and_limits(t):
    assert isinstance(t, Tensor) and t.dtype == np.float32 and t.requires_grad
    assert t.ndim <= 2 and all(1 <= n <= 3 for n in t.shape)


@given(tensors((2, 3), elements=nonzero_floats(0.5, 1.5)))
def test_nonzero_floats_stay_away_from_0(t):
    assert t.shape == (2, 3)
    assert np.all((np.abs(t.data) >= 0.5) & (np.abs(t.data) <= 1.5))


@given(tensors((4,), elements=positive_floats()))
def test_positive_floats(t):
    assert np.all((t.data >= 0.1) & (t.data <= 2.0))


@given(broadcastable_shapes(3))
def test_broadcastable_shapes_broadcast(shapes):
    assert len(shapes) == 3
    np.broadcast_shapes(*shapes)  # raises if they do not


@given(broadcastable_tensors(2, requires_grad=True))
def test_broadcastable_tensors_add(pair):
    a, b = pair
    assert (a + b).shape == np.broadcast_shapes(a.shape, b.shape)


@given(st.integers(0, 3).flatmap(lambda n: st.tuples(st.just(n), axes(n))))
def test_axes_are_valid_for_numpy(ndim_axis):
    ndim, axis = ndim_axis
    np.zeros((2,) * ndim).sum(axis=axis)  # raises if not valid


@given(networks())
def test_networks_are_in_range_and_kink_free(net):
    assert isinstance(net, Network)
    dims = net.layer_dims
    L = len(dims) - 1
    m = net.X.shape[1]
    assert 1 <= L <= 4 and dims[-1] == 1 and all(1 <= n <= 30 for n in dims[:-1])
    assert 1 <= m <= 64 and net.X.shape == (dims[0], m) and net.Y.shape == (1, m)
    assert set(np.unique(net.Y)) <= {0.0, 1.0}
    assert 0 <= net.lambd <= 5 and net.penalty in ("none", "l2", "l1", "elastic")
    assert net.keep_prob == 1.0
    for l in range(1, L):
        assert np.abs(net.parameters[f"W{l}"]).min() >= 0.05
    assert np.abs(net.parameters[f"W{L}"]).min() > 0
    _, cache = R.forward_propagation(net.X, net.parameters)
    for l in range(1, L):
        assert np.abs(cache[4 * (l - 1)]).min() >= 0.05  # Z_l, away from relu's kink
    assert np.abs(cache[-4]).max() <= 8.0 + 1e-12  # logits where the course's cost is accurate


@given(networks(dropout=True))
def test_networks_with_dropout_are_kink_free_under_their_masks(net):
    assert 0.3 < net.keep_prob <= 1
    _, cache = R.forward_propagation_with_dropout(
        net.X, net.parameters, net.keep_prob, np.random.RandomState(net.seed)
    )
    L = len(net.layer_dims) - 1
    for l in range(1, L):
        assert np.abs(cache[5 * (l - 1)]).min() >= 0.05
    assert np.abs(cache[-4]).max() <= 8.0 + 1e-12


@given(networks(multiclass=True), st.data())
def test_multiclass_networks_have_one_hot_labels_and_a_bounded_logit_gap(net, data):
    dims = net.layer_dims
    C, m = dims[-1], net.X.shape[1]
    assert 2 <= C <= 5 and net.Y.shape == (C, m)
    assert set(np.unique(net.Y)) <= {0.0, 1.0} and np.all(net.Y.sum(axis=0) == 1)
    _, cache = R.forward_propagation(net.X, net.parameters)
    L = len(dims) - 1
    for l in range(1, L):
        assert np.abs(cache[4 * (l - 1)]).min() >= 0.05
    Z_L = cache[-4]
    assert (Z_L.max(axis=0) - Z_L.min(axis=0)).max() <= 8.0 + 1e-12  # softmax's spread


@given(networks(multiclass=True, max_classes=2, max_depth=1))
def test_multiclass_networks_respect_max_classes(net):
    assert net.layer_dims[-1] == 2 and len(net.layer_dims) == 2


@given(networks(min_depth=2, max_depth=2, max_width=3, max_examples=5, penalties=("l1",)))
def test_networks_respects_its_limits(net):
    assert len(net.layer_dims) == 3 and max(net.layer_dims) <= 3 and net.X.shape[1] <= 5
    assert net.penalty == "l1"

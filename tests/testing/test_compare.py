"""testing/compare.py: compare_gradients returns every entry of the reference's gradients dict
beside autodiff's (dZ, dA scaled by m), equal for none, L2, L1, elastic and dropout."""

import numpy as np
from hypothesis import given

from tinygrad_reg.nn import MLP
from tinygrad_reg.nn.course_masks import CourseMasks
from tinygrad_reg.testing import networks
from tinygrad_reg.testing.compare import compare_gradients

RTOL = 1e-10  # as tests/test_parity.py: rounding of sums over at most 64 examples


def assert_all_equal(result):
    for name, expected in result.reference.items():
        scale = float(np.abs(expected).max(initial=0.0))
        np.testing.assert_allclose(
            result.autodiff[name], expected, rtol=RTOL, atol=RTOL * scale, err_msg=name
        )
    np.testing.assert_allclose(result.cost, result.reference_cost, rtol=RTOL)


@given(networks())
def test_every_entry_equal_for_each_penalty(net):
    result = compare_gradients(net.parameters, net.X, net.Y, penalty=net.penalty, lambd=net.lambd)
    L = len(net.layer_dims) - 1
    expected = {f"d{kind}{l}" for l in range(1, L + 1) for kind in ("W", "b", "Z")}
    expected |= {f"dA{l}" for l in range(1, L)}
    assert set(result.autodiff) == set(result.reference) == expected  # 11 entries for L = 3
    assert_all_equal(result)


@given(networks(dropout=True, penalties=("none", "l2")))
def test_every_entry_equal_with_fresh_and_course_masks(net):
    for rng in (np.random.RandomState(net.seed), CourseMasks(seed=net.seed)):
        result = compare_gradients(
            net.parameters,
            net.X,
            net.Y,
            penalty=net.penalty,
            lambd=net.lambd,
            keep_prob=net.keep_prob,
            rng=rng,
        )
        assert_all_equal(result)


def test_a_model_is_read_not_changed():
    model = MLP([3, 4, 2, 1], keep_prob=0.7, rng=CourseMasks(seed=2))
    X = np.random.RandomState(0).randn(3, 9)
    Y = (np.arange(9) % 2).reshape(1, 9).astype(float)
    before = model.to_parameters()
    result = compare_gradients(model, X, Y)
    assert result.largest_difference < 1e-12
    assert "dA2" in str(result) and "dZ1" in str(result)
    for name, value in model.to_parameters().items():
        np.testing.assert_array_equal(value, before[name])

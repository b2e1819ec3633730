import warnings

import numpy as np
import pytest

from tinygrad_reg import Tensor, detect_anomaly


def test_forward_log_of_zero_raises_at_the_log_with_the_source_line():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
    with detect_anomaly(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(FloatingPointError) as info:
            x.log()  # the planted log(0)
    message = str(info.value)
    assert "forward of Log" in message
    assert "1 inf of 3 values" in message
    assert "(3,)" in message
    assert "test_anomaly.py" in message and "x.log()" in message


def test_backward_zero_over_zero_raises_at_the_op_that_made_it():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with detect_anomaly():
            root = x.sqrt()  # finite forward: sqrt(0) = 0
            loss = (root * Tensor([0.0, 1.0])).sum()  # upstream g = 0 where sqrt' = 1/0
            with pytest.raises(FloatingPointError) as info:
                loss.backward()  # g/(2·0) = 0/0 = NaN
    message = str(info.value)
    assert "backward of Sqrt" in message and "NaN" in message
    assert "root = x.sqrt()" in message


def test_anomalies_pass_silently_when_the_mode_is_off():
    x = Tensor([0.0, 4.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        loss = (x.sqrt() * Tensor([0.0, 1.0])).sum()
        loss.backward()
        assert np.isnan(x.grad[0]) and x.grad[1] == pytest.approx(0.25)
        assert np.isneginf(Tensor([0.0]).log().data[0])


def test_the_mode_changes_no_result_when_everything_is_finite():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def run():
        x, w = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
        loss = (x @ w).tanh().sum()
        loss.backward()
        return loss.item(), x.grad, w.grad

    plain = run()
    with detect_anomaly():
        checked = run()
    assert plain[0] == checked[0]
    np.testing.assert_array_equal(plain[1], checked[1])
    np.testing.assert_array_equal(plain[2], checked[2])


def test_the_mode_is_restored_after_the_block_even_on_error():
    from tinygrad_reg.debug import anomaly

    with pytest.raises(KeyError), detect_anomaly():
        raise KeyError("boom")
    assert anomaly.is_enabled() is False

"""Write your own op, then let hypothesis try to break it: softplus, property-tested.

An op is a ``Function`` with a numpy ``forward`` and a ``backward`` that returns one gradient
per input. Here softplus(x) = log(1 + e^x), a smooth relu, whose derivative is σ(x).

Instead of checking a few hand-picked inputs, each property below is checked on tensors that
hypothesis draws (any shape up to 3-D, values across a wide range) with the strategies of
``tinygrad_reg.testing``; when one fails, hypothesis shrinks it to a small failing example.

- the gradient matches central differences (``gradcheck``, with a random upstream gradient);
- the first and second derivatives are σ(x) and σ(x)·(1 − σ(x)) (the rule is written with
  ``ops.helpers.sigmoid``, so ``grad(..., create_graph=True)`` can differentiate it again);
- values: finite for any finite input, max(x, 0) < softplus(x) <= max(x, 0) + log 2, and
  softplus(x) − softplus(−x) = x.

Finally a planted bug, σ(−x) instead of σ(x) in the rule: hypothesis finds an input where the
gradient check fails (x = 0 would not have shown it: σ(0) = σ(−0)).

Needs the test extra (pip install "tinygrad_reg[test]").
Run:  python examples/property_test_your_op.py    (or: pytest examples/property_test_your_op.py)
      TINYGRAD_REG_QUICK=1 python examples/property_test_your_op.py   (fewer examples)
"""

import os
import sys
from typing import Any

import numpy as np

try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ModuleNotFoundError:  # the demo install (the plot extra) has no hypothesis
    print(
        "examples/property_test_your_op.py needs hypothesis, in the test extra: "
        'pip install "tinygrad_reg[test]"',
        file=sys.stderr,
    )
    sys.exit(2)

from tinygrad_reg import Tensor, grad
from tinygrad_reg.engine import Function
from tinygrad_reg.ops.helpers import sigmoid
from tinygrad_reg.testing import tensors
from tinygrad_reg.testing.gradcheck import GradcheckError, gradcheck


class Softplus(Function):
    """softplus(x) = log(1 + e^x)"""

    expects = "a tensor of floats"
    save_inputs, save_out = True, False  # the rule reads x, not the output

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.logaddexp(0.0, x)  # log(e^0 + e^x), without overflow for large x

    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d softplus(x)/dx = g*σ(x)"""
        return (g * sigmoid(x),)


class SoftplusWithABug(Softplus):
    def backward(self, g: Any, out: Any, x: Any) -> tuple[Any, ...]:
        """d softplus(x)/dx = g*σ(-x)   (wrong: a sign slip)"""
        return (g * sigmoid(-x),)


def softplus(x: Tensor, op: type[Function] = Softplus) -> Tensor:
    return op()(x)


# database=None: every run starts afresh, without replaying failures saved by earlier runs.
EXAMPLES = 10 if os.environ.get("TINYGRAD_REG_QUICK") else 50
checked = settings(max_examples=EXAMPLES, deadline=None, database=None)
moderate = tensors(elements=st.floats(-30, 30))  # where σ is not yet 0 or 1 to 16 digits
anything = tensors(elements=st.floats(-1e6, 1e6))


@checked
@given(moderate)
def test_gradient(x: Tensor) -> None:
    gradcheck(softplus, [x])


@checked
@given(moderate)
def test_second_derivative(x: Tensor) -> None:
    x = Tensor(x.data, requires_grad=True)
    (first,) = grad(softplus(x).sum(), x, create_graph=True)  # σ(x), as a graph
    (second,) = grad(first.sum(), x)  # σ'(x) = σ(x)·(1 − σ(x))
    s = 1 / (1 + np.exp(-x.data))
    np.testing.assert_allclose(first.data, s, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(second.data, s * (1 - s), rtol=1e-10, atol=1e-15)


@checked
@given(anything)
def test_values(x: Tensor) -> None:
    y, relu = softplus(x).data, np.maximum(x.data, 0)
    assert np.all(np.isfinite(y))
    assert np.all(y >= relu) and np.all(y <= relu + np.log(2))
    np.testing.assert_allclose(y - softplus(-x).data, x.data, rtol=1e-12, atol=1e-12)


def test_the_planted_bug_is_caught() -> None:
    @checked
    @given(moderate)
    def gradient_of_the_buggy_op(x: Tensor) -> None:
        gradcheck(lambda t: softplus(t, SoftplusWithABug), [x])

    try:
        gradient_of_the_buggy_op()
    except GradcheckError as error:
        print(f"caught: {error}")
        return
    raise AssertionError("the bug went unnoticed")


if __name__ == "__main__":
    for test in (test_gradient, test_second_derivative, test_values):
        test()
        print(f"{test.__name__}: passed on {EXAMPLES} drawn tensors")
    print("\nThe planted bug (σ(-x) for σ(x)); hypothesis reports the smallest failing input:")
    test_the_planted_bug_is_caught()
    print("\nAll properties hold, and the bug was caught.")

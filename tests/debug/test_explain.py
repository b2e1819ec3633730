import io

import numpy as np

from tinygrad_reg import Tensor, explain_backward

EXPECTED = """\
backward of loss: 4 ops, outputs first; g = dloss/d(op output)
  1. Sum: loss = Sum(%1) | rule: d(Σx)/dx = g, copied along the summed axes | g: 1 | sends: d%1 1
  2. Mul: %1 = Mul(y, const) | rule: d(a*b)/da = g*b,  d(a*b)/db = g*a | g: 1 | sends: dy 3
  3. Relu: y = Relu(%2) | rule: d relu(x)/dx = g where x > 0, else 0 (so relu'(0) = 0) \
| g: 3 | sends: d%2 3
  4. MatMul: %2 = MatMul(w, x) | rule: d(a@b)/da = g @ bᵀ,  d(a@b)/db = aᵀ @ g  \
(ᵀ swaps the last two axes) | g: 3 | sends: dw [[3., 6.]]; dx [1.5, 4.5]
leaf gradients (the sum of what each op sent):
     dw = MatMul: [[3., 6.]]
     dx = MatMul: [1.5, 4.5]
"""


def small_graph():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    w = Tensor([[0.5, 1.5]], requires_grad=True, name="w")
    y = (w @ x).relu()
    y.name = "y"
    loss = (y * 3.0).sum()
    loss.name = "loss"
    return x, w, loss


def test_trace_of_a_small_known_graph_matches_the_expected_text():
    _, _, loss = small_graph()
    out = io.StringIO()
    text = explain_backward(loss, file=out)
    assert out.getvalue() == EXPECTED
    assert text + "\n" == EXPECTED


def test_explaining_touches_no_grad_and_keeps_the_graph():
    x, w, loss = small_graph()
    explain_backward(loss, file=io.StringIO())
    assert x.grad is None and w.grad is None
    loss.backward()  # the graph is still there
    np.testing.assert_allclose(x.grad, [1.5, 4.5])
    np.testing.assert_allclose(w.grad, [[3.0, 6.0]])


def test_a_leaf_used_twice_lists_both_contributions():
    w = Tensor([2.0, -1.0], requires_grad=True, name="W")
    loss = (w * w).sum() + (w * 3.0).sum()
    text = explain_backward(loss, file=io.StringIO())
    assert "dW = Mul + Mul + Mul: [7., 1.]" in text  # 2w + 3


def test_explaining_a_tensor_without_graph_is_a_clear_error():
    t = Tensor([1.0])
    try:
        explain_backward(t, file=io.StringIO())
    except RuntimeError as error:
        assert "does not require grad" in str(error)
    else:
        raise AssertionError("expected RuntimeError")

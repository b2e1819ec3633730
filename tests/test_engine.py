"""The engine: graph shapes, accumulation, retain_graph, grad mode, higher order, memory, safety."""

import gc
import operator
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import (
    SHAPE_LIMITS,
    away_from_zero,
    axes,
    floats,
    grid,
    matmul_shapes,
    positive,
    seeds,
    shapes,
)

from tinygrad_reg import (
    Tensor,
    concatenate,
    grad,
    is_grad_enabled,
    linear,
    maximum,
    minimum,
    no_grad,
    stack,
    where,
)
from tinygrad_reg.engine import Function
from tinygrad_reg.testing.gradcheck import gradcheck

# --- graph shapes: fan-out, diamonds, a tensor used twice in one op -------------------------


@given(data=st.data(), shape=shapes(), seed=seeds)
def test_diamond_and_fan_out(data, shape, seed):
    def diamond(x):
        y = x.exp()  # y feeds three ops; their gradients must add up at y
        return y * 2 + y.tanh() - y.sigmoid() * x

    assert gradcheck(diamond, [data.draw(floats(shape))], seed=seed)


def test_diamond_gradient_is_the_sum_over_paths():
    x = Tensor([0.5, -1.0], requires_grad=True)
    y = x * 3
    (y * 2 + y * 5).sum().backward()  # two paths through y: 3·2 + 3·5
    np.testing.assert_array_equal(x.grad, [21.0, 21.0])


@pytest.mark.parametrize(
    ("op", "derivative"),
    [
        (operator.mul, lambda a: 2 * a),
        (operator.add, lambda a: 2 * np.ones_like(a)),
        (operator.sub, np.zeros_like),
        (operator.truediv, np.zeros_like),
        (operator.pow, lambda a: a**a * (np.log(a) + 1)),
        (maximum, np.ones_like),  # a tie everywhere: the halves add up to 1
    ],
)
@given(data=st.data(), shape=shapes())
def test_one_tensor_as_both_operands(op, derivative, data, shape):
    a_values = data.draw(positive(shape))
    g = data.draw(floats(shape))
    a = Tensor(a_values, requires_grad=True)
    op(a, a).backward(g)
    np.testing.assert_allclose(a.grad, g * derivative(a_values), rtol=1e-12)


def test_one_matrix_on_both_sides_of_matmul():
    a_values = np.array([[1.0, 2.0], [3.0, 4.0]])
    a = Tensor(a_values, requires_grad=True)
    (a @ a).sum().backward()
    ones = np.ones((2, 2))
    np.testing.assert_allclose(a.grad, ones @ a_values.T + a_values.T @ ones)


# --- accumulation and retain_graph ----------------------------------------------------------


@given(data=st.data(), shape=shapes(), calls=st.integers(1, 3))
def test_gradients_accumulate_across_backward_calls(data, shape, calls):
    x = Tensor(data.draw(away_from_zero(shape)), requires_grad=True)
    g = data.draw(away_from_zero(shape))  # no underflow: rounding alike in both sums
    for _ in range(calls):
        (x * x).backward(g)  # a fresh graph each time
    np.testing.assert_allclose(x.grad, calls * 2 * x.data * g, rtol=1e-14)
    x.grad = None  # the way to start again
    (x * x).backward(g)
    np.testing.assert_allclose(x.grad, 2 * x.data * g, rtol=1e-14)


def test_second_backward_through_a_freed_graph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_retain_graph_allows_a_second_backward():
    x = Tensor([1.0, 2.0], requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * 2 * np.exp(x.data))
    with pytest.raises(RuntimeError, match="freed"):  # the second backward did free it
        loss.backward()


def test_backward_through_a_shared_freed_subgraph_raises():
    x = Tensor([1.0, 2.0], requires_grad=True)
    shared = x.exp()
    (shared * 2).sum().backward()
    with pytest.raises(RuntimeError, match="freed"):
        (shared * 3).sum().backward()


# --- grad mode: no_grad, requires_grad propagation, detach ----------------------------------


def test_no_grad_as_a_context_manager():
    x = Tensor([1.0], requires_grad=True)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
        with no_grad():
            pass
        assert not is_grad_enabled()  # the inner block restored the outer state
    assert is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(KeyError), no_grad():
        raise KeyError("raised inside no_grad")
    assert is_grad_enabled()


def test_no_grad_as_a_decorator():
    @no_grad()
    def step(w):
        """Docstring kept."""
        return w * 2, is_grad_enabled()

    w = Tensor([1.0], requires_grad=True)
    y, enabled_inside = step(w)
    assert not enabled_inside and not y.requires_grad
    assert is_grad_enabled() and step.__doc__ == "Docstring kept."
    assert (w * 2).requires_grad


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, maximum, minimum]


@pytest.mark.parametrize("op", BINARY)
@given(flags=st.tuples(st.booleans(), st.booleans()))
def test_results_require_grad_iff_an_input_does(op, flags):
    a = Tensor([1.0, 2.0], requires_grad=flags[0])
    b = Tensor([3.0, 4.0], requires_grad=flags[1])
    out = op(a, b)
    assert out.requires_grad == any(flags)
    assert (out.grad_fn is not None) == any(flags)
    with no_grad():
        out = op(a, b)
    assert not out.requires_grad and out.grad_fn is None


@given(x=hnp.arrays(np.float64, shapes()))
def test_unary_ops_on_tensors_without_grad_record_nothing(x):
    t = Tensor(x)
    with np.errstate(all="ignore"):
        for out in (t.exp(), t.abs(), t.relu(), t.sigmoid(), t.sum(), t.reshape(-1), t[...]):
            assert out.grad_fn is None and not out.requires_grad


def test_data_matrix_gets_no_gradient():
    x = Tensor(np.ones((3, 4)))  # data: requires no gradient
    w = Tensor(np.ones((2, 3)), requires_grad=True)
    b = Tensor(np.zeros((2, 1)), requires_grad=True)
    (linear(x, w, b).sum() + (w @ x).sum()).backward()
    assert x.grad is None and w.grad is not None and b.grad is not None
    assert linear(x, w, b).grad_fn.needs_input_grad == (False, True, True)


def test_detach_stops_the_gradient():
    x = Tensor([2.0], requires_grad=True)
    (x * x.detach()).backward()
    np.testing.assert_array_equal(x.grad, [2.0])  # only through the first factor


def test_retain_grad_on_intermediates_in_a_diamond():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.retain_grad()
    (y * y + y).sum().backward()
    np.testing.assert_allclose(y.grad, 2 * y.data + 1)
    np.testing.assert_allclose(x.grad, 2 * (2 * y.data + 1))


# --- grad(): no .grad touched, allow_unused, several outputs --------------------------------


def test_grad_returns_tensors_and_leaves_dot_grad_alone():
    x = Tensor([1.0, 2.0], requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    y = x * 3
    y.retain_grad()
    (gx, gy) = grad((y * y).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, 2 * y.data * 3)
    np.testing.assert_array_equal(gy.data, 2 * y.data)
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])
    assert y.grad is None
    assert not gx.requires_grad  # without create_graph the result is a constant


def test_grad_allow_unused():
    x, unused = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"input 1.*allow_unused=True"):
        grad((x * 2).sum(), [x, unused])
    gx, gu = grad((x * 2).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0])
    assert gu is None


def test_grad_of_several_outputs_with_grad_outputs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    g1, g2 = np.array([1.0, -1.0]), np.array([0.5, 2.0])
    (gx,) = grad([x * 2, x * x], [x], grad_outputs=[g1, g2])
    np.testing.assert_allclose(gx.data, 2 * g1 + 2 * x.data * g2)
    with pytest.raises(ValueError, match="2 outputs but 1 grad_outputs"):
        grad([x * 2, x * x], [x], grad_outputs=[g1])


def test_grad_refuses_inputs_and_outputs_without_grad():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="input 0"):
        grad((x * 2).sum(), [Tensor([1.0])])
    with pytest.raises(RuntimeError, match="output 0"):
        grad(Tensor([1.0]).sum(), [x])


def test_grad_with_a_differentiable_grad_output():
    # d/dv <v, dy/dx> = dy/dx: the seed v keeps its own graph under create_graph.
    x = Tensor([1.0, 2.0], requires_grad=True)
    v = Tensor([3.0, -1.0], requires_grad=True)
    (gx,) = grad(x**3, x, grad_outputs=v, create_graph=True)
    np.testing.assert_allclose(gx.data, 3 * x.data**2 * v.data)
    (gv,) = grad(gx.sum(), v)
    np.testing.assert_allclose(gv.data, 3 * x.data**2)


# --- second derivatives: grad of grad vs finite differences of the first gradient -----------


def check_second_derivatives(f, arrays, seed, eps=1e-6):
    """grad(<grad f, v>) with create_graph=True equals central differences of <grad f, v>.

    f's output is contracted with a random upstream w; v is a random direction per input.
    """
    rng = np.random.default_rng(seed)
    with no_grad():
        w = rng.standard_normal(f(*[Tensor(a) for a in arrays]).shape)
    directions = [rng.standard_normal(a.shape) for a in arrays]

    def first_gradients(points, create_graph):
        xs = [Tensor(p, requires_grad=True) for p in points]
        grads = grad((f(*xs) * w).sum(), xs, create_graph=create_graph, allow_unused=True)
        return xs, [g if g is not None else Tensor(np.zeros(x.shape)) for g, x in zip(grads, xs)]

    xs, firsts = first_gradients(arrays, create_graph=True)
    _, plain = first_gradients(arrays, create_graph=False)
    for g, p in zip(firsts, plain):  # the same rules give the same first gradient
        np.testing.assert_allclose(g.data, p.data, rtol=1e-13, atol=1e-13)

    along = sum((g * v).sum() for g, v in zip(firsts, directions))
    if along.requires_grad:
        seconds = grad(along, xs, allow_unused=True)
        seconds = [np.zeros(x.shape) if s is None else s.data for s, x in zip(seconds, xs)]
    else:  # every first gradient is constant: f is linear in its inputs
        seconds = [np.zeros(x.shape) for x in xs]

    def along_at(points):
        _, gs = first_gradients(points, create_graph=False)
        return sum(float(np.sum(g.data * v)) for g, v in zip(gs, directions))

    for k, array in enumerate(arrays):
        numerical = np.zeros(array.shape)
        for i in np.ndindex(*array.shape):
            plus = [a.copy() for a in arrays]
            minus = [a.copy() for a in arrays]
            plus[k][i] += eps
            minus[k][i] -= eps
            numerical[i] = (along_at(plus) - along_at(minus)) / (2 * eps)
        np.testing.assert_allclose(seconds[k], numerical, rtol=1e-5, atol=1e-6)


def pair(data, left=floats, right=floats):
    shapes_ = data.draw(hnp.mutually_broadcastable_shapes(num_shapes=2, **SHAPE_LIMITS))
    return data.draw(left(shapes_.input_shapes[0])), data.draw(right(shapes_.input_shapes[1]))


def one(data, inputs=floats):
    return (data.draw(inputs(data.draw(shapes()))),)


def reduction(name, data):
    x = data.draw(grid(data.draw(shapes()), unique=True))
    axis = data.draw(axes(x.ndim))
    keepdims = data.draw(st.booleans())
    return lambda t: getattr(t, name)(axis=axis, keepdims=keepdims) ** 3, (x,)


def getitem(data):
    x = data.draw(floats(data.draw(shapes(min_dims=1))))
    index = data.draw(
        hnp.basic_indices(x.shape, allow_newaxis=True)
        | hnp.integer_array_indices(x.shape, result_shape=shapes(min_dims=1))
        | hnp.arrays(bool, x.shape)
    )
    return lambda t: t[index] ** 3, (x,)


def matmul(data):
    shapes_ = data.draw(matmul_shapes)
    return operator.matmul, tuple(data.draw(floats(s)) for s in shapes_.input_shapes)


def off_bounds(shape):
    """Odd multiples of 0.01: never on clip's bounds at ±0.5."""
    return grid(shape, parity=1)


def cube_after(op):
    return lambda *ts: op(*ts) ** 3


# Each case draws (f, input arrays) away from kinks. Piecewise-linear and shape ops are cubed
# so that their rules, run on Tensors, carry a non-constant gradient.
SECOND_ORDER_CASES = {
    "mul": lambda d: (operator.mul, pair(d)),
    "div": lambda d: (operator.truediv, pair(d, right=away_from_zero)),
    "pow": lambda d: (operator.pow, pair(d, left=positive)),
    "add_sub_neg": lambda d: (cube_after(lambda a, b: -(a + b) - b), pair(d)),
    "exp": lambda d: (Tensor.exp, one(d)),
    "log": lambda d: (Tensor.log, one(d, positive)),
    "sqrt": lambda d: (Tensor.sqrt, one(d, positive)),
    "sigmoid": lambda d: (Tensor.sigmoid, one(d)),
    "tanh": lambda d: (Tensor.tanh, one(d)),
    "abs": lambda d: (cube_after(Tensor.abs), one(d, away_from_zero)),
    "relu": lambda d: (cube_after(Tensor.relu), one(d, away_from_zero)),
    "clip": lambda d: (cube_after(lambda t: t.clip(-0.5, 0.5)), one(d, off_bounds)),
    "sum": lambda d: reduction("sum", d),
    "mean": lambda d: reduction("mean", d),
    "max": lambda d: reduction("max", d),
    "min": lambda d: reduction("min", d),
    "getitem": getitem,
    "matmul": matmul,
    "linear": lambda d: (
        linear,
        (d.draw(floats((3, 2))), d.draw(floats((2, 3))), d.draw(floats((2, 1)))),
    ),
    "maximum": lambda d: (
        cube_after(maximum),
        pair(d, lambda s: grid(s, parity=0), lambda s: grid(s, parity=1)),
    ),
    "where": lambda d: (cube_after(lambda a, b: where(a > 0, a, b)), pair(d, away_from_zero)),
    "reshape_transpose": lambda d: (cube_after(lambda t: t.reshape(-1, 1).T.mT), one(d)),
    "broadcast_to": lambda d: (cube_after(lambda t: t.broadcast_to((2, *t.shape))), one(d)),
    "concatenate_stack": lambda d: (
        cube_after(lambda a, b: concatenate([a, stack([b, b], axis=-1)], axis=-1)),
        (d.draw(floats((2, 2))), d.draw(floats((2,)))),
    ),
}


@pytest.mark.parametrize("name", SECOND_ORDER_CASES)
@given(data=st.data(), seed=seeds)
def test_second_derivatives(name, data, seed):
    f, arrays = SECOND_ORDER_CASES[name](data)
    check_second_derivatives(f, arrays, seed)


def test_second_derivative_example():
    x = Tensor(3.0, requires_grad=True)
    (dx,) = grad(x**3, x, create_graph=True)
    (dxx,) = grad(dx, x)
    assert (dx.item(), dxx.item()) == (27.0, 18.0)


def test_create_graph_refuses_replaced_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    x.data = np.array([5.0, 5.0])
    with pytest.raises(RuntimeError, match="replaced after the forward pass"):
        grad(y, x, create_graph=True)


# --- long graphs and memory -----------------------------------------------------------------

CHAIN = 100_000


def test_deep_chain_backpropagates_without_recursion():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = y * 1.00001
    y.backward()
    np.testing.assert_allclose(x.grad, 1.00001**CHAIN, rtol=1e-10)


def test_deleting_a_deep_chain_without_backward():
    x = Tensor(1.0, requires_grad=True)
    y = x
    for _ in range(CHAIN):
        y = -y
    del y  # frees 100 000 nested nodes; must not overflow the C stack
    assert x.grad is None


def test_graph_is_freed_after_backward():
    gc.disable()  # only reference counting may free the graph: no cycles allowed
    try:
        x = Tensor(np.ones(3), requires_grad=True)
        hidden = x * 2
        exponential = hidden.exp()
        saved_by_exp = weakref.ref(exponential.data)  # exp's rule reads its output
        loss = exponential.sum()
        del exponential
        assert saved_by_exp() is not None  # the graph keeps it for backward
        loss.backward()
        assert saved_by_exp() is None  # freed by backward, while loss is still alive
        del loss
    finally:
        gc.enable()


def test_intermediates_nobody_saved_are_freed_during_the_forward_pass():
    gc.disable()
    try:
        x = Tensor(np.ones(3), requires_grad=True)
        hidden = x * 2
        tensor, array = weakref.ref(hidden), weakref.ref(hidden.data)
        loss = hidden.exp().sum()  # exp saves only its output, not its input
        del hidden
        assert tensor() is None and array() is None  # gone before backward
        loss.backward()
        np.testing.assert_allclose(x.grad, 2 * np.exp(2.0) * np.ones(3))
    finally:
        gc.enable()


def test_retained_graph_keeps_saved_arrays_until_released():
    gc.disable()
    try:
        x = Tensor(np.ones(3), requires_grad=True)
        exponential = (x * 2).exp()
        saved = weakref.ref(exponential.data)
        loss = exponential.sum()
        del exponential
        loss.backward(retain_graph=True)
        assert saved() is not None
        del loss  # the user drops the graph: it goes
        assert saved() is None
    finally:
        gc.enable()


# --- safety: no mutation, no aliasing, recorded values win ----------------------------------


@given(data=st.data(), shape=shapes(min_dims=1))
def test_user_arrays_are_never_mutated(data, shape):
    x, operand, seed = (data.draw(floats(shape)) for _ in range(3))
    index = data.draw(hnp.integer_array_indices(shape, result_shape=shapes(min_dims=1)))
    snapshots = [a.copy() for a in (x, operand, seed, *index)]
    t = Tensor(x, requires_grad=True)
    out = (t * operand + operand) - t[index].sum() + maximum(t, operand) * where(x > 0, t, 0.0)
    out.backward(seed)
    out = t.exp() / (operand * operand + 1)
    grad(out, t, grad_outputs=seed, create_graph=True)
    for before, after in zip(snapshots, (x, operand, seed, *index)):
        np.testing.assert_array_equal(after, before)


GRAPHS = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "reshape": lambda a, b: a.reshape(-1).reshape(a.shape) + b,
    "transpose": lambda a, b: a.T.T + b.T.T,
    "getitem": lambda a, b: a[...] + b[:],
    "broadcast": lambda a, b: a.broadcast_to((2, *a.shape))[0] + b,
    "concatenate": lambda a, b: concatenate([a, b])[: len(a)] + b,
    "where": lambda a, b: where(np.ones(a.shape, dtype=bool), a, b) + b,
    "maximum": lambda a, b: maximum(a, a) + b,
}


@pytest.mark.parametrize("name", GRAPHS)
def test_gradients_never_alias_each_other_data_or_the_seed(name):
    a = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    b = Tensor([[5.0, 6.0], [7.0, 8.0]], requires_grad=True)
    out = GRAPHS[name](a, b)
    out.retain_grad()
    seed = np.array([[1.0, -1.0], [2.0, 0.5]])
    out.backward(seed)
    grads = [a.grad, b.grad, out.grad]
    found = grad(GRAPHS[name](a, b), [a, b], grad_outputs=seed)
    arrays = [*grads, *(g.data for g in found), a.data, b.data, out.data, seed]
    for i, first in enumerate(arrays):
        for second in arrays[i + 1 :]:
            assert not np.shares_memory(first, second)


def test_gradient_of_a_leaf_used_as_the_root_is_a_copy_of_the_seed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([3.0, 4.0])
    x.backward(seed)
    assert not np.shares_memory(x.grad, seed)
    seed[0] = 100.0
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_replacing_data_after_forward_keeps_the_recorded_gradient():
    p = Tensor([1.0, 2.0], requires_grad=True)
    loss = (p * p).sum()
    recorded = p.data
    p.data = p.data - 10.0  # an optimizer step between forward and backward
    loss.backward()
    np.testing.assert_array_equal(p.grad, 2 * recorded)


# --- bad input ------------------------------------------------------------------------------


def test_backward_on_a_non_scalar_needs_a_gradient():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"backward.*\(2, 3\).*grad="):
        y.backward()


@pytest.mark.parametrize("seed_shape", [(3, 2), (6,), (), (1, 2, 3)])
def test_backward_with_a_gradient_of_the_wrong_shape(seed_shape):
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError) as raised:
        y.backward(np.ones(seed_shape))
    message = str(raised.value)
    assert "backward" in message and str(seed_shape) in message and "(2, 3)" in message


def test_backward_with_a_gradient_of_the_wrong_dtype():
    y = Tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(TypeError, match=r"backward.*complex128"):
        y.backward(np.array([1j, 1j]))


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match=r"backward.*does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


# --- every tensor grad returns is read-only (issue 11, item 2) -------------------------------


def assert_read_only(t):
    with pytest.raises(ValueError, match="read-only"):
        t.data[...] = 0.0


@pytest.mark.parametrize("create_graph", [False, True])
@given(x=floats((2, 3)).map(lambda a: np.where(a == 0, 1.0, a)), seed=seeds)
def test_gradients_from_grad_are_read_only(create_graph, x, seed):
    upstream = np.random.default_rng(seed).standard_normal(x.shape)
    kept = upstream.copy()
    tx = Tensor(x, requires_grad=True)
    out = tx * tx.abs() + tx  # abs: its rule uses a constant sign under create_graph
    (gx,) = grad(out, tx, grad_outputs=upstream, create_graph=create_graph)
    assert_read_only(gx)
    # Writing into the gradient cannot change a graph that saved it, nor the user's seed.
    assert upstream.flags.writeable and np.array_equal(upstream, kept)
    if create_graph:
        (gxx,) = grad(gx.sum(), tx)
        assert_read_only(gxx)
        # d/dx of Σ u·(2|x| + 1) is 2u·sign(x), every factor exact
        np.testing.assert_array_equal(gxx.data, 2 * upstream * np.sign(x))


def test_an_input_that_is_also_an_output_gets_a_read_only_copy_of_the_seed():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = np.array([3.0, 4.0])
    (gx,) = grad(x, x, grad_outputs=seed, create_graph=True)
    assert_read_only(gx)
    assert seed.flags.writeable and not np.shares_memory(gx.data, seed)


# --- grad mode per thread, re-entrant (issue 11 item 1, issue 10 item 7) ----------------------


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    import threading

    w1 = Tensor(2.0, requires_grad=True)
    w2 = Tensor(3.0, requires_grad=True)
    h = w1 * 1.0
    a_inside, b_done, a_may_leave = threading.Event(), threading.Event(), threading.Event()
    results = {}

    def thread_a():
        with no_grad():
            a_inside.set()
            a_may_leave.wait(5)

    def thread_b():
        a_inside.wait(5)
        results["z"] = h * w2  # must record although thread A is inside no_grad
        b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    b_done.wait(5)
    a_may_leave.set()
    for t in threads:
        t.join(5)
    (results["z"] + w1 * w2).sum().backward()
    assert w1.grad == 6.0 and w2.grad == 4.0


def test_interleaved_no_grad_in_two_threads_leaves_grad_mode_on():
    import threading

    steps = [threading.Event() for _ in range(4)]
    seen = {}

    def thread_a():
        block = no_grad()
        block.__enter__()
        steps[0].set()
        steps[1].wait(5)
        block.__exit__(None, None, None)  # leaves first although it entered first
        seen["a"] = is_grad_enabled()
        steps[2].set()

    def thread_b():
        steps[0].wait(5)
        block = no_grad()
        block.__enter__()
        seen["b inside"] = is_grad_enabled()
        steps[1].set()
        steps[2].wait(5)
        block.__exit__(None, None, None)
        seen["b"] = is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert seen == {"a": True, "b inside": False, "b": True}
    assert is_grad_enabled()


def test_one_no_grad_object_entered_twice_nested_restores_grad_mode():
    block = no_grad()
    with block:
        with block:
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_as_a_bare_decorator_and_on_a_method():
    class Model:
        @no_grad
        def predict(self, w):
            """Kept."""
            return w * 2

    w = Tensor([1.0], requires_grad=True)
    assert not Model().predict(w).requires_grad
    assert Model.predict.__doc__ == "Kept." and is_grad_enabled()


def test_enable_grad_records_inside_no_grad():
    from tinygrad_reg import enable_grad

    w = Tensor([1.0], requires_grad=True)
    with no_grad():
        with enable_grad():
            assert (w * 2).requires_grad
        assert not (w * 2).requires_grad

        @enable_grad
        def recorded(x):
            return x * 2

        assert recorded(w).requires_grad
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_call_a_block_and_a_decorator():
    from tinygrad_reg import set_grad_enabled

    w = Tensor([1.0], requires_grad=True)
    try:
        set_grad_enabled(False)
        assert not is_grad_enabled() and not (w * 2).requires_grad
    finally:
        set_grad_enabled(True)
    assert is_grad_enabled()
    with set_grad_enabled(False):
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @set_grad_enabled(False)
    def frozen(x):
        return x * 2

    assert is_grad_enabled()  # decorating changed nothing
    assert not frozen(w).requires_grad and is_grad_enabled()


def test_detect_anomaly_is_per_thread():
    import threading

    from tinygrad_reg import detect_anomaly
    from tinygrad_reg.debug import anomaly

    seen = {}
    with detect_anomaly():
        worker = threading.Thread(target=lambda: seen.setdefault("other", anomaly.is_enabled()))
        worker.start()
        worker.join(5)
        assert anomaly.is_enabled()
    assert seen == {"other": False} and not anomaly.is_enabled()


# --- the save protocol: the engine keeps exactly what each rule reads (issue 12) ------------


def _all_ops():
    import tinygrad_reg.nn.losses
    import tinygrad_reg.nn.regularizers  # noqa: F401  (defines ops)

    found, todo = [], [Function]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("tinygrad_reg.") and sub.backward is not Function.backward:
                found.append(sub)
    return found


@pytest.mark.parametrize("op", _all_ops(), ids=lambda op: op.__name__)
def test_every_built_in_op_declares_what_its_rule_reads(op):
    for attribute in ("save_inputs", "save_out"):
        owner = next(k for k in op.__mro__ if attribute in vars(k))
        assert owner is not Function, f"{op.__name__} does not declare {attribute}"


SPY_RECEIVED: list = []


class _Spy(Function):
    """records what its rule received"""

    def forward(self, a, b):
        return a * b

    def backward(self, g, out, a, b):
        """d(a*b)/da = g*b,  d(a*b)/db = g*a"""
        SPY_RECEIVED.append((out, a, b))
        return (g * 3.0, g * 2.0)


@pytest.mark.parametrize("save_inputs", [False, True])
@pytest.mark.parametrize("save_out", [False, True])
def test_the_rule_receives_none_for_what_the_op_does_not_save(save_inputs, save_out):
    spy = type("SpyVariant", (_Spy,), {"save_inputs": save_inputs, "save_out": save_out})
    SPY_RECEIVED.clear()
    a = Tensor([2.0], requires_grad=True)
    b = Tensor([3.0], requires_grad=True)
    spy()(a, b).sum().backward()
    ((out, x, y),) = SPY_RECEIVED
    assert (out is None) == (not save_out) and (x is None) == (not save_inputs)
    assert (y is None) == (not save_inputs)
    if save_out:
        np.testing.assert_array_equal(out, [6.0])
    if save_inputs:
        np.testing.assert_array_equal(x, [2.0])
    np.testing.assert_array_equal(a.grad, [3.0])


def test_nodes_point_to_nodes_and_leaves_not_to_intermediate_tensors():
    w = Tensor([1.0, 2.0], requires_grad=True)
    hidden = w * 2.0
    out = hidden.exp()
    assert out.grad_fn.parents[0] is hidden.grad_fn
    assert hidden.grad_fn.parents[0] is w and hidden.grad_fn.parents[1] is None
    assert hidden.grad_fn.needs_input_grad == (True, False)


def test_second_order_through_ops_that_save_only_their_output():
    x = Tensor([0.3, -0.7], requires_grad=True)
    (dx,) = grad((x * 2.0).exp().sum(), x, create_graph=True)  # 2e^{2x}
    (dxx,) = grad(dx.sum(), x)  # 4e^{2x}
    np.testing.assert_allclose(dxx.data, 4 * np.exp(2 * x.data), rtol=1e-14)


def test_a_non_scalar_output_names_the_argument_of_the_function_called():
    """backward and explain_backward take grad=, grad() takes grad_outputs=."""
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"or pass grad=\.\.\.$"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"or pass grad_outputs=\.\.\.$"):
        grad(x * 2, [x])


# --- safe custom ops: the engine checks what a rule returns (issue 10 item 10) ----------------


class _Rule(Function):
    """x * 2, with a backward rule that returns whatever the test put in ``result``"""

    save_inputs, save_out = False, False

    def __init__(self, result):
        self.result = result

    def forward(self, x):
        return x * 2

    def backward(self, g, out, x):
        """returns self.result(g)"""
        return self.result(g)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (lambda g: g * 2, r"_Rule\.backward returned a ndarray; expected a tuple of 1"),
        (lambda g: [g * 2], r"returned a list; expected a tuple of 1"),
        (lambda g: (g * 2, g), r"returned a tuple of 2; expected a tuple of 1"),
        (lambda g: (np.ones(3),), r"shape \(3,\) for input 0, which has shape \(2,\)"),
        (lambda g: (np.ones((2, 2, 1)),), r"shape \(2, 2, 1\) for input 0.*\(2,\)"),
        (lambda g: ([1.0, 2.0],), r"returned a list for input 0; expected None or an array"),
    ],
)
def test_a_rule_returning_something_wrong_is_a_clear_error(result, message):
    from tinygrad_reg.engine import GradientRuleError

    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(GradientRuleError, match=message):
        _Rule(result)(x).sum().backward()
    assert x.grad is None  # nothing half-done reached the leaf


@given(data=st.data(), shape=shapes())
def test_a_rule_may_return_any_shape_broadcasting_could_have_made(data, shape):
    x = Tensor(data.draw(floats(shape)), requires_grad=True)
    extra = data.draw(st.lists(st.integers(1, 3), max_size=2))
    wider = tuple(extra) + tuple(n if n != 1 else data.draw(st.integers(1, 3)) for n in shape)
    _Rule(lambda g: (np.ones(wider),))(x).sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(x.grad, np.full(shape, np.prod(wider) / max(np.prod(shape), 1)))


def test_calling_an_op_on_numpy_arrays_and_numbers_takes_them_as_constants():
    from tinygrad_reg.ops.arithmetic import Mul

    out = Mul()(np.array([1.0, 2.0]), 3)
    assert isinstance(out, Tensor) and not out.requires_grad
    np.testing.assert_array_equal(out.data, [3.0, 6.0])
    x = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    y = Mul()(x, 2)  # a number takes the tensor's dtype
    assert y.dtype == np.float32
    Mul()(np.array([3.0, 4.0]), x).sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    with pytest.raises(TypeError, match=r"Mul: input 1 is a str"):
        Mul()(x, "two")

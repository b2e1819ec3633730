"""matmul with numpy's semantics (vectors, matrices, broadcast batches), the fused linear, einsum
(on hypothesis-drawn subscripts), tensordot, outer and dot."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import floats, matmul_shapes, seeds, shapes

from tinygrad_reg import Tensor, dot, einsum, grad, linear, matmul, outer, tensordot
from tinygrad_reg.ops.linalg import MatMul
from tinygrad_reg.testing.gradcheck import gradcheck, gradgradcheck


@given(data=st.data(), shapes=matmul_shapes, seed=seeds)
def test_matmul_gradient(data, shapes, seed):
    a, b = (data.draw(floats(s)) for s in shapes.input_shapes)
    out = Tensor(a) @ Tensor(b)
    assert out.shape == shapes.result_shape
    np.testing.assert_allclose(out.data, a @ b, rtol=1e-15)
    assert gradcheck(lambda x, y: x @ y, [a, b], seed=seed)


@pytest.mark.parametrize(
    ("shape_a", "shape_b"),
    [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 1, 2, 3), (4, 3, 2)), ((4, 2, 3), (3,))],
)
def test_matmul_gradient_vector_and_batch_cases(shape_a, shape_b):
    rng = np.random.default_rng(0)
    assert gradcheck(lambda x, y: x @ y, [rng.normal(size=shape_a), rng.normal(size=shape_b)])


@given(data=st.data(), shapes=matmul_shapes)
def test_matmul_with_numpy_arrays_on_either_side(data, shapes):
    a, b = (data.draw(floats(s)) for s in shapes.input_shapes)
    left, right = a @ Tensor(b), Tensor(a) @ b
    assert isinstance(left, Tensor) and isinstance(right, Tensor)
    np.testing.assert_array_equal(left.data, a @ b)
    np.testing.assert_array_equal(right.data, a @ b)


def test_matmul_gives_only_the_needed_gradient():
    x, w = Tensor(np.ones((3, 4))), Tensor(np.ones((2, 3)), requires_grad=True)
    op = MatMul()
    out = op(w, x)
    grads = op.backward(np.ones(out.shape), out.data, w.data, x.data)
    assert grads[0].shape == (2, 3) and grads[1] is None  # no gradient for the data


@pytest.mark.parametrize(
    ("shape_a", "shape_b"), [((2, 3), (2, 3)), ((3,), (4,)), ((2, 2, 3), (3, 3, 1)), ((), (3,))]
)
def test_matmul_shape_errors_name_the_op_and_the_shapes(shape_a, shape_b):
    with pytest.raises(ValueError) as raised:
        Tensor(np.ones(shape_a)) @ Tensor(np.ones(shape_b))
    message = str(raised.value)
    assert "MatMul" in message and str(shape_a) in message and str(shape_b) in message


@given(
    data=st.data(),
    sizes=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4)),
    seed=seeds,
)
def test_linear_gradient_and_value(data, sizes, seed):
    n_in, n_out, m = sizes
    x, w = data.draw(floats((n_in, m))), data.draw(floats((n_out, n_in)))
    b = data.draw(floats((n_out, 1)))
    np.testing.assert_allclose(linear(Tensor(x), Tensor(w), Tensor(b)).data, w @ x + b)
    assert gradcheck(linear, [x, w, b], seed=seed)


@pytest.mark.parametrize(
    ("shape_x", "shape_w", "shape_b"),
    [
        ((3, 5), (2, 3), (2,)),
        ((3, 5), (2, 4), (2, 1)),
        ((3,), (2, 3), (2, 1)),
        ((3, 5), (2, 3), (1, 1)),
    ],
)
def test_linear_shape_errors_name_the_op_and_the_shapes(shape_x, shape_w, shape_b):
    with pytest.raises(ValueError) as raised:
        linear(Tensor(np.ones(shape_x)), Tensor(np.ones(shape_w)), Tensor(np.ones(shape_b)))
    message = str(raised.value)
    assert "Linear" in message
    assert all(str(s) in message for s in (shape_x, shape_w, shape_b))


def test_linear_takes_numpy_arguments_as_constants():
    X = np.arange(6.0).reshape(2, 3)
    W = Tensor(np.ones((4, 2)), requires_grad=True)
    out = linear(X, W, np.zeros((4, 1)))
    np.testing.assert_array_equal(out.data, np.ones((4, 2)) @ X)
    out.sum().backward()
    np.testing.assert_array_equal(W.grad, np.ones((4, 3)) @ X.T)


# --- einsum ---------------------------------------------------------------------------------


@st.composite
def einsum_problems(draw):
    """(subscripts, operand shapes) that numpy accepts: 1 to 3 operands, letters of both cases
    (each with one size), letters repeated within an operand ('ii'), letters only one operand
    has (summed out), '...' for broadcast axes (each operand taking a suffix of them, some
    stretched from 1), and output given explicitly or left implicit."""
    letters = draw(st.lists(st.sampled_from("ijkaBC"), min_size=1, max_size=4, unique=True))
    size = {c: draw(st.integers(1, 3)) for c in letters}
    broadcast = draw(st.lists(st.integers(1, 3), max_size=2))
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        term = draw(st.lists(st.sampled_from(letters), max_size=3))
        shape = [size[c] for c in term]
        if draw(st.booleans()):
            mine = broadcast[len(broadcast) - draw(st.integers(0, len(broadcast))) :]
            mine = [1 if draw(st.booleans()) else n for n in mine]
            where = draw(st.integers(0, len(term)))
            term = [*term[:where], "...", *term[where:]]
            shape = [*shape[:where], *mine, *shape[where:]]
        terms.append("".join(term))
        shapes.append(tuple(shape))
    subscripts = ",".join(terms)
    if draw(st.booleans()):  # explicit output: distinct letters, plus '...' if it was used
        used = sorted(set("".join(terms).replace(".", "")))
        output = draw(st.lists(st.sampled_from(used), unique=True)) if used else []
        if any("..." in t for t in terms):
            output.insert(draw(st.integers(0, len(output))), "...")
        subscripts += "->" + "".join(output)
    return subscripts, shapes


@given(data=st.data(), problem=einsum_problems(), seed=seeds)
def test_einsum_values_and_gradients(data, problem, seed):
    subscripts, shapes = problem
    operands = [data.draw(floats(s)) for s in shapes]
    out = einsum(subscripts, *operands)
    # The forward pass is numpy's own einsum (optimized for 3 operands: a different summation
    # order, so equal to rounding).
    np.testing.assert_allclose(out.data, np.einsum(subscripts, *operands), rtol=1e-12, atol=1e-12)
    assert out.shape == np.einsum(subscripts, *operands).shape
    assert gradcheck(lambda *ts: einsum(subscripts, *ts), operands, seed=seed)


@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("ii->i", [(3, 3)]),  # a diagonal: off-diagonal elements get 0
        ("ii", [(3, 3)]),  # the trace
        ("iij,j->i", [(2, 2, 3), (3,)]),
        ("iii", [(2, 2, 2)]),
        ("ij->", [(2, 3)]),  # both letters summed out: the gradient is g everywhere
        ("ij,k->jk", [(2, 3), (4,)]),  # i only in the first operand
        ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 2)]),  # batched matmul, broadcast
        ("a...b", [(2, 3, 4)]),  # implicit: '...' first, then the letters in order
        ("Ba,bA", [(2, 3), (4, 5)]),  # implicit: upper case sorts first, as numpy
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
        ("i,i", [(3,), (1,)]),  # a size-1 axis stretched to its letter's size
        ("", [()]),
    ],
)
def test_einsum_named_cases(subscripts, shapes):
    rng = np.random.default_rng(1)
    operands = [rng.normal(size=s) for s in shapes]
    np.testing.assert_allclose(einsum(subscripts, *operands).data, np.einsum(subscripts, *operands))
    assert gradcheck(lambda *ts: einsum(subscripts, *ts), operands)


@pytest.mark.parametrize(
    ("inputs", "output"),
    [
        (([0, 1], [1, 2]), [[0, 2]]),
        (([0, 0],), [[0]]),
        (([Ellipsis, 0, 1], [1]), [[Ellipsis, 0]]),
        (([0, 26], [26, 1]), [[0, 1]]),  # 26 is 'A'
        (([0, 1], [1]), []),  # implicit output
    ],
)
def test_einsum_sublist_form_as_numpy(inputs, output):
    rng = np.random.default_rng(4)
    sizes = {0: 2, 1: 3, 2: 4, 26: 2, Ellipsis: 5}
    operands = [rng.normal(size=[sizes[i] for i in sublist]) for sublist in inputs]

    def interleaved(xs):
        return [item for pair in zip(xs, inputs) for item in pair] + output

    np.testing.assert_allclose(
        einsum(*interleaved(operands)).data, np.einsum(*interleaved(operands))
    )
    assert gradcheck(lambda *ts: einsum(*interleaved(ts)), operands)


def test_einsum_gradient_of_a_diagonal_is_g_on_the_diagonal():
    x = Tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
    einsum("ii->i", x).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, np.diag([1.0, 2.0, 3.0]))


@pytest.mark.parametrize(
    ("subscripts", "shapes"),
    [
        ("ij,jk->ik", [(2, 3), (3, 2)]),
        ("ii,i->i", [(3, 3), (3,)]),
        ("...i,...i->...", [(2, 3), (3,)]),
        ("ij,j", [(2, 3), (3,)]),
    ],
)
def test_einsum_second_order(subscripts, shapes):
    rng = np.random.default_rng(2)
    operands = [rng.normal(size=s) for s in shapes]
    # Cubed, so the second derivatives are not only the bilinear cross terms.
    assert gradgradcheck(lambda *ts: einsum(subscripts, *ts) ** 3, operands)


def test_einsum_keeps_float32():
    a = Tensor(np.ones((3, 3), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    out = einsum("ii,i->i", a, b)
    assert out.dtype == np.float32
    ga, gb = grad(out.sum(), [a, b], create_graph=True)
    assert ga.dtype == gb.dtype == np.float32


def test_einsum_errors_name_the_op_the_shapes_and_the_expectation():
    a = Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Einsum: .*\(2, 3\), \(2, 3\).*one letter per axis"):
        einsum("ij,jk->ik", a, a)
    with pytest.raises(ValueError, match=r"Einsum: .*\(2, 3\)"):
        einsum("ijk", a)
    with pytest.raises(TypeError, match=r"einsum: Tensor is neither a subscripts string nor"):
        einsum(a, a)
    with pytest.raises(TypeError, match=r"einsum: \[0, 52\] is neither"):
        einsum(a, [0, 52])
    with pytest.raises(ValueError, match=r"einsum: no operands"):
        einsum("ij")


# --- tensordot, outer, dot, matmul ----------------------------------------------------------


@st.composite
def tensordot_problems(draw):
    """Shapes of a and b and an ``axes`` argument pairing axes of equal sizes."""
    shape_a = draw(shapes(max_dims=3))
    count = draw(st.integers(0, len(shape_a)))
    paired = draw(st.permutations(range(len(shape_a))))[:count]
    free_b = draw(shapes(max_dims=2))
    positions = draw(st.permutations(range(count + len(free_b))))
    shape_b = [0] * (count + len(free_b))
    for k, axis in enumerate(paired):
        shape_b[positions[k]] = shape_a[axis]
    for k, n in enumerate(free_b):
        shape_b[positions[count + k]] = n
    axes = (list(paired), [positions[k] for k in range(count)])
    if paired == list(range(len(shape_a) - count, len(shape_a))) and positions[:count] == list(
        range(count)
    ):
        axes = draw(st.sampled_from([axes, count]))
    return tuple(shape_a), tuple(shape_b), axes


@given(data=st.data(), problem=tensordot_problems(), seed=seeds)
def test_tensordot(data, problem, seed):
    shape_a, shape_b, axes = problem
    a, b = data.draw(floats(shape_a)), data.draw(floats(shape_b))
    np.testing.assert_allclose(
        tensordot(a, b, axes).data, np.tensordot(a, b, axes), rtol=1e-12, atol=1e-12
    )
    assert gradcheck(lambda x, y: tensordot(x, y, axes), [a, b], seed=seed)


@given(data=st.data(), seed=seeds)
def test_dot_as_numpy_for_every_rank(data, seed):
    shape_a = data.draw(shapes(max_dims=3))
    if shape_a and data.draw(st.booleans()):  # b's contracted axis: its only or second-to-last
        shape_b = data.draw(shapes(max_dims=2))
        where = max(len(shape_b) - 1, 0)
        shape_b = (*shape_b[:where], shape_a[-1], *shape_b[where:])
    else:  # a 0-d operand, on either side: dot is then a * b
        shape_a, shape_b = data.draw(st.permutations([shape_a, ()]))
    a, b = data.draw(floats(shape_a)), data.draw(floats(shape_b))
    np.testing.assert_allclose(dot(a, b).data, np.dot(a, b), rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda x, y: x.dot(y), [a, b], seed=seed)


@given(data=st.data(), seed=seeds)
def test_outer_flattens_as_numpy(data, seed):
    a, b = data.draw(floats(data.draw(shapes()))), data.draw(floats(data.draw(shapes())))
    np.testing.assert_array_equal(outer(a, b).data, np.outer(a, b))
    assert gradcheck(lambda x, y: x.outer(y), [a, b], seed=seed)


@given(data=st.data(), shapes=matmul_shapes, seed=seeds)
def test_matmul_method_and_function(data, shapes, seed):
    a, b = (data.draw(floats(s)) for s in shapes.input_shapes)
    np.testing.assert_array_equal(matmul(a, b).data, np.matmul(a, b))
    assert gradcheck(lambda x, y: x.matmul(y), [a, b], seed=seed)


def test_product_errors():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"tensordot: axes \[1\] of shape \(2, 3\) and \[1\] of"):
        tensordot(a, b, ([1], [1]))
    with pytest.raises(ValueError, match=r"tensordot: axes=3 for shapes \(2, 3\) and \(4, 2\)"):
        tensordot(a, b, 3)
    with pytest.raises(ValueError, match=r"tensordot: axis 2 for shape \(2, 3\)"):
        tensordot(a, b, ([2], [0]))
    with pytest.raises(ValueError, match=r"dot: shapes \(2, 3\) and \(4, 2\) are not aligned"):
        dot(a, b)


def test_products_keep_float32():
    a = Tensor(np.ones((2, 3), dtype=np.float32), requires_grad=True)
    b = Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=True)
    for out in (tensordot(a, b, 1), a.dot(b), a.outer(b), a.matmul(b), dot(a, 2.0)):
        assert out.dtype == np.float32
        ga, gb = grad((out * out).sum(), [a, b], create_graph=True, allow_unused=True)
        assert ga.dtype == np.float32 and (gb is None or gb.dtype == np.float32)

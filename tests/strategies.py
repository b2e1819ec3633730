"""Hypothesis strategies shared by the core tests, and the check most op tests run on what they
draw (private to tests/, not the public API).

Gradient checks compare against central differences with eps = 1e-6, so every strategy here
keeps its values at least 0.01 away from the kinks and singularities of the op under test
(0 for relu/abs/log, ties for max/min): by construction, not by loosening tolerances.
"""

import io

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_reg import Tensor
from tinygrad_reg.testing.gradcheck import gradcheck

#: Small shapes: numerical gradients cost two forward passes per element.
SHAPE_LIMITS = {"min_dims": 0, "max_dims": 3, "min_side": 1, "max_side": 3}

#: Seeds for gradcheck's random upstream gradient.
seeds = st.integers(0, 2**32 - 1)

#: Operand shapes for ``a @ b`` from numpy's own gufunc signature, (n?,k),(k,m?)->(n?,m?): the
#: optional n and m make 1-D operands; up to two batch axes broadcast against each other.
matmul_shapes = hnp.mutually_broadcastable_shapes(
    signature=np.matmul.signature, max_dims=2, min_side=1, max_side=3
)


def shapes(**limits: int) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(**{**SHAPE_LIMITS, **limits})


def floats(shape: tuple[int, ...], lo: float = -2.0, hi: float = 2.0) -> st.SearchStrategy:
    """float64 arrays with elements in [lo, hi] (no subnormals: g/2 + g/2 must be g)."""
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_subnormal=False))


def away_from_zero(shape: tuple[int, ...]) -> st.SearchStrategy:
    """float64 arrays with magnitudes in [0.1, 2] and random signs (no element near 0)."""
    magnitude = st.floats(0.1, 2.0)
    return hnp.arrays(np.float64, shape, elements=magnitude | magnitude.map(lambda v: -v))


def positive(shape: tuple[int, ...]) -> st.SearchStrategy:
    """float64 arrays with elements in [0.1, 2] (away from the singularity of log and 1/x)."""
    return floats(shape, 0.1, 2.0)


def grid(shape: tuple[int, ...], parity: int | None = None, unique: bool = False):
    """float64 arrays of multiples of 0.01 in [-3, 3]: distinct values are >= 0.01 apart.

    ``parity`` 0 or 1 keeps only even or odd multiples, so an even array and an odd one never
    tie; ``unique=True`` makes the elements of one array distinct (no ties inside a max).
    """
    steps = st.integers(-150, 150)
    if parity is not None:
        steps = steps.map(lambda k: 2 * k + parity)
    # asarray: a 0-d array times 0.01 is a numpy scalar, not an array
    return hnp.arrays(np.int64, shape, elements=steps, unique=unique).map(
        lambda a: np.asarray(a * 0.01)
    )


def axes(ndim: int) -> st.SearchStrategy:
    """A reduction ``axis``: None, an int (maybe negative) or a tuple of distinct ints."""
    single = st.integers(-ndim, ndim - 1) if ndim else st.nothing()
    return st.none() | single | hnp.valid_tuple_axes(ndim)


def off_integers(shape: tuple[int, ...]) -> st.SearchStrategy:
    """float64 arrays whose elements are at least 0.1 from every integer (the jumps of floor and
    ceil), in [-3, 3]."""
    offsets = st.integers(-3, 2).flatmap(lambda k: st.floats(k + 0.1, k + 0.9))
    return hnp.arrays(np.float64, shape, elements=offsets)


def check_forward_and_gradient(f, x: np.ndarray, seed: int, reference) -> None:
    """f matches its numpy ``reference`` exactly and its gradient matches central differences
    (with gradcheck's random upstream gradient from ``seed``)."""
    np.testing.assert_array_equal(f(Tensor(x)).data, reference(x))
    assert gradcheck(f, [x], seed=seed)


def sound_archive(compressed: bool) -> tuple[bytes, dict[str, np.ndarray]]:
    """The bytes of a small .npz of train's kind: X (2, 40) and Y (1, 40)."""
    rng = np.random.default_rng(0)
    buffer = io.BytesIO()
    arrays = {"X": rng.normal(size=(2, 40)), "Y": (rng.random((1, 40)) > 0.5).astype(float)}
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue(), arrays


@st.composite
def one_byte_changed(draw, original: bytes) -> bytes:
    """``original`` with one byte replaced by another value, anywhere in the file."""
    position = draw(st.integers(0, len(original) - 1))
    new = draw(st.integers(0, 255).filter(lambda b: b != original[position]))
    damaged = bytearray(original)
    damaged[position] = new
    return bytes(damaged)


def sgd_steps(make_model, X, Y, steps, compiled):
    """The costs of ``steps`` SGD steps (lr 0.1, mean squared error) on a fresh
    ``make_model()``, eager or under ``compile``, and its parameters' values after them: a layer
    that draws (noise, masks) must give the same numbers both ways."""
    import tinygrad_reg as tg
    from tinygrad_reg.nn import mse_loss
    from tinygrad_reg.optim import SGD

    model = make_model()
    optimizer = SGD(model.parameters(), lr=0.1)

    def step(X, Y):
        optimizer.zero_grad()
        cost = mse_loss(model(X), Y)
        cost.backward()
        optimizer.step()
        return cost

    step = tg.compile(step) if compiled else step
    costs = [step(X, Y).item() for _ in range(steps)]
    return costs, [p.data.copy() for p in model.parameters()]


def upstream_gradient(seed, shape):
    """A random, non-uniform upstream gradient with no entry near 0."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape)


@st.composite
def linear_cases(draw, settings):
    """(n_in, n_out, X (n_in, m), a value drawn from ``settings``, a seed) for a layer like
    Linear whose forward draws from a generator (weight noise, DropConnect)."""
    n_in, n_out, m = draw(st.integers(1, 5)), draw(st.integers(1, 5)), draw(st.integers(1, 6))
    X = draw(hnp.arrays(np.float64, (n_in, m), elements=st.floats(-3, 3)))
    return n_in, n_out, X, draw(settings), draw(st.integers(0, 2**32 - 1))

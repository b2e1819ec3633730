"""Check analytic gradients against finite differences.

Two ways: ``gradcheck`` for any function of Tensors, and ``gradient_check_n``, the course's
check of a parameters dict (W1, b1, ..., flattened into one vector) against a backprop's
gradients dict. ``gradgradcheck`` checks second derivatives (``create_graph=True``) the same
way, against central differences of first derivatives.

The numerical gradient of a scalar function f at x, element by element, is the central
difference (f(x + eps) - f(x - eps)) / (2 eps): its error shrinks like eps², but rounding
error grows like 1/eps, so it needs float64.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..engine import GradientRuleError, grad, no_grad
from ..tensor import Tensor
from .reference import layer_dims_of

TensorFunction = Callable[..., Tensor]


def relative_difference(a: Any, b: Any) -> float:
    """||a - b|| / (||a|| + ||b||), and 0 when both are zero.

    Both are first divided by their largest magnitude, which leaves the ratio unchanged but
    keeps the squares inside the norms from overflowing (1e200) or underflowing to 0 (1e-200).
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    largest = max(np.abs(a).max(initial=0.0), np.abs(b).max(initial=0.0))
    if largest == 0:
        return 0.0
    a, b = a / largest, b / largest
    ratio = float(np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b)))
    return min(ratio, 1.0)  # at most 1 (triangle inequality); rounding can add an ulp


def _as_float64_leaves(inputs: Sequence[Any], where: str) -> list[Tensor]:
    leaves = []
    for i, x in enumerate(inputs):
        t = x if isinstance(x, Tensor) else Tensor(x)
        if t.dtype != np.float64:
            raise TypeError(
                f"{where}: input {i} is {t.dtype}. Finite differences need float64: in float32 "
                "the rounding error of f(x ± eps) swamps the difference itself. Cast with "
                "Tensor(x.data.astype(np.float64), requires_grad=True)."
            )
        leaves.append(t)
    return leaves


def _scalar_output(f: TensorFunction, inputs: Sequence[Tensor], upstream: Any) -> Tensor:
    """f(*inputs), contracted with the upstream gradient if f's output is not one number."""
    out = f(*inputs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f returned {type(out).__name__}; expected a Tensor.")
    return out if upstream is None else (out * upstream).sum()


def numerical_gradient(
    f: TensorFunction, inputs: Sequence[Any], eps: float = 1e-6, upstream: Any = None
) -> list[np.ndarray]:
    """Central-difference gradient of ``f(*inputs)`` (a one-element Tensor) for every input.

    With ``upstream`` (an array of f's output shape), the gradient of sum(f(*inputs) * upstream).
    """
    leaves = _as_float64_leaves(inputs, "numerical_gradient")
    values = [x.data.copy() for x in leaves]  # our own copies, perturbed in place below

    def f_at() -> float:
        with no_grad():
            return _scalar_output(f, [Tensor(p) for p in values], upstream).item()

    return _central_differences(values, f_at, eps)


def _central_differences(
    values: list[np.ndarray], scalar_at: Callable[[], float], eps: float
) -> list[np.ndarray]:
    """(scalar(x + eps) - scalar(x - eps)) / (2 eps) for every element x of ``values``: each is
    perturbed in place, ``scalar_at()`` evaluated there, and the element restored."""
    derivatives = []
    for point in values:
        d = np.zeros_like(point)
        flat, flat_d = point.reshape(-1), d.reshape(-1)
        for i in range(flat.size):
            original = flat[i]
            flat[i] = original + eps
            plus = scalar_at()
            flat[i] = original - eps
            minus = scalar_at()
            flat[i] = original
            flat_d[i] = (plus - minus) / (2 * eps)
        derivatives.append(d)
    return derivatives


def analytic_gradient(f: TensorFunction, inputs: Sequence[Any], upstream: Any = None) -> list:
    """The engine's gradient of ``f(*inputs)`` (contracted with ``upstream``) for every input."""
    leaves = [
        Tensor(x.data if isinstance(x, Tensor) else x, requires_grad=True)
        for x in _as_float64_leaves(inputs, "analytic_gradient")
    ]
    out = _scalar_output(f, leaves, upstream)
    found = grad(out, leaves, allow_unused=True)
    return [np.zeros(x.shape) if g is None else g.data for x, g in zip(leaves, found)]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with the numerical one."""


def gradcheck(
    f: TensorFunction,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    upstream: Any = "random",
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """True if every input's analytic gradient matches central differences.

    An element passes if |analytic - numerical| <= atol + rtol * |numerical|. A function with a
    non-scalar output is checked through sum(f * u) with a random upstream gradient u (seeded),
    which exercises the full vector-Jacobian product; pass ``upstream=None`` to require a
    one-element output. On failure it raises ``GradcheckError`` naming the input, the worst
    element, both values and the error (or returns False if ``raise_exception=False``); with an
    upstream gradient the message says so and gives u (and, where u has the input's shape, the
    values divided by u at that element: the plain derivatives, for an elementwise f).
    """
    leaves = _as_float64_leaves(inputs, "gradcheck")
    with no_grad():
        output = f(*leaves)
    if not isinstance(output, Tensor):
        raise TypeError(f"gradcheck: f returned {type(output).__name__}; expected a Tensor.")
    random = isinstance(upstream, str) and upstream == "random"
    if random:
        shape = output.shape
        upstream = np.random.default_rng(seed).standard_normal(shape) if shape else None
    elif upstream is None and output.size != 1:
        raise ValueError(
            f"gradcheck: f's output has shape {output.shape}; with upstream=None it must have "
            "one element. Leave upstream='random' (the default: a random upstream gradient of "
            "the output's shape) or pass upstream= an array of that shape."
        )
    try:
        analytic = analytic_gradient(f, leaves, upstream)
    except GradientRuleError as error:  # a rule returned no gradient the engine could use
        return _fail(f"gradcheck: the backward pass failed: {error}", raise_exception, error)
    numerical = numerical_gradient(f, leaves, eps, upstream)

    def weighting(i: int, index: tuple[int, ...], a: float, n: float) -> str:
        if upstream is None:
            return ""
        u = np.asarray(upstream, dtype=np.float64)
        text = (
            f". Both are gradients of sum(f(*inputs) * u), the output weighted by the upstream "
            f"gradient u ({f'random, seed {seed}' if random else 'given'}, shape {u.shape})"
        )
        if u.size <= 8:
            text += f" = {_plain(u.tolist())}"
        if u.shape == analytic[i].shape and u[index] != 0:
            text += (
                f"; u{list(index)} = {_plain(u[index])}, so for an elementwise f the plain "
                f"derivatives there are analytic {_plain(a / u[index])}, numerical "
                f"{_plain(n / u[index])}"
            )
        return text + ". Pass upstream=None to check a one-element output unweighted."

    return _compare(
        "gradcheck", "gradient", analytic, numerical, atol, rtol, raise_exception, weighting
    )


def _plain(value: Any) -> str:
    """A number (or nested list of numbers) printed as plain floats: 0.25, not np.float64(0.25)."""
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return f"{float(value):.10g}"


def _fail(message: str, raise_exception: bool, cause: Exception | None = None) -> bool:
    if raise_exception:
        raise GradcheckError(message) from cause
    return False


def _compare(
    where: str,
    what: str,
    analytic: Sequence[np.ndarray],
    numerical: Sequence[np.ndarray],
    atol: float,
    rtol: float,
    raise_exception: bool,
    weighting: Callable[[int, tuple[int, ...], float, float], str] | None = None,
) -> bool:
    """True if every element passes |a - n| <= atol + rtol * |n|; else raise or return False.
    ``weighting(input, index, a, n)`` adds what the values are weighted by to the message."""
    for i, (a, n) in enumerate(zip(analytic, numerical)):
        if np.shape(a) != np.shape(n):
            message = (
                f"{where}: input {i}: the analytic {what} has shape {np.shape(a)}; "
                f"expected {np.shape(n)}, the input's shape"
            )
            return _fail(message, raise_exception)
        allowed = atol + rtol * np.abs(n)
        # A NaN or inf in either gradient fails: nothing can be checked there.
        close = np.isfinite(a) & np.isfinite(n) & (np.abs(a - n) <= allowed)
        if not close.all():
            excess = np.where(close, -np.inf, np.abs(a - n) - allowed)
            flat_worst = np.argmax(np.nan_to_num(excess, nan=np.inf))
            worst = tuple(int(k) for k in np.unravel_index(flat_worst, a.shape))
            message = (
                f"{where}: input {i} (shape {a.shape}): at index {worst} "
                f"the analytic {what} is {_plain(a[worst])} but the numerical one is "
                f"{_plain(n[worst])} (|difference| {abs(a[worst] - n[worst]):.3g}, allowed "
                f"{atol + rtol * abs(n[worst]):.3g}; relative difference of the whole {what} "
                f"{relative_difference(a, n):.3g})"
            )
            if weighting is not None:
                message += weighting(i, worst, float(a[worst]), float(n[worst]))
            if raise_exception:
                raise GradcheckError(message)
            return False
    return True


def gradgradcheck(
    f: TensorFunction,
    inputs: Sequence[Any],
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """True if the second derivatives that ``grad(..., create_graph=True)`` records match
    central differences of the first derivatives.

    With random (seeded) u of f's shape and v_i of each input's shape, let
    h(x) = Σ f(x)·u (just f for a one-element output) and s(x) = Σ_i Σ ∇_i h(x)·v_i. The
    analytic gradient of s is the engine's Hessian-vector product H·v, computed by
    differentiating the recorded backward pass; the numerical one is the central difference of
    s, where each s is an ordinary first-order backward pass. Elements pass, fail and are
    reported as in ``gradcheck`` (``GradcheckError`` saying "second derivative").
    """
    leaves = _as_float64_leaves(inputs, "gradgradcheck")
    rng = np.random.default_rng(seed)
    with no_grad():
        shape = f(*leaves).shape
    upstream = rng.standard_normal(shape) if shape else None
    directions = [rng.standard_normal(x.shape) for x in leaves]

    def directional_derivative(points: Sequence[Tensor], create_graph: bool) -> Any:
        """s at ``points`` (leaves that require grad): a Tensor, 0.0 if h is constant."""
        h = _scalar_output(f, points, upstream)
        if not h.requires_grad:
            return 0.0
        first = grad(h, points, create_graph=create_graph, allow_unused=True)
        terms = [(g * v).sum() for g, v in zip(first, directions) if g is not None]
        return sum(terms[1:], terms[0]) if terms else 0.0

    # Analytic: differentiate s, whose graph includes the recorded backward pass.
    points = [Tensor(x.data, requires_grad=True) for x in leaves]
    analytic = [np.zeros(x.shape) for x in leaves]
    try:
        s = directional_derivative(points, create_graph=True)
        if isinstance(s, Tensor) and s.requires_grad:
            found = grad(s, points, allow_unused=True)
            analytic = [np.zeros(x.shape) if g is None else g.data for x, g in zip(leaves, found)]
    except GradientRuleError as error:  # a rule returned no gradient the engine could use
        return _fail(f"gradgradcheck: the backward pass failed: {error}", raise_exception, error)

    # Numerical: central differences of s, one element at a time.
    values = [x.data.copy() for x in leaves]  # our own copies, perturbed in place below

    def s_at() -> float:
        s = directional_derivative([Tensor(p, requires_grad=True) for p in values], False)
        return float(s.item()) if isinstance(s, Tensor) else float(s)

    numerical = _central_differences(values, s_at, eps)
    return _compare(
        "gradgradcheck", "second derivative", analytic, numerical, atol, rtol, raise_exception
    )


# ---------------------------------------------------------------------------------------------
# The course's gradient check
# ---------------------------------------------------------------------------------------------


def _course_order(parameters: dict[str, Any]) -> list[str]:
    L = len(layer_dims_of(parameters)) - 1
    return [f"{kind}{l}" for l in range(1, L + 1) for kind in "Wb"]


def parameters_to_vector(parameters: dict[str, Any]) -> np.ndarray:
    """W1, b1, W2, b2, ..., WL, bL, each flattened row-major, in one 1-D array."""
    return np.concatenate([np.ravel(parameters[key]) for key in _course_order(parameters)])


def vector_to_parameters(vector: np.ndarray, like: dict[str, Any]) -> dict[str, np.ndarray]:
    """The inverse of ``parameters_to_vector``: a new dict with the shapes of ``like``."""
    keys = _course_order(like)
    sizes = [np.size(like[key]) for key in keys]
    if np.ndim(vector) != 1 or np.size(vector) != sum(sizes):
        raise ValueError(
            f"vector_to_parameters: the vector has shape {np.shape(vector)}; expected "
            f"({sum(sizes)},), the number of parameters in {keys}."
        )
    pieces = np.split(np.asarray(vector), np.cumsum(sizes)[:-1])
    return {key: piece.reshape(np.shape(like[key])) for key, piece in zip(keys, pieces)}


def _gradient_vector(gradients: dict[str, Any], parameters: dict[str, Any]) -> np.ndarray:
    """The gradients in parameters' order; each looked up as "dW1" (course) or "W1"."""
    pieces = []
    for key in _course_order(parameters):
        name = "d" + key if "d" + key in gradients else key
        if name not in gradients:
            raise ValueError(f"gradient_check_n: gradients has neither 'd{key}' nor '{key}'.")
        if np.shape(gradients[name]) != np.shape(parameters[key]):
            raise ValueError(
                f"gradient_check_n: {name} has shape {np.shape(gradients[name])}; expected "
                f"{np.shape(parameters[key])}, the shape of {key}."
            )
        pieces.append(np.ravel(gradients[name]))
    return np.concatenate(pieces)


def gradient_check_n(
    cost_fn: Callable[[dict[str, np.ndarray]], float],
    parameters: dict[str, Any],
    gradients: dict[str, Any],
    epsilon: float = 1e-7,
) -> float:
    """The course's check: ||g - ĝ|| / (||g|| + ||ĝ||), where g are the ``gradients`` (keyed
    "dW1", ... or "W1", ...; other keys such as "dZ1" are ignored) and ĝ the central differences
    (J(θ + ε·e_i) - J(θ - ε·e_i)) / 2ε of ``cost_fn(parameters_dict)``, one parameter at a
    time. Below about 1e-7 the backprop is right; a bug gives something far larger.
    """
    theta = parameters_to_vector(parameters).astype(np.float64)
    grad = _gradient_vector(gradients, parameters)
    approx = np.empty_like(theta)
    for i in range(theta.size):
        original = theta[i]
        theta[i] = original + epsilon
        J_plus = float(cost_fn(vector_to_parameters(theta.copy(), parameters)))
        theta[i] = original - epsilon
        J_minus = float(cost_fn(vector_to_parameters(theta.copy(), parameters)))
        theta[i] = original
        approx[i] = (J_plus - J_minus) / (2 * epsilon)
    return relative_difference(grad, approx)

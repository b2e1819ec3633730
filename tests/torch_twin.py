"""The check the PyTorch comparisons run (private to tests/): an op and its torch twin agree on
values, first derivatives (for a random upstream gradient) and second derivatives (the gradient
of ⟨first derivatives, a random direction⟩), all in float64.

Tolerance: both sides evaluate the same formulas in float64 in a different order, so they
differ by a few roundings (~1e-16 relative each) times the condition of the op on the drawn
inputs, which the strategies keep below ~1e3 by staying away from singularities; 1e-9 relative
(plus 1e-12 absolute for values that cancel to about 0) leaves a wide margin above that.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch

from tinygrad_reg import Tensor, grad

RTOL, ATOL = 1e-9, 1e-12


def close(ours, theirs) -> None:
    np.testing.assert_allclose(
        np.asarray(ours), theirs.detach().numpy(force=True), rtol=RTOL, atol=ATOL, equal_nan=True
    )


def assert_matches_torch(
    ours: Callable,
    theirs: Callable,
    inputs: Sequence[np.ndarray],
    seed: int,
    second_order: bool = True,
    differentiable: Sequence[bool] | None = None,
) -> None:
    """``ours(*Tensors)`` equals ``theirs(*torch tensors)``, and so do their derivatives with
    respect to the inputs marked in ``differentiable`` (all by default)."""
    differentiable = [True] * len(inputs) if differentiable is None else list(differentiable)
    xs = [Tensor(x, requires_grad=d) for x, d in zip(inputs, differentiable)]
    ts = [
        torch.tensor(x, dtype=torch.float64, requires_grad=d)
        for x, d in zip(inputs, differentiable)
    ]
    out, t_out = ours(*xs), theirs(*ts)
    close(out.data, t_out)
    wrt = [x for x, d in zip(xs, differentiable) if d]
    t_wrt = [t for t, d in zip(ts, differentiable) if d]
    if not wrt:
        return
    rng = np.random.default_rng(seed)
    g = rng.uniform(0.5, 1.5, out.shape) * rng.choice([-1.0, 1.0], out.shape)
    firsts = grad(out, wrt, g, create_graph=second_order, allow_unused=True)
    t_firsts = torch.autograd.grad(
        t_out, t_wrt, torch.tensor(g), create_graph=second_order, allow_unused=True
    )
    for first, t_first, x in zip(firsts, t_firsts, wrt):
        close(zeros_if_none(first, x), zeros_if_none(t_first, x))
    if not second_order:
        return
    directions = [rng.uniform(-1.0, 1.0, x.shape) for x in wrt]
    used = [(f, t, v) for f, t, v in zip(firsts, t_firsts, directions) if f is not None]
    if not used or any(t is None or not t.requires_grad for _, t, _ in used):
        return  # piecewise linear in every input: no second derivative to compare
    inner = sum((f * v).sum() for f, _, v in used)
    t_inner = sum((t * torch.tensor(v)).sum() for _, t, v in used)
    t_seconds = torch.autograd.grad(t_inner, t_wrt, allow_unused=True)
    if not inner.requires_grad:  # ours knows the first derivative is piecewise constant
        for t_second, x in zip(t_seconds, wrt):
            close(np.zeros(x.shape), zeros_if_none(t_second, x))
        return
    seconds = grad(inner, wrt, allow_unused=True)
    for second, t_second, x in zip(seconds, t_seconds, wrt):
        close(zeros_if_none(second, x), zeros_if_none(t_second, x))


def zeros_if_none(gradient, x):
    if gradient is None:
        return torch.zeros(x.shape, dtype=torch.float64)
    if isinstance(gradient, Tensor):
        return gradient.data
    return gradient


def assert_layer_matches_torch(layer, torch_layer, x: np.ndarray, seed: int, to_torch=None) -> None:
    """``layer(x)`` equals ``torch_layer`` given the same parameters (copied by name, float64),
    and so do the derivatives with respect to x and every parameter. ``to_torch`` maps a
    function of torch's layout to ours (BatchNorm1d: x ↦ f(x.T).T); identity if None."""
    names = [name for name, _ in layer.named_parameters()]
    values = [p.data for p in layer.parameters()]
    torch_layer = torch_layer.double()
    assert sorted(names) == sorted(name for name, _ in torch_layer.named_parameters())

    def ours(x, *parameters):
        for name, p in zip(names, parameters):
            setattr(layer, name, p)
        return layer(x)

    def forward(x, parameters):
        return torch.func.functional_call(torch_layer, dict(zip(names, parameters)), (x,))

    def theirs(x, *parameters):
        if to_torch is None:
            return forward(x, parameters)
        return to_torch(lambda t: forward(t, parameters))(x)

    assert_matches_torch(ours, theirs, [x, *values], seed)

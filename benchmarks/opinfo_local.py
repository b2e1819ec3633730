"""tinygrad_reg against PyTorch's OpInfo samples: forward values and first derivatives.

For each op of the table ``ADAPTERS`` (PyTorch's OpInfo name → a function calling the
tinygrad_reg op with PyTorch's arguments), every sample input PyTorch's OpInfo database
(``torch.testing._internal.common_methods_invocations.op_db``) makes for float64 on the CPU,
with ``requires_grad=True``, is run through both: the outputs must agree, and so must the
gradients of ⟨outputs, g⟩ with respect to every floating input that requires grad, for a
random normal (non-uniform) upstream gradient g. A sample whose arguments the op does not
take is skipped with its reason, counted; an error from tinygrad_reg on a sample PyTorch
accepts counts as a disagreement.

Layouts: the losses over classes take the course layout (classes on axis 0, one example per
column), so the nll_loss and kl_div adapters transpose PyTorch's (m, C); batch_norm's 2-D
input is transposed to BatchNorm1d's (features, m) likewise.

Tolerance: both sides evaluate the same formulas in float64 in a different order: a few
roundings (~1e-16 relative each) times the op's condition on the sample; 1e-9 relative plus
1e-12 absolute (values that cancel to about 0) is far above that, as in tests/torch_twin.py.

Needs torch and expecttest (which torch's OpInfo module imports): the test extra.

Run:  python benchmarks/opinfo_local.py [OP ...]     (all ops of the table without names)
"""

from __future__ import annotations

import inspect
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np

import tinygrad_reg as tg
from tinygrad_reg import Tensor
from tinygrad_reg.nn import BatchNorm1d, BatchNorm2d, Embedding, LayerNorm, losses
from tinygrad_reg.ops.conv import avg_pool2d, conv2d, max_pool2d

RTOL, ATOL = 1e-9, 1e-12
SHOWN = 5  # disagreements printed per op


class Skip(Exception):
    """A sample whose arguments the tinygrad_reg op does not take; the message is the reason."""


def unsupported(reason: str) -> None:
    raise Skip(reason)


def method(name: str, along_axis: bool = False) -> Callable[..., Any]:
    """An adapter for a Tensor method taking the same positional arguments as PyTorch's
    (``along_axis``: its first argument is an axis)."""

    def call(x: Tensor, *args: Any) -> Any:
        if along_axis:
            no_axis_of_0d(x, args[0] if args else None)
        return getattr(x, name)(*args)

    return call


def no_axis_of_0d(x: Tensor, axis: Any) -> None:
    """PyTorch takes axis 0 (or -1) of a 0-d tensor as that of a 1-element 1-D one; numpy and
    tinygrad_reg refuse it (a clear error), and cumsum/cumprod give shape (1,), as numpy."""
    if x.ndim == 0 and axis is not None:
        unsupported("an axis of a 0-d input (PyTorch: as 1-D of size 1; numpy's rule here)")


def values(x: Any) -> Any:
    """A Tensor argument PyTorch treats as a constant (quantile's q) as a numpy array."""
    return x.data if isinstance(x, Tensor) else x


# --- the adapters: PyTorch's signature, tinygrad_reg's call -------------------------------------


def gather(x, dim, index, *, sparse_grad=False):
    no_axis_of_0d(x, dim)
    if np.ndim(index) != x.ndim:
        unsupported("an empty index with more axes than x (PyTorch allows it when empty)")
    return x.gather(dim, index)


def scatter(x, dim, index, src, *, reduce=None):
    no_axis_of_0d(x, dim)
    if reduce is not None:
        unsupported("reduce=")
    return x.scatter(dim, index, src)


def index_add(x, dim, index, source, *, alpha=1):
    no_axis_of_0d(x, dim)
    return x.index_add(dim, index, source, alpha)


def masked_fill(x, mask, value):
    if np.broadcast_shapes(np.shape(mask), x.shape) != x.shape:
        unsupported("a mask larger than x (PyTorch broadcasts x; ours, as torch's masked_fill_)")
    return x.masked_fill(mask, value)


def sort(x, dim=-1, descending=False, *, stable=False):
    no_axis_of_0d(x, dim)
    return x.sort(dim, descending)


def topk(x, k, dim=-1, largest=True, sorted=True):
    no_axis_of_0d(x, dim)
    if not sorted:
        unsupported("sorted=False (PyTorch's order is unspecified)")
    return x.topk(k, dim, largest)


def median(x, dim=None, keepdim=False):
    no_axis_of_0d(x, dim)
    return x.median(dim, keepdim)


def quantile(x, q, dim=None, keepdim=False, *, interpolation="linear"):
    no_axis_of_0d(x, dim)
    return x.quantile(values(q), dim, keepdim, interpolation)


def cumprod(x, dim, *, dtype=None):
    no_axis_of_0d(x, dim)
    if dtype not in (None, "float64") and str(dtype) != "torch.float64":
        unsupported("dtype=")
    return x.cumprod(dim)


def clamp(x, min=None, max=None):
    return x.clamp(min, max)


def l1_loss(x, target, reduction="mean"):
    return losses.l1_loss(x, target, reduction)


def smooth_l1_loss(x, target, reduction="mean", beta=1.0):
    return losses.smooth_l1_loss(x, target, reduction, beta)


def huber_loss(x, target, reduction="mean", delta=1.0):
    return losses.huber_loss(x, target, reduction, delta)


def nll_loss(x, target, weight=None, ignore_index=-100, reduction="mean"):
    """PyTorch's (m, C), (C,) or (m, C, d₁, ...) as the course's (C, m'), m' = m·d₁·..."""
    labels = np.asarray(target)
    classes = x.shape[0] if x.ndim == 1 else x.shape[1]
    log_probs = x.reshape(classes, 1) if x.ndim == 1 else x.moveaxis(1, 0).reshape(classes, -1)
    out = losses.nll_loss(log_probs, labels.reshape(-1), weight, ignore_index, reduction)
    return out.reshape(labels.shape) if reduction == "none" else out


def kl_div(x, target, reduction="mean", log_target=False):
    """PyTorch's examples on the first axis as the course's on the last: all axes reversed."""
    out = losses.kl_div(x.T, target.T, reduction, log_target)
    return out.T if reduction == "none" else out


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d(x, weight, bias, stride, padding, dilation, groups)


def default_stride(stride: Any) -> Any:
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


def one_or_pair(value: Any) -> Any:
    """PyTorch's [p] for p (its pooling takes an int, a 1-list or a pair)."""
    return value[0] if isinstance(value, (list, tuple)) and len(value) == 1 else value


def max_pool(
    x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False
):
    if return_indices:
        unsupported("return_indices=True")
    stride, padding = default_stride(stride), one_or_pair(padding)
    kernel, dilation = one_or_pair(kernel_size), one_or_pair(dilation)
    return max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)


def avg_pool(
    x,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode=False,
    count_include_pad=True,
    divisor_override=None,
):
    if divisor_override is not None:
        unsupported("divisor_override=")
    stride, padding = default_stride(stride), one_or_pair(padding)
    return avg_pool2d(x, one_or_pair(kernel_size), stride, padding, ceil_mode, count_include_pad)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    if not eps > 0:
        unsupported("eps <= 0 (LayerNorm refuses it: the variance may be 0)")
    layer = LayerNorm(normalized_shape, eps, elementwise_affine=weight is not None)
    layer.weight, layer.bias = weight, bias
    return layer(x)


def batch_norm(
    x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):
    if not 0 <= momentum <= 1:
        unsupported("momentum outside [0, 1] (BatchNorm refuses it)")
    if x.ndim not in (2, 4):
        unsupported(f"a {x.ndim}-D input (BatchNorm1d takes (features, m), BatchNorm2d 4-D)")
    if running_mean is None and not training:
        unsupported("no running statistics in eval mode")
    kind = BatchNorm1d if x.ndim == 2 else BatchNorm2d
    layer = kind(x.shape[1], eps, momentum, affine=weight is not None)
    layer.weight, layer.bias = weight, bias
    if running_mean is None:
        layer.track_running_stats = False
    else:
        layer.running_mean, layer.running_var = running_mean, running_var
    layer.train(training)
    return layer(x.T).T if x.ndim == 2 else layer(x)


def embedding(weight, index, padding_idx=None):
    table = Embedding(*weight.shape, padding_idx=padding_idx)
    table.weight = weight
    return table(np.asarray(index))


#: The positions (0: the input) of the tensor arguments that are constants in tinygrad_reg but
#: differentiable in PyTorch, whose gradients are not compared: quantile's q (a number or array).
CONSTANT_ARGUMENTS = {"quantile": {1}}

ELEMENTWISE = [
    "abs",
    "acos",
    "asin",
    "atan",
    "asinh",
    "acosh",
    "atanh",
    "ceil",
    "cos",
    "cosh",
    "exp",
    "expm1",
    "floor",
    "log",
    "log10",
    "log1p",
    "log2",
    "rsqrt",
    "sigmoid",
    "sign",
    "sin",
    "sinh",
    "sqrt",
    "square",
    "tan",
    "tanh",
    "erf",
]

ADAPTERS: dict[str, Callable[..., Any]] = {
    **{name: method(name) for name in ELEMENTWISE},
    "atan2": method("atan2"),
    "logaddexp": method("logaddexp"),
    "lerp": method("lerp"),
    "clamp": clamp,
    "gather": gather,
    "scatter": scatter,
    "index_add": index_add,
    "masked_fill": masked_fill,
    "sort": sort,
    "topk": topk,
    "median": median,
    "quantile": quantile,
    "cumprod": cumprod,
    "cummax": method("cummax", along_axis=True),
    "cummin": method("cummin", along_axis=True),
    "logcumsumexp": method("logcumsumexp", along_axis=True),
    "unbind": method("unbind"),
    "hstack": tg.hstack,
    "vstack": tg.vstack,
    "nn.functional.nll_loss": nll_loss,
    "nn.functional.l1_loss": l1_loss,
    "nn.functional.smooth_l1_loss": smooth_l1_loss,
    "nn.functional.huber_loss": huber_loss,
    "nn.functional.kl_div": kl_div,
    "nn.functional.conv2d": conv,
    "nn.functional.max_pool2d": max_pool,
    "nn.functional.avg_pool2d": avg_pool,
    "nn.functional.layer_norm": layer_norm,
    "nn.functional.batch_norm": batch_norm,
    "nn.functional.embedding": embedding,
}


# --- running one sample on both sides ---------------------------------------------------------


def load_op_db() -> list[Any]:
    """PyTorch's OpInfo entries; exits 2 with the reason if torch or expecttest is missing."""
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except ImportError as error:
        print(
            f"opinfo_local: cannot load PyTorch's OpInfo database ({error}); it needs torch and "
            'expecttest: pip install -e ".[test]"',
            file=sys.stderr,
        )
        sys.exit(2)
    return [op for op in op_db if op.name in ADAPTERS and op.variant_test_name == ""]


def ours(value: Any, leaves: list[tuple[Any, Tensor]]) -> Any:
    """A torch argument as tinygrad_reg takes it: floating tensors as Tensors (those requiring
    grad recorded in ``leaves`` beside their torch twin), integer and bool tensors as numpy."""
    import torch

    if isinstance(value, torch.Tensor):
        array = value.detach().numpy().copy()
        if not value.dtype.is_floating_point:
            return array
        tensor = Tensor(array, requires_grad=value.requires_grad)
        if value.requires_grad:
            leaves.append((value, tensor))
        return tensor
    if isinstance(value, (list, tuple)):
        return type(value)(ours(v, leaves) for v in value)
    return value


def flat(out: Any) -> list[Any]:
    """The tensors and arrays of an output (a tensor, a tuple of them, a list of them)."""
    if isinstance(out, (tuple, list)):
        return [leaf for part in out for leaf in flat(part)]
    return [out]


def as_array(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach"):
        return value.detach().numpy()
    return np.asarray(value)


def disagreement(name: str, theirs: Any, mine: Any) -> str | None:
    """Why two outputs (or gradients) differ, or None when they agree."""
    a, b = as_array(mine), as_array(theirs)
    if a.shape != b.shape:
        return f"{name}: shape {a.shape}, PyTorch's {b.shape}"
    if b.dtype.kind in "iub":
        return None if np.array_equal(a, b) else f"{name}: indices differ"
    if not np.allclose(a, b, rtol=RTOL, atol=ATOL, equal_nan=True):
        worst = np.nanmax(np.abs(a - b)) if a.size else 0.0
        return f"{name}: values differ by up to {worst:.3g}"
    return None


def compare_sample(op: Any, adapter: Callable[..., Any], sample: Any, seed: int) -> str | None:
    """None when the sample agrees, else why not; raises Skip for arguments the op lacks."""
    import torch

    leaves: list[tuple[Any, Tensor]] = []
    constants = CONSTANT_ARGUMENTS.get(op.name, ())
    args = [
        ours(v, [] if i in constants else leaves)
        for i, v in enumerate((sample.input, *sample.args))
    ]
    kwargs = {k: ours(v, leaves) for k, v in sample.kwargs.items()}
    try:
        inspect.signature(adapter).bind(*args, **kwargs)
    except TypeError:
        raise Skip(f"arguments {sorted(kwargs)} / {len(args)} positional") from None
    try:
        theirs = op(sample.input, *sample.args, **sample.kwargs)
    except Exception:  # a sample PyTorch itself refuses proves nothing
        raise Skip("PyTorch raises") from None
    try:
        mine = adapter(*args, **kwargs)
    except Skip:
        raise
    except Exception as error:  # an error on a valid sample is a disagreement
        return f"raised {type(error).__name__}: {str(error)[:90]}"
    theirs_flat, mine_flat = flat(theirs), flat(mine)
    if len(theirs_flat) != len(mine_flat):
        return f"{len(mine_flat)} outputs, PyTorch's {len(theirs_flat)}"
    for i, (t, m) in enumerate(zip(theirs_flat, mine_flat)):
        if why := disagreement(f"output {i}", t, m):
            return why
    pairs = [(t, m) for t, m in zip(theirs_flat, mine_flat) if getattr(t, "requires_grad", False)]
    if not pairs or not leaves:
        return None
    rng = np.random.default_rng(seed)
    upstream = [rng.standard_normal(t.shape) for t, _ in pairs]
    their_grads = torch.autograd.grad(
        [t for t, _ in pairs],
        [t for t, _ in leaves],
        [torch.from_numpy(g) for g in upstream],
        allow_unused=True,
    )
    recorded = [(m, Tensor(g)) for (_, m), g in zip(pairs, upstream) if isinstance(m, Tensor)]
    recorded = [(m, g) for m, g in recorded if m.requires_grad]
    my_grads: Any = [None] * len(leaves)
    if recorded:
        my_grads = tg.grad(
            [m for m, _ in recorded],
            [m for _, m in leaves],
            [g for _, g in recorded],
            allow_unused=True,
        )
    for i, (t, m, (leaf, _)) in enumerate(zip(their_grads, my_grads, leaves)):
        t = torch.zeros_like(leaf) if t is None else t
        m = np.zeros(leaf.shape) if m is None else m
        if why := disagreement(f"gradient {i}", t, m):
            return why
    return None


def run(names: list[str] | None = None) -> list[tuple[str, int, Counter, list[str]]]:
    """For each op: (name, samples agreed, Counter of skip reasons, disagreements)."""
    import torch

    rows = []
    for op in load_op_db():
        if names and op.name not in names:
            continue
        agreed, skipped, differ = 0, Counter(), []
        samples = op.sample_inputs("cpu", torch.float64, requires_grad=True)
        for number, sample in enumerate(samples):
            try:
                why = compare_sample(op, ADAPTERS[op.name], sample, seed=number)
            except Skip as reason:
                skipped[str(reason)] += 1
                continue
            if why is None:
                agreed += 1
            else:
                differ.append(f"#{number} {why}")
        rows.append((op.name, agreed, skipped, differ))
    return rows


def main() -> None:
    rows = run(sys.argv[1:] or None)
    width = max(len(name) for name, *_ in rows)
    print(f"{'op':<{width}}  agreed  skipped  differ")
    for name, agreed, skipped, differ in rows:
        print(f"{name:<{width}}  {agreed:6}  {sum(skipped.values()):7}  {len(differ):6}")
        for reason, count in skipped.most_common():
            print(f"{'':<{width}}    skipped {count}: {reason}")
        for why in differ[:SHOWN]:
            print(f"{'':<{width}}    DIFFER {why}")
        if len(differ) > SHOWN:
            print(f"{'':<{width}}    ... and {len(differ) - SHOWN} more")
    total_agreed = sum(r[1] for r in rows)
    total_skipped = sum(sum(r[2].values()) for r in rows)
    total_differ = sum(len(r[3]) for r in rows)
    print(
        f"total: {len(rows)} ops, {total_agreed} samples agree, {total_skipped} skipped, "
        f"{total_differ} differ"
    )
    sys.exit(1 if total_differ else 0)


if __name__ == "__main__":
    main()

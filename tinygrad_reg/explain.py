"""Watch backpropagation happen: a narrated backward pass.

``explain_backward(loss)`` runs the backward pass (touching no ``.grad``, keeping the graph) and
describes each node, outputs first: the op, the tensor it made, the gradient rule it applied
(the first line of the op's ``backward`` docstring), the gradient g arriving from above, and
the gradient it sent to each input. Tensors are called by their ``name`` when they have one
(the MLP names its Z1, A1, ..., the parameters are W1, b1, ...), else ``%1``, ``%2``, ...
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from .engine import Function, backpropagate, seed_gradient, topological_order, unbroadcast
from .tensor import Tensor


def rule_of(fn: Function) -> str:
    """The first line of the op's backward docstring: its gradient rule."""
    doc = type(fn).backward.__doc__ or ""
    return doc.strip().splitlines()[0] if doc.strip() else "(no rule documented)"


def summary(array: Any) -> str:
    """A few numbers: the values of a small array, else its shape, mean and largest |x|."""
    array = np.asarray(array.data if isinstance(array, Tensor) else array)
    if array.size == 1:
        return f"{array.item():.6g}"
    if array.size <= 6:  # on one line, whatever the shape
        text = np.array2string(array, precision=4, separator=", ", floatmode="maxprec")
        return " ".join(text.split())
    return f"{array.shape} mean {array.mean():+.3g}, max|·| {np.abs(array).max():.3g}"


def labeler() -> Callable[[Tensor], str]:
    """Names tensors: their ``name`` if set, else %1, %2, ... in order of first mention."""
    numbers: dict[int, str] = {}

    def label(t: Tensor) -> str:
        if t.name is not None:
            return t.name
        return numbers.setdefault(id(t), f"%{len(numbers) + 1}")

    return label


def explain_backward(output: Tensor, grad: Any = None, file: IO[str] | None = None) -> str:
    """Run the backward pass from ``output`` and describe every node; returns (and prints) it.

    No ``.grad`` changes and the graph is kept, so ``output.backward()`` still works after.
    """
    if not output.requires_grad:
        raise RuntimeError(
            f"explain_backward: the tensor (shape {output.shape}) does not require grad, so "
            "there is no backward pass to explain."
        )
    label = labeler()
    root = label(output)
    order = topological_order([output])
    lines = [f"backward of {root}: {len(order)} ops, outputs first; g = d{root}/d(op output)"]
    received: dict[int, list[str]] = {}

    def narrate(tensor: Tensor, g: Any, grads: tuple[Any, ...]) -> None:
        fn = tensor.grad_fn
        assert fn is not None and fn.inputs is not None
        sent = []
        for x, gx, needed in zip(fn.inputs, grads, fn.needs_input_grad):
            if needed and gx is not None:
                sent.append(f"d{label(x)} {summary(unbroadcast(gx, x.shape))}")
                received.setdefault(id(x), []).append(fn.name)
        inputs = ", ".join(label(x) for x in fn.inputs)
        lines.append(
            f"{len(lines):>3}. {fn.name}: {label(tensor)} = {fn.name}({inputs})"
            f" | rule: {rule_of(fn)} | g: {summary(g)} | sends: {'; '.join(sent)}"
        )

    leaves = [output] if output.grad_fn is None else []
    for t in order:
        leaves += [x for x in t.grad_fn.inputs if x.requires_grad and x.grad_fn is None]
    leaves = list(dict.fromkeys(leaves))  # each once, in order of first use
    found = backpropagate(
        [output],
        [seed_gradient(output, grad, "explain_backward")],
        retain_graph=True,
        capture=leaves,
        on_node=narrate,
    )
    lines.append("leaf gradients (the sum of what each op sent):")
    for leaf in leaves:
        ops = received.get(id(leaf), [])
        lines.append(f"     d{label(leaf)} = {' + '.join(ops) or '0'}: {summary(found[leaf])}")
    text = "\n".join(lines)
    print(text, file=file or sys.stdout)
    return text

"""Watch backpropagation happen: a narrated backward pass.

``explain_backward(loss)`` runs the backward pass (touching no ``.grad``, keeping the graph) and
describes each node, outputs first: the op, the tensor it made, the gradient rule it applied
(the first line of the op's ``backward`` docstring), the gradient g arriving from above, and
the gradient it sent to each input. Tensors are called by their ``name`` when they have one
(the MLP names its Z1, A1, ..., the parameters are W1, b1, ...), else ``%1``, ``%2``, ...;
inputs that need no gradient are ``const`` (the graph does not keep them).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import IO, Any

import numpy as np

from ..engine import Function, backpropagate, seed_gradient, topological_order
from ..ops.broadcasting import unbroadcast
from ..tensor import Tensor


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


def labeler() -> Callable[[Any], str]:
    """Names what the graph holds: a leaf tensor by its ``name``, a node by the ``name`` of the
    tensor it made, else %1, %2, ... in order of first mention; constants (inputs that need no
    gradient, which the graph does not keep) are ``const``."""
    numbers: dict[int, str] = {}

    def label(item: Function | Tensor | None) -> str:
        if item is None:
            return "const"
        name = item.name if isinstance(item, Tensor) else item.out_name
        if name is not None:
            return name
        return numbers.setdefault(id(item), f"%{len(numbers) + 1}")

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
    root = label(output.grad_fn or output)
    order = topological_order([output])
    lines = [f"backward of {root}: {len(order)} ops, outputs first; g = d{root}/d(op output)"]
    received: dict[int, list[str]] = {}

    def narrate(fn: Function, g: Any, grads: tuple[Any, ...]) -> None:
        assert fn.parents is not None
        sent = []
        for parent, gx, shape in zip(fn.parents, grads, fn.input_shapes):
            if parent is not None and gx is not None:
                sent.append(f"d{label(parent)} {summary(unbroadcast(gx, shape))}")
                received.setdefault(id(parent), []).append(fn.name)
        inputs = ", ".join(label(parent) for parent in fn.parents)
        lines.append(
            f"{len(lines):>3}. {fn.name}: {label(fn)} = {fn.name}({inputs})"
            f" | rule: {rule_of(fn)} | g: {summary(g)} | sends: {'; '.join(sent)}"
        )

    leaves = [output] if output.grad_fn is None else []
    for fn in order:
        leaves += [p for p in fn.parents or () if isinstance(p, Tensor)]
    leaves = list({id(leaf): leaf for leaf in leaves}.values())  # each once, in order of first use
    found = backpropagate(
        [output],
        [seed_gradient(output, grad, "explain_backward")],
        retain_graph=True,
        capture=leaves,
        on_node=narrate,
    )
    lines.append("leaf gradients (the sum of what each op sent):")
    for leaf, g in zip(leaves, found):
        ops = received.get(id(leaf), [])
        lines.append(f"     d{label(leaf)} = {' + '.join(ops) or '0'}: {summary(g)}")
    text = "\n".join(lines)
    print(text, file=file or sys.stdout)
    return text

"""Draw the graph behind a tensor, as Graphviz DOT text (no Python dependency).

Tensors are ellipses (name or %k, and shape; leaves that need a gradient are shaded; inputs
that need no gradient are "constant", as the graph does not keep them), ops are boxes; arrows
point the way the forward pass ran. ``render`` turns the text into an SVG or PNG with the
``dot`` program when it is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from ..engine import Function, topological_order
from ..tensor import Tensor
from .explain import labeler


def _quote(text: str) -> str:
    """A DOT string: backslashes and quotes escaped, then each line break written as DOT's
    two-character escape (after the backslashes, so that it stays a line break)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def to_dot(output: Tensor) -> str:
    """The graph that produced ``output`` as DOT text: one box per op, one ellipse per tensor.

    The graph keeps nodes, not tensors: an op's result is drawn with the shape its user saw;
    an input that needs no gradient (the graph does not keep it) is drawn as "constant", once
    per use.
    """
    if not isinstance(output, Tensor):
        raise TypeError(f"to_dot: expected a Tensor, got {type(output).__name__}.")
    label = labeler()
    lines = ["digraph backward {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen: set[int] = set()

    def tensor_node(item: Function | Tensor, shape: tuple[int, ...]) -> str:
        """The ellipse of a leaf tensor, or of the tensor a node made."""
        name = f"t{id(item)}"
        if id(item) not in seen:
            seen.add(id(item))
            leaf = isinstance(item, Tensor) and item.requires_grad
            style = ', style=filled, fillcolor="#dbe9f6"' if leaf else ""
            text = f"{label(item)}\n{shape}"
            lines.append(f"  {name} [shape=ellipse, label={_quote(text)}{style}];")
            if isinstance(item, Function):  # the arrow from the op to the tensor it made
                lines.append(f"  f{id(item)} -> {name};")
        return name

    def constant_node(shape: tuple[int, ...]) -> str:
        name, text = f"c{len(lines)}", f"constant\n{shape}"
        lines.append(f"  {name} [shape=ellipse, label={_quote(text)}];")
        return name

    order = topological_order([output])
    if not order:
        tensor_node(output, output.shape)
    for fn in order:
        if fn.parents is None:
            continue
        op = f"f{id(fn)}"
        lines.append(f"  {op} [shape=box, label={_quote(fn.name)}];")
        for parent, shape in zip(fn.parents, fn.input_shapes):
            source = constant_node(shape) if parent is None else tensor_node(parent, shape)
            lines.append(f"  {source} -> {op};")
    if order:  # the output's own ellipse
        assert output.grad_fn is not None
        tensor_node(output.grad_fn, output.shape)
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(output: Tensor, path: str) -> str:
    """Write the graph to ``path`` (.svg or .png) with Graphviz's ``dot``; returns the path."""
    fmt = os.path.splitext(path)[1].lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"render: cannot write {path!r}; expected a .svg, .png or .pdf path")
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            "render: the Graphviz 'dot' program is not installed. Install it "
            "(Debian/Ubuntu: sudo apt install graphviz; macOS: brew install graphviz; "
            "conda: conda install graphviz) or use to_dot(t) and paste the text into any "
            "Graphviz viewer."
        )
    done = subprocess.run(
        [dot, f"-T{fmt}", "-o", path], input=to_dot(output), text=True, capture_output=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed (exit {done.returncode}): {done.stderr.strip()}")
    return path

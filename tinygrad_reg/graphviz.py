"""Draw the graph behind a tensor, as Graphviz DOT text (no Python dependency).

Tensors are ellipses (name or %k, and shape; leaves that need a gradient are shaded), ops are
boxes; arrows point the way the forward pass ran. ``render`` turns the text into an SVG or PNG
with the ``dot`` program when it is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from .engine import topological_order
from .explain import labeler
from .tensor import Tensor


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(output: Tensor) -> str:
    """The graph that produced ``output`` as DOT text: one node per tensor and per op."""
    label = labeler()
    lines = ["digraph backward {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
    seen: set[int] = set()

    def tensor_node(t: Tensor) -> str:
        name = f"t{id(t)}"
        if id(t) not in seen:
            seen.add(id(t))
            style = ', style=filled, fillcolor="#dbe9f6"' if t.requires_grad and t.is_leaf else ""
            text = f"{label(t)}\\n{t.shape}"
            lines.append(f"  {name} [shape=ellipse, label={_quote(text)}{style}];")
        return name

    for t in topological_order([output]) or [output]:
        fn = t.grad_fn
        tensor_node(t)
        if fn is None or fn.inputs is None:
            continue
        op = f"f{id(fn)}"
        lines.append(f"  {op} [shape=box, label={_quote(fn.name)}];")
        for x in fn.inputs:
            lines.append(f"  {tensor_node(x)} -> {op};")
        lines.append(f"  {op} -> {tensor_node(t)};")
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

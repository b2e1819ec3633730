import re
import shutil
import sys

import numpy as np
import pytest

from tinygrad_reg import Tensor, linear, render, to_dot


def graph():
    X = Tensor(np.ones((2, 4)), name="X")
    W = Tensor(np.ones((3, 2)), requires_grad=True, name="W1")
    b = Tensor(np.zeros((3, 1)), requires_grad=True, name="b1")
    A = linear(X, W, b).relu()
    return (A * A).sum()  # ops: Linear, Relu, Mul, Sum


def parse(dot: str):
    nodes = re.findall(r"^\s+(\w+) \[shape=(\w+)", dot, flags=re.M)
    edges = re.findall(r"^\s+(\w+) -> (\w+);", dot, flags=re.M)
    return nodes, edges


def test_dot_has_one_node_per_tensor_and_op_and_one_edge_per_use():
    dot = to_dot(graph())
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    nodes, edges = parse(dot)
    ops = [n for n, shape in nodes if shape == "box"]
    tensors = [n for n, shape in nodes if shape == "ellipse"]
    assert len(ops) == 4
    assert len(tensors) == 7  # X, W1, b1, Linear out, Relu out, Mul out, Sum out
    # inputs: Linear 3, Relu 1, Mul 2 (A twice), Sum 1; plus one output edge per op
    assert len(edges) == 7 + 4
    declared = {n for n, _ in nodes}
    assert all(a in declared and b in declared for a, b in edges)
    assert '"W1\\n(3, 2)"' in dot  # DOT's line break: one backslash, then n


def test_dot_of_a_leaf_is_a_single_node():
    nodes, edges = parse(to_dot(Tensor([1.0, 2.0])))
    assert len(nodes) == 1 and edges == []


def test_render_without_graphviz_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot program
    with pytest.raises(RuntimeError, match="apt install graphviz"):
        render(graph(), str(tmp_path / "g.svg"))
    assert not (tmp_path / "g.svg").exists()


def test_render_hands_the_dot_text_to_the_dot_program(tmp_path, monkeypatch):
    # A stand-in for Graphviz's dot: copies its input to the -o file, so the test can see what
    # render sent it and with which flags, on machines without Graphviz.
    fake = tmp_path / "dot"
    fake.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        "open(sys.argv[3], 'w').write(sys.argv[1] + '\\n' + sys.stdin.read())\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    g = graph()
    path = render(g, str(tmp_path / "g.svg"))
    with open(path) as written:
        flag, text = written.read().split("\n", 1)
    assert flag == "-Tsvg"
    assert text == to_dot(g)


def test_render_rejects_an_unknown_extension(tmp_path):
    with pytest.raises(ValueError, match=r"\.svg"):
        render(graph(), str(tmp_path / "g.txt"))


def test_to_dot_of_something_else_than_a_tensor_names_to_dot():
    # issue 11, item 14: was an AttributeError from deep inside
    with pytest.raises(TypeError, match="to_dot: expected a Tensor, got ndarray"):
        to_dot(np.ones(2))


def test_labels_keep_backslashes_and_quotes_of_names_literal():
    w = Tensor(np.ones(2), requires_grad=True, name='a\\n"b"')  # a backslash, n, quotes
    dot = to_dot((w * w).sum())
    assert '"a\\\\n\\"b\\"\\n(2,)"' in dot  # escaped name, then a real line break


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot is not installed")
def test_the_rendered_picture_breaks_the_label_into_lines(tmp_path):
    """In the SVG that dot draws, a two-line label is two text elements: name, then shape."""
    with open(render(graph(), str(tmp_path / "g.svg"))) as file:
        svg = file.read()
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "W1" in texts and "(3, 2)" in texts
    assert not any("\\n" in text for text in texts)

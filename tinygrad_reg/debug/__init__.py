"""Seeing inside the engine: a narrated backward pass, a drawing of the graph, NaN hunting.

``explain.py`` (``explain_backward``) runs a backward pass and describes each node's rule and
the gradients it sent; ``graphviz.py`` (``to_dot``, ``render``) draws the graph;
``anomaly.py`` (``detect_anomaly``) finds the op where a NaN or inf first appeared. None of
them is imported by the engine: anomaly detection attaches through the engine's per-thread
``hooks`` (``engine.py``), the other two only read a graph and call ``backpropagate``.
"""

from .anomaly import detect_anomaly
from .explain import explain_backward
from .graphviz import render, to_dot

__all__ = ["detect_anomaly", "explain_backward", "render", "to_dot"]

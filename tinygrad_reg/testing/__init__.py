"""Proving gradients right: finite differences, the hand-written yardstick, hypothesis strategies.

``gradcheck.py`` compares analytic gradients with central differences (``gradcheck``,
``gradgradcheck`` for second order, and the course's ``gradient_check_n`` over a parameters
dict, also importable from here); ``reference.py`` is the course network written by hand in
numpy, forward and backward, the yardstick the whole project is measured against (also
importable as ``tinygrad_reg.reference``); ``strategies.py`` holds the hypothesis strategies
for your own property tests (``tensors``, ``networks``, ...). The strategies need hypothesis
(the ``test`` extra), so they are imported when first asked for: the rest needs numpy only.
"""

from typing import Any

from . import reference
from .gradcheck import gradient_check_n, parameters_to_vector, vector_to_parameters

#: The names that come from strategies.py, which imports hypothesis.
STRATEGIES = (
    "Network",
    "axes",
    "broadcastable_shapes",
    "broadcastable_tensors",
    "networks",
    "nonzero_floats",
    "positive_floats",
    "tensors",
)

__all__ = [
    "gradient_check_n",
    "parameters_to_vector",
    "reference",
    "vector_to_parameters",
    *STRATEGIES,
]


def __getattr__(name: str) -> Any:
    """``tinygrad_reg.testing.networks`` and the other strategies, imported on first use (an
    ImportError saying which extra to install when hypothesis is missing)."""
    if name in STRATEGIES:
        from . import strategies

        return getattr(strategies, name)
    raise AttributeError(f"module 'tinygrad_reg.testing' has no attribute {name!r}")

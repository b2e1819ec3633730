"""``compile``: a training step recorded once as a tape of numpy calls, then replayed.

Read in this order: ``tape.py`` holds ``Traced`` (an ndarray subclass whose numpy calls are
written on a tape) and ``Tape`` (the entries, each writing into a buffer allocated once);
``memory.py`` lets buffers whose lives do not overlap share memory; ``recorder.py`` the
``Recorder`` the engine, the modules and the optimizers report to while a step is recorded
(through ``engine.hooks.recorder``), hyperparameters included; ``compiler.py`` the ``Trace``
it produces, its atomic replay, and ``compile``. How it works, for learners: docs/compile.md.
"""

from .compiler import compile
from .tape import TraceError

__all__ = ["TraceError", "compile"]

"""``compile``: a training step recorded once as a tape of numpy calls, then replayed.

``tape.py`` holds ``Traced`` (an ndarray subclass whose numpy calls are written on a tape) and
``Tape`` (the entries, each writing into a buffer allocated once, and the memory they share);
``compiler.py`` the ``Recorder`` the engine, the modules and the optimizers report to while a
step is recorded (through ``engine.hooks.recorder``), the ``Trace`` it produces, and
``compile``. How it works, for learners: docs/compile.md.
"""

from .compiler import compile
from .tape import TraceError

__all__ = ["TraceError", "compile"]

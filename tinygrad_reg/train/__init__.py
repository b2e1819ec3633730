"""Training a model: the loop, what watches it, saving it, and choosing its regularization.

``loop.py`` holds ``fit``: forward, cost, backward, step, repeated, with everything else a
callback (``callbacks.py``: the protocol and the small ones, progress, the divergence warning,
max-norm, Ctrl-C; ``early_stopping.py``: validation and early stopping). ``evaluate.py`` holds
``predict``, ``accuracy`` and the checks of X and Y in the course layout. ``checkpoint.py``
saves and loads a run atomically, without pickle (with the states of its random streams,
``data/generators.py``, so that ``fit`` continues it exactly).
``regularization_path.py`` (``sweep``) trains once per regularization strength and tabulates
the result.
"""

from .callbacks import Callback, LRSchedule, TrainingState
from .checkpoint import Checkpoint, CheckpointError, load, save
from .evaluate import accuracy, predict
from .loop import History, fit
from .regularization_path import SweepTable, sweep

__all__ = [
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "History",
    "LRSchedule",
    "SweepTable",
    "TrainingState",
    "accuracy",
    "fit",
    "load",
    "predict",
    "save",
    "sweep",
]

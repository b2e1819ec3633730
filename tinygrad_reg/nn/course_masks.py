"""The course's dropout mask schedule: the same masks on every forward pass.

The course's ``forward_propagation_with_dropout`` starts with ``np.random.seed(1)``, so every
iteration draws D1, D2, ... from the same point of the stream: the masks never change during
training. ``Dropout`` draws fresh masks (the usual dropout, and the textbook's intent); pass a
``CourseMasks`` as the generator to get the course's schedule and its published numbers::

    model = MLP([2, 20, 3, 1], keep_prob=0.86, rng=CourseMasks(seed=1))

A ``CourseMasks`` is a ``np.random.RandomState`` that goes back to ``RandomState(seed)`` at
the start of each pass: ``draws_per_pass`` masks make one pass (``MLP`` sets it to its number
of Dropout layers; a lone ``Dropout`` draws one mask a pass, so it repeats its mask). It counts
its draws instead of being told where a pass starts, so a compiled step, which replays the
draws without running ``MLP.forward``, gets the same masks as an eager one; ``MLP.forward``
calls ``start_pass`` as well, so a pass cut short by an error cannot shift the next one. Being a
RandomState, checkpoints save and restore it like any generator; each model owns its own, so
nothing is shared between threads.
"""

from __future__ import annotations

from typing import Any

import numpy as np


class CourseMasks(np.random.RandomState):
    """A generator restarted at ``RandomState(seed)`` every ``draws_per_pass`` calls of
    ``random``: the course's ``np.random.seed(seed)`` at the top of each forward pass."""

    def __init__(self, seed: int = 1, draws_per_pass: int = 1):
        if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**32):
            raise ValueError(f"CourseMasks: seed = {seed!r}; expected an integer in [0, 2**32).")
        super().__init__(seed)
        self.course_seed = int(seed)
        self.draws_per_pass = draws_per_pass
        self.drawn = 0  # masks drawn in the current pass

    def __reduce__(self) -> Any:  # RandomState pickles as a plain RandomState otherwise
        return (_rebuilt, (self.course_seed, self.draws_per_pass, self.drawn, self.get_state()))

    def start_pass(self) -> None:
        """The next draw is the first of a pass: it comes from ``RandomState(seed)`` again."""
        self.drawn = 0

    def random(self, size: Any = None) -> Any:  # type: ignore[override]
        """``RandomState.random``, from the start of the stream at the first draw of a pass."""
        if self.drawn % self.draws_per_pass == 0:
            self.seed(self.course_seed)
            self.drawn = 0
        self.drawn += 1
        return super().random(size)

    def __repr__(self) -> str:
        return f"CourseMasks(seed={self.course_seed}, draws_per_pass={self.draws_per_pass})"


def _rebuilt(seed: int, draws_per_pass: int, drawn: int, state: Any) -> CourseMasks:
    masks = CourseMasks(seed, draws_per_pass)
    masks.set_state(state)
    masks.drawn = drawn
    return masks

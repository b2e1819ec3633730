"""How much memory a training run needs, estimated before anything is allocated.

``python -m tinygrad_reg train --layers 100000,100000`` asks for 10¹⁰ weights: 80 GB for the
weights alone, before their gradients and the optimizer's state. numpy would start allocating
and fail (or the machine would start swapping) with a traceback; the command line instead
compares this estimate with the machine's memory first and refuses in one line.

The estimate counts float64 arrays that are alive at the same time during a step: the
parameters, their gradients, the optimizer's state (Adam keeps two arrays per parameter) and
about two temporaries of the same size during an update; and for a batch of b examples, the
pre-activation, the activation, the dropout mask and their gradients of each layer, and the
data. It is a lower bound of the right order of magnitude, not an exact figure.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

FLOAT_BYTES = 8
PARAMETER_COPIES = 4  # parameters, gradients, two temporaries during an update
ACTIVATION_COPIES = 6  # Z, A, mask and the gradients of each, per unit and example
DATA_COPIES = 3  # the data as read, as float64, and one batch of it


def parameter_count(layer_dims: Sequence[int]) -> int:
    """Weights and biases of a fully connected network: Σ n_l·(n_{l-1} + 1)."""
    return sum(n * (n_in + 1) for n_in, n in itertools.pairwise(layer_dims))


def training_bytes(layer_dims: Sequence[int], m: int, batch: int, optimizer_slots: int) -> int:
    """Bytes a training step of the network ``layer_dims`` needs (see the module docstring):
    ``m`` examples in all, ``batch`` per step, ``optimizer_slots`` state arrays per parameter
    (0 for plain SGD, 2 for Adam and AdamW)."""
    units = sum(layer_dims[1:])
    arrays = (
        (PARAMETER_COPIES + optimizer_slots) * parameter_count(layer_dims)
        + ACTIVATION_COPIES * batch * units
        + DATA_COPIES * layer_dims[0] * m
    )
    return FLOAT_BYTES * arrays


def physical_memory() -> int | None:
    """The machine's memory in bytes, or None where the system does not say (Windows)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def human(nbytes: int) -> str:
    """1234567890 → '1.1 GiB'."""
    size, unit = float(nbytes), "bytes"
    for larger in ("KiB", "MiB", "GiB", "TiB", "PiB"):
        if size < 1024:
            break
        size, unit = size / 1024, larger
    return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"

"""Checkpoints: a model's parameters, an optimizer's state and metadata in one ``.npz`` file.

Safe by construction:

- Nothing is pickled. Every entry is a plain numeric (or string) array, and files are read
  with ``allow_pickle=False``, so loading a file can never run code; a file holding a pickled
  object is refused.
- Writes are atomic: the archive goes to a temporary file next to the target, is flushed to
  disk, then renamed over the target with ``os.replace``. A crash leaves either the old file or
  the new one, never half of one; on an error the temporary file is removed, and one left by a
  killed save is removed by the next save into that folder (``remove_stale_temporaries``).
  A symlink is written through (its target gets the new file), and a replaced file keeps its
  permission bits.
- Everything is checked before anything changes: ``load`` validates the file's layout,
  ``Checkpoint.restore`` validates names, shapes and dtypes against the model (and the
  optimizer's state) before touching either.

Layout of the archive: ``format`` (``FORMAT``), ``metadata`` (a JSON string), ``param/<name>``
for each parameter, ``optimizer/<key>`` for each entry of the optimizer's ``state_dict()`` and
``scheduler/<key>`` for a learning-rate schedule's (``save(..., scheduler=...)``), so that a
resumed run goes on with the same learning rates.

    >>> save("run.npz", model, optimizer, metadata={"iteration": 30000})
    >>> checkpoint = load("run.npz")
    >>> checkpoint.restore(model, optimizer)   # or: model.load_state_dict(checkpoint.parameters)
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from ..data.npzfile import NpzError, NpzReader, fspath
from ..optim.optimizers import Optimizer
from ..tensor import Tensor

FORMAT = "tinygrad_reg.checkpoint/1"
PARAM, OPTIMIZER, SCHEDULER = "param/", "optimizer/", "scheduler/"

PathLike = str | os.PathLike


class CheckpointError(ValueError):
    """A checkpoint file is unreadable, or does not fit the model or optimizer."""


@dataclass(frozen=True)
class Checkpoint:
    """What ``load`` returns: arrays only, no live objects.

    ``parameters`` maps names to arrays (the keys of the model's ``state_dict()``),
    ``optimizer_state`` is an optimizer's ``state_dict()`` (None if none was saved) and
    ``metadata`` the JSON dict given to ``save``.
    """

    path: str
    parameters: dict[str, np.ndarray]
    optimizer_state: dict[str, np.ndarray] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    scheduler_state: dict[str, np.ndarray] | None = None  # a schedule's state_dict()

    def restore(
        self, model: Any, optimizer: Optimizer | None = None, scheduler: Any = None
    ) -> None:
        """Copy the saved parameters into ``model`` (a Module or a dict name → Tensor) and the
        saved state into ``optimizer``.

        Both are checked first (names, shapes, dtypes; the optimizer's state against its
        parameters): on any problem a ``CheckpointError`` names it and neither is changed.
        """
        tensors = _named_tensors(model, "restore")
        problems = _mismatches(self.parameters, tensors)
        if problems:
            raise CheckpointError(
                f"restore: the checkpoint {self.path} does not fit the model: "
                + "; ".join(problems)
                + ". Nothing was changed."
            )
        for what, owner, saved in (("optimizer", optimizer, self.optimizer_state),
                                   ("scheduler", scheduler, self.scheduler_state)):  # fmt: skip
            if owner is not None:
                self._check_fits(what, owner, saved)

        if hasattr(model, "load_state_dict"):
            model.load_state_dict(self.parameters)
        else:
            for name, tensor in tensors.items():
                tensor.data = self.parameters[name]  # the setter copies a writable array
        if optimizer is not None:
            optimizer.load_state_dict(self.optimizer_state)  # type: ignore[arg-type]
        if scheduler is not None:
            scheduler.load_state_dict(self.scheduler_state)

    def _check_fits(self, what: str, owner: Any, saved: Any) -> None:
        """The saved state of ``what`` (an optimizer or a schedule) fits ``owner``."""
        if saved is None:
            raise CheckpointError(
                f"restore: the checkpoint {self.path} holds no {what} state; pass "
                f"{what}=None or save one with save(..., {what}=...)."
            )
        try:
            owner.check_state_dict(saved)
        except (ValueError, TypeError) as error:
            raise CheckpointError(
                f"restore: the {what} state in {self.path} does not fit: {error} "
                "Nothing was changed."
            ) from None


def save(
    path: PathLike,
    model_or_params: Any,
    optimizer: Optimizer | None = None,
    metadata: dict[str, Any] | None = None,
    scheduler: Any = None,
) -> str:
    """Write a checkpoint to ``path`` (used as given: no suffix is added), atomically.

    ``model_or_params`` is a Module (its ``state_dict()``), a dict name → Tensor or a dict
    name → array (e.g. the reference's ``parameters``). ``metadata`` must be a JSON-serializable
    dict. Returns the path written. ``path`` may be a str, bytes or os.PathLike; a symlink is
    written through to its target, and a file saved over keeps its permission bits.
    """
    path = fspath(path, "save")
    arrays: dict[str, np.ndarray] = {"format": np.array(FORMAT)}
    for name, array in _parameter_arrays(model_or_params).items():
        arrays[PARAM + name] = array
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"save: optimizer is a {type(optimizer).__name__}; expected one from optim."
            )
        for key, value in optimizer.state_dict().items():
            arrays[OPTIMIZER + key] = value
    if scheduler is not None:  # a learning-rate schedule (optim/schedules.py)
        if not callable(getattr(scheduler, "state_dict", None)):
            raise TypeError(
                f"save: scheduler is a {type(scheduler).__name__}; expected one from optim."
            )
        for key, value in scheduler.state_dict().items():
            arrays[SCHEDULER + key] = value
    arrays["metadata"] = np.array(_metadata_json(metadata))
    write_atomically(path, lambda file: np.savez(file, **arrays))  # type: ignore[arg-type]
    return path


def load(path: PathLike) -> Checkpoint:
    """Read a checkpoint written by ``save``, without running any code from the file.

    Raises ``CheckpointError`` (naming the file and the problem) for a file that is not an
    ``.npz`` archive, is truncated or corrupt, holds a pickled object, has an entry whose header
    declares more data than the file holds (checked before anything is allocated), or is not
    laid out as a checkpoint. ``FileNotFoundError`` etc. pass through unchanged.
    """
    path = fspath(path, "load")
    entries = _read_npz(path)

    def problem(message: str) -> CheckpointError:
        return CheckpointError(f"load: {path} is not a valid checkpoint: {message}.")

    if "format" not in entries:
        raise problem("it has no 'format' entry (was it written by tinygrad_reg.save?)")
    if str(entries["format"]) != FORMAT:
        raise problem(f"its format is {str(entries['format'])!r}; expected {FORMAT!r}")
    if "metadata" not in entries or entries["metadata"].dtype.kind != "U":
        raise problem("it has no 'metadata' string")
    try:
        metadata = json.loads(str(entries["metadata"]))
    except json.JSONDecodeError as error:
        raise problem(f"its metadata is not valid JSON ({error})") from None
    except RecursionError:
        raise problem("its metadata is nested too deeply to be read") from None
    if not isinstance(metadata, dict):
        raise problem(f"its metadata is a {type(metadata).__name__}; expected a JSON object")

    parameters: dict[str, np.ndarray] = {}
    optimizer_state: dict[str, np.ndarray] = {}
    scheduler_state: dict[str, np.ndarray] = {}
    for key, array in entries.items():
        if key.startswith(PARAM):
            if array.dtype.kind != "f":
                raise problem(f"parameter {key[len(PARAM) :]!r} has dtype {array.dtype}")
            parameters[key[len(PARAM) :]] = array
        elif key.startswith(OPTIMIZER):
            optimizer_state[key[len(OPTIMIZER) :]] = array
        elif key.startswith(SCHEDULER):
            scheduler_state[key[len(SCHEDULER) :]] = array
        elif key not in ("format", "metadata"):
            raise problem(f"unexpected entry {key!r}")
    if not parameters:
        raise problem("it holds no parameters")
    return Checkpoint(path, parameters, optimizer_state or None, metadata, scheduler_state or None)


# --- helpers ---------------------------------------------------------------------------------


def _named_tensors(model: Any, where: str) -> dict[str, Tensor]:
    """The parameters of a Module or a dict name → Tensor, by name."""
    if hasattr(model, "named_buffers"):  # a Module: its buffers are saved with it
        return dict(model.named_parameters() + model.named_buffers())
    if hasattr(model, "named_parameters"):
        return dict(model.named_parameters())
    if isinstance(model, dict) and all(isinstance(t, Tensor) for t in model.values()):
        return dict(model)
    raise TypeError(f"{where}: expected a Module or a dict of Tensors; got {type(model).__name__}.")


def _parameter_arrays(model_or_params: Any) -> dict[str, np.ndarray]:
    """Name → array for a Module, a dict of Tensors or a dict of arrays, checked."""
    if hasattr(model_or_params, "state_dict") and not isinstance(model_or_params, dict):
        params = model_or_params.state_dict()
    elif isinstance(model_or_params, dict):
        params = model_or_params
    else:
        raise TypeError(
            "save: model_or_params must be a Module, a dict of Tensors or a dict of arrays; "
            f"got {type(model_or_params).__name__}."
        )
    if not params:
        raise ValueError("save: there are no parameters to save.")
    arrays = {}
    for name, value in params.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"save: parameter names must be non-empty strings; got {name!r}.")
        array = value.data if isinstance(value, Tensor) else np.asarray(value)
        if array.dtype.kind != "f":
            raise TypeError(
                f"save: parameter {name!r} has dtype {array.dtype}; expected a float array."
            )
        arrays[name] = array
    return arrays


def _metadata_json(metadata: dict[str, Any] | None) -> str:
    if metadata is None:
        return "{}"
    if not isinstance(metadata, dict):
        raise TypeError(f"save: metadata is a {type(metadata).__name__}; expected a dict.")
    try:
        return json.dumps(metadata)
    except (TypeError, ValueError) as error:
        raise TypeError(f"save: metadata is not JSON-serializable ({error}).") from None


def write_atomically(path: PathLike, write: Callable[[BinaryIO], Any]) -> None:
    """Call ``write(file)`` on a new file beside ``path``, flush it to disk, then rename it over
    ``path``: whenever it stops (an error, Ctrl-C, a kill), ``path`` holds either its old
    content or the new one, never part of it. Checkpoints and the sweep's CSV are written so.

    A symlink is written through: its target is replaced, the link stays. A file that is
    replaced keeps its permission bits.
    """
    target = os.path.realpath(os.fspath(path))  # through symlinks, to the file they point at
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: the directory {directory} does not exist.")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    remove_stale_temporaries(directory)
    temporary, fd = _new_temporary(directory, os.path.basename(target))
    try:
        with os.fdopen(fd, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


# Temporary files are named ".<file>.tinygrad_reg-<pid>-<host>-<random>.tmp": the writer's
# process id and a tag of its machine's name say whose they are, so that a later save can tell a
# file left behind by a killed writer (its process is gone) from one being written right now.
_TEMPORARY = re.compile(r"^\..*\.tinygrad_reg-(\d+)-([0-9a-f]{8})-[0-9a-f]{32}\.tmp$")


def _host_tag() -> str:
    return f"{zlib.crc32(socket.gethostname().encode()):08x}"


def _new_temporary(directory: str, name: str) -> tuple[str, int]:
    """Create a new, empty temporary file in ``directory`` (never an existing one) for
    ``name``; returns its path and a file descriptor open for writing."""
    tag = f"tinygrad_reg-{os.getpid()}-{_host_tag()}-{uuid.uuid4().hex}"
    temporary = os.path.join(directory, f".{name}.{tag}.tmp")
    # O_EXCL: never reuse an existing file; mode 0o666 lets the umask decide, as for open().
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    return temporary, os.open(temporary, flags, 0o666)


def _is_running(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (True when we cannot tell)."""
    if os.name != "posix" or pid == os.getpid():
        return True  # elsewhere os.kill(pid, 0) would not just ask: it would stop the process
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, and belongs to someone else
        return True
    return True


def remove_stale_temporaries(directory: str | os.PathLike) -> list[str]:
    """Remove the temporary files that ``save`` left in ``directory`` when it was killed.

    Only files named as ``save`` names them, written on this machine by a process that no
    longer exists: another program's files and a save still in progress (here or on another
    machine sharing the folder) are left alone. Returns the paths removed. ``save`` calls it
    before each write.
    """
    removed: list[str] = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    host = _host_tag()
    for name in names:
        match = _TEMPORARY.match(name)
        if match is None or match.group(2) != host or _is_running(int(match.group(1))):
            continue
        path = os.path.join(directory, name)
        try:
            os.remove(path)
        except OSError:  # already removed by another save, or not ours to remove
            continue
        removed.append(path)
    return removed


def check_writable(directory: str | os.PathLike) -> None:
    """Raise the OSError that saving into ``directory`` would raise (no permission, read-only
    file system...), by creating and removing a temporary file there; return if it works."""
    temporary, fd = _new_temporary(os.fspath(directory), "check_writable")
    os.close(fd)
    os.remove(temporary)


def _read_npz(path: str) -> dict[str, np.ndarray]:
    """Every entry of the archive at ``path``, each checked before it is read (npzfile.py)."""
    try:
        archive = NpzReader(path)
    except NpzError as error:
        raise CheckpointError(f"load: {path} is not a checkpoint: {error}.") from None
    entries = {}
    with archive:
        for key in archive.files:
            try:
                entries[key] = archive[key]
            except NpzError as error:
                raise CheckpointError(f"load: entry {key!r} of {path} {error}.") from None
    return entries


def _mismatches(saved: dict[str, np.ndarray], tensors: dict[str, Tensor]) -> list[str]:
    """Every way the saved arrays differ from the model's parameters, in words."""
    problems = []
    missing = [name for name in tensors if name not in saved]
    extra = [name for name in saved if name not in tensors]
    if missing:
        problems.append(f"missing parameters {missing}")
    if extra:
        problems.append(f"unexpected parameters {extra}")
    for name, tensor in tensors.items():
        if name not in saved:
            continue
        array = saved[name]
        if array.shape != tensor.shape:
            problems.append(f"{name!r} has shape {array.shape}, the model's {tensor.shape}")
        elif array.dtype != tensor.dtype:
            problems.append(f"{name!r} has dtype {array.dtype}, the model's {tensor.dtype}")
    return problems

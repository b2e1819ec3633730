"""A real process pressing Ctrl-C at a moment the test chooses (tests/app: train and sweep).

``run_with_ctrl_c(folder, patch, argv)`` runs the command line in a child process from a
small driver script: ``patch`` is Python run in the child first, which wraps one of the
package's functions so that it calls ``ctrl_c()`` (SIGINT to the child itself, exactly there)
or ``wait_for_ctrl_c()`` (a line printed, then the parent's SIGINT awaited). ``before_calling``
and ``after_update`` write the usual patches. The library itself has no hook for this.
"""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tinygrad_reg

DRIVER = """\
import os, signal, sys, time
from tinygrad_reg.app import cli

def ctrl_c():
    os.kill(os.getpid(), signal.SIGINT)

def wait_for_ctrl_c():
    # Until the parent's SIGINT has come: the first Ctrl-C puts Python's own handler back.
    print("waiting for Ctrl-C", flush=True)
    while signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        time.sleep(0.01)

{patch}

sys.exit(cli.main(sys.argv[1:]))
"""


def run_with_ctrl_c(folder: Path, patch: str, argv: list[str]) -> subprocess.CompletedProcess:
    """The command line with ``argv`` in a child process that runs ``patch`` first (its driver
    script is written in ``folder``); the parent sends SIGINT when the child says it waits."""
    if os.name != "posix":
        pytest.skip("sends SIGINT to a child process")
    script = folder / "driver.py"
    script.write_text(DRIVER.format(patch=textwrap.dedent(patch)))
    environment = {**os.environ, "PYTHONPATH": str(Path(tinygrad_reg.__file__).parents[1])}
    process = subprocess.Popen(
        [sys.executable, str(script), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        lines = []
        if "wait_for_ctrl_c()" in patch:
            for line in process.stdout:
                lines.append(line)
                if line == "waiting for Ctrl-C\n":
                    process.send_signal(signal.SIGINT)
                    break
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    return subprocess.CompletedProcess(argv, process.returncode, "".join(lines) + stdout, stderr)


def before_calling(module: str, name: str, when: str = "True") -> str:
    """A patch pressing Ctrl-C just before ``module.name`` is called, when ``when`` holds
    (``calls`` counts the calls, this one included)."""
    return f"""
from {module.rsplit(".", 1)[0]} import {module.rsplit(".", 1)[1]} as target

real = target.{name}
calls = []

def pressed(*args, **kwargs):
    calls.append(1)
    if {when}:
        ctrl_c()
    return real(*args, **kwargs)

target.{name} = pressed
"""


def after_update(updates, action):
    """A patch running ``action`` after update number ``updates`` (a user's callback)."""
    return f"""
from tinygrad_reg.app import train_command
from tinygrad_reg.train import loop
from tinygrad_reg.train.callbacks import Callback

class At(Callback):
    def after_update(self, state):
        if state.iteration + 1 == {updates}:
            {action}

def fit(*args, callbacks=(), **kwargs):
    return loop.fit(*args, callbacks=[At(), *callbacks], **kwargs)

train_command.fit = fit
"""

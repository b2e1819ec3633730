"""Smoke test of examples/: every script runs (quick mode), exits 0 and tells its story.

Each example runs in its own process from a scratch folder, with TINYGRAD_REG_QUICK=1 (fewer
iterations), as a reader would run it. Every example must be listed in EXPECTED below with a
line its output must contain, so a new example cannot go untested.
"""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# file name → (extra arguments, text its output must contain)
EXPECTED = {
    "scalar_autodiff.py": ([], "The engine applied the same chain rule"),
    "second_derivatives.py": ([], "exact minimum at sqrt(2/3)"),
    "course_network_l2.py": ([], "autodiff == hand-written backprop, with L2"),
    "l1_vs_l2_sparsity.py": ([], "L1 zeroes many more weights than L2."),
    "dropout.py": ([], "through the same masks"),
    "gradient_checking.py": ([], "The gradient check caught the planted bug."),
    "property_test_your_op.py": ([], "All properties hold, and the bug was caught."),
    "course_recipe.py": (["--iterations", "300"], "autodiff == reference"),
    "multiclass_spiral.py": ([], "max |hand-written − autodiff| over all gradients, with L2"),
    "digits.py": ([], "test accuracy: "),
    "digits_cnn.py": ([], "well above chance (10%): the CNN learned the digits."),
}


def accuracy_far_above_chance(stdout: str) -> None:
    """Ten classes, so chance is 0.1; a broken loader, schedule or optimizer group would leave
    the quick run (8 epochs) near it."""
    assert float(stdout.split("test accuracy: ")[1].split()[0]) > 0.8


# file name → a check of what it printed, beyond the line above
CHECKS = {"digits.py": accuracy_far_above_chance}


def run_quick(argv: list[str], folder: Path) -> subprocess.CompletedProcess:
    """``python argv`` in ``folder`` with TINYGRAD_REG_QUICK=1, as a reader would run it."""
    environment = {**os.environ, "TINYGRAD_REG_QUICK": "1", "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=folder,
        env=environment,
        timeout=120,
    )


def test_every_example_is_listed():
    assert sorted(p.name for p in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    arguments, expected = EXPECTED[name]
    script = EXAMPLES / name
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    assert docstring and "Run" in docstring, f"{name}: the docstring should say how to run it"

    result = run_quick([str(script), *arguments], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert expected in result.stdout
    assert "Traceback" not in result.stderr
    CHECKS.get(name, lambda stdout: None)(result.stdout)


def test_an_example_that_needs_an_extra_says_which_and_exits_2(tmp_path):
    """On the demo install (no hypothesis), property_test_your_op.py names the extra."""
    program = (
        "import runpy, sys\n"
        "sys.modules['hypothesis'] = None  # as if it were not installed\n"
        "runpy.run_path(sys.argv[1], run_name='__main__')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, str(EXAMPLES / "property_test_your_op.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "examples/property_test_your_op.py needs hypothesis, in the test extra: "
        'pip install "tinygrad_reg[test]"\n'
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_example_runs_with_numpy_alone_or_says_which_extra_it_needs(name, tmp_path):
    """The demo install has numpy (and matplotlib); without hypothesis and matplotlib every
    example either runs or exits 2 naming the extra."""
    program = (
        "import runpy, sys\n"
        "for name in ('hypothesis', 'matplotlib', 'scipy'):\n"
        "    sys.modules[name] = None\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path(sys.argv[0], run_name='__main__')\n"
    )
    arguments, expected = EXPECTED[name]
    result = run_quick(["-c", program, str(EXAMPLES / name), *arguments], tmp_path)
    if result.returncode == 2:
        assert "pip install" in result.stderr and "Traceback" not in result.stderr
    else:
        assert result.returncode == 0, result.stderr[-2000:]
        assert expected in result.stdout

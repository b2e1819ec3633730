"""The notebooks in notebooks/ are generated from their Markdown pages, so they cannot drift:
each must equal jupytext's conversion of its page, hold no outputs, and run top to bottom in a
clean checkout, leaving it clean (as must the examples and the demo)."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from test_examples import EXPECTED as EXAMPLES

jupytext = pytest.importorskip("jupytext", reason="the notebook extra is not installed")
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = {"tutorial": ROOT / "docs" / "tutorial.md", "demo": ROOT / "docs" / "demo.md"}
REGENERATE = "python -m jupytext --to ipynb docs/{name}.md -o notebooks/{name}.ipynb"


def cells(notebook) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_equals_its_page(name):
    stored = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    generated = jupytext.read(NOTEBOOKS[name])
    assert cells(stored) == cells(generated), (
        f"notebooks/{name}.ipynb differs from docs/{name}.md; regenerate it: "
        + REGENERATE.format(name=name)
    )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_stored_without_outputs(name):
    stored = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    code = [cell for cell in stored.cells if cell.cell_type == "code"]
    assert code, f"notebooks/{name}.ipynb has no code cells"
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


def clean_copy_of_the_checkout(folder: pathlib.Path) -> pathlib.Path:
    """The checkout as it is now (tracked files and new ones not ignored), committed into a
    fresh repository, so ``git status`` there shows exactly what running things added."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    copy = folder / "checkout"
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the working tree is skipped
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    for command in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "-qm", "copy"],
    ):
        subprocess.run(["git", *command], cwd=copy, check=True, capture_output=True)
    return copy


def run_notebook(path: pathlib.Path):
    """Execute a notebook in its own folder, as Jupyter does; returns it with its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    return notebook


def test_examples_notebooks_and_the_demo_run_and_leave_the_checkout_clean(tmp_path):
    """Every example (quick mode), the demo command and every notebook run in a clean copy of
    the checkout; afterwards ``git status`` is empty: what they write is ignored."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    checkout = clean_copy_of_the_checkout(tmp_path)
    environment = {**os.environ, "TINYGRAD_REG_QUICK": "1", "MPLBACKEND": "Agg"}
    commands = [  # each example with the smallest settings its smoke test uses
        [sys.executable, f"examples/{name}", *arguments]
        for name, (arguments, _) in sorted(EXAMPLES.items())
    ]
    commands.append([sys.executable, "-m", "tinygrad_reg", "--iterations", "20"])
    for command in commands:
        done = subprocess.run(
            command, cwd=checkout, env=environment, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}: {done.stderr[-2000:]}"
    for name in NOTEBOOKS:
        notebook = run_notebook(checkout / "notebooks" / f"{name}.ipynb")
        outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
        assert not [o for o in outputs if o.output_type == "error"]
        assert "".join(o.get("text", "") for o in outputs if o.output_type == "stream"), name
        if name == "demo":  # the pictures show inline, one per file the demo wrote
            pictures = [o for o in outputs if "image/png" in o.get("data", {})]
            written = list((checkout / "notebooks" / "tinygrad_reg_out").rglob("*.png"))
            assert written and len(pictures) == len(written)
    assert list((checkout / "tinygrad_reg_out").rglob("*.png")), (
        "the demo and examples wrote no PNG"
    )
    status = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert status == "", f"running the examples, the demo and the notebooks left:\n{status}"

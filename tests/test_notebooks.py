"""The notebooks in notebooks/ are generated from their Markdown pages, so they cannot drift:
each must equal jupytext's conversion of its page, hold no outputs, and run top to bottom."""

import pathlib

import pytest

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


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_top_to_bottom(name, tmp_path):
    notebook = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},  # files it writes land here
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert printed, f"notebooks/{name}.ipynb printed nothing"

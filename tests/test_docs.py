"""Every ```python block in the README and in docs/ runs as written.

Blocks of one page run top to bottom in one namespace, the way a reader would type them.
"""

import contextlib
import importlib
import inspect
import io
import pathlib
import pkgutil
import re

import matplotlib
import pytest

import tinygrad_reg
import tinygrad_reg.ops
from tinygrad_reg import factories, functional
from tinygrad_reg.engine import Function

matplotlib.use("Agg")

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]


# A ```text title="Output" block right after a python block shows what that block prints; the
# test checks it, so the page cannot go stale.
BLOCK = re.compile(r'^```python\n(.*?)^```\n(?:\n```text title="Output"\n(.*?)^```$)?', re.S | re.M)


def python_blocks(page: pathlib.Path) -> list[str]:
    return [code for code, _ in python_blocks_and_outputs(page)]


def python_blocks_and_outputs(page: pathlib.Path) -> list[tuple[str, str | None]]:
    """Each python block with the output the page shows for it (None: the page shows none)."""
    return [(code, output or None) for code, output in BLOCK.findall(page.read_text())]


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.rstrip("\n").split("\n")]


def test_the_pages_exist_and_some_have_code():
    assert (ROOT / "README.md").exists()
    assert sum(len(python_blocks(page)) for page in PAGES) >= 10


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks that write files write them here
    namespace: dict = {"__name__": "__docs__"}
    for number, (block, shown) in enumerate(python_blocks_and_outputs(page), start=1):
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                exec(compile(block, f"{page.name}[block {number}]", "exec"), namespace)
        except Exception as error:
            pytest.fail(f"{page.name}, python block {number} raised {error!r}:\n{block}")
        if shown is not None:
            assert lines_of(shown) == lines_of(printed.getvalue()), (
                f"{page.name}, python block {number}: the Output block below it is stale; "
                f"the block now prints:\n{printed.getvalue()}"
            )


def test_the_tutorial_shows_what_explain_backward_prints():
    outputs = [shown for code, shown in python_blocks_and_outputs(ROOT / "docs" / "tutorial.md")]
    codes = python_blocks(ROOT / "docs" / "tutorial.md")
    explained = [shown for code, shown in zip(codes, outputs) if "explain_backward(" in code]
    assert len(explained) >= 2 and None not in explained


# --- docs/api.md keeps up with the code ---------------------------------------------------------


def op_classes_listed_per_file() -> dict[str, set[str]]:
    """api.md's "Op classes" paragraph as {file name: the names listed after it}: it reads
    "`unary.py` `Exp Log ...`; `reduce.py` `Sum ...` (base `Reduction`) and `CumSum`; ...\""""
    text = (ROOT / "docs" / "api.md").read_text()
    paragraph = text[text.index("**Op classes**") :].split("\n\n", 1)[0]
    listed: dict[str, set[str]] = {}
    for part in paragraph.split(";"):
        found = re.search(r"`(\w+)\.py`(.*)", part, flags=re.S)
        if found:
            file, names = found.groups()
            listed.setdefault(file, set()).update(re.findall(r"\w+", names))
    return listed


def test_api_md_lists_every_op_class_under_its_file():
    listed = op_classes_listed_per_file()
    missing = []
    for module_info in pkgutil.iter_modules(tinygrad_reg.ops.__path__):
        module = importlib.import_module(f"tinygrad_reg.ops.{module_info.name}")
        for name, member in vars(module).items():
            is_op = (
                inspect.isclass(member)
                and member.__module__ == module.__name__  # defined here, not imported
                and issubclass(member, Function)
                and not name.startswith("_")
            )
            if is_op and name not in listed.get(module_info.name, set()):
                missing.append(f"{module_info.name}.py: {name}")
    assert not missing, f"docs/api.md's op-class list lacks {missing}"


def test_api_md_mentions_every_exported_function_and_factory():
    text = (ROOT / "docs" / "api.md").read_text()
    # Inline code spans, line by line (a ``` fence on its own line pairs with nothing).
    spans = [span for line in text.splitlines() for span in re.findall(r"`([^`]+)`", line)]
    in_code = set(re.findall(r"\w+", " ".join(spans)))
    exported = [
        name
        for module in (functional, factories)
        for name, member in vars(module).items()
        if inspect.isfunction(member)
        and member.__module__ == module.__name__
        and name in tinygrad_reg.__all__
    ]
    assert len(exported) > 30  # the two modules were found and read
    missing = [name for name in exported if name not in in_code]
    assert not missing, f"docs/api.md does not mention {missing} (in `code`)"


def test_the_tutorials_op_table_points_at_each_ops_file_and_class():
    """Every op file is in the table, and every class it names is defined in the file it names
    (a Function with a backward rule), so the table cannot point at the wrong place."""
    import importlib

    from tinygrad_reg.engine import Function

    root = pathlib.Path(__file__).resolve().parent.parent
    tutorial = (root / "docs" / "tutorial.md").read_text(encoding="utf-8")
    table = tutorial[tutorial.index("### Where each op's rule lives") :]
    rows = re.findall(r"^\| .* \| (.*) \| `ops/(\w+)\.py` \|$", table, flags=re.M)
    files = {path.stem for path in (root / "tinygrad_reg" / "ops").glob("*.py")}
    assert {name for _, name in rows} == files - {"__init__", "helpers", "broadcasting"}
    for classes, name in rows:
        module = importlib.import_module(f"tinygrad_reg.ops.{name}")
        for class_name in re.findall(r"`(\w+)`", classes):
            op = getattr(module, class_name, None)
            assert op is not None and op.__module__ == module.__name__, (class_name, name)
            assert issubclass(op, Function) and op.backward.__doc__, (class_name, name)

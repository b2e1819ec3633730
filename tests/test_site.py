"""The documentation site's API reference is generated from the docstrings (mkdocs.yml,
docs/reference/): every module must have a page, and every public name a docstring to show."""

import inspect
import pathlib
import pkgutil
import re

import tinygrad_reg

ROOT = pathlib.Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"


def documented_modules() -> set[str]:
    text = "\n".join(page.read_text() for page in REFERENCE.glob("*.md"))
    return set(re.findall(r"^::: (tinygrad_reg[\w.]*)", text, flags=re.M))


def test_every_module_has_a_reference_page():
    documented = documented_modules()
    modules = {
        info.name
        for info in pkgutil.walk_packages(tinygrad_reg.__path__, "tinygrad_reg.")
        if not info.name.split(".")[-1].startswith("_")
    }
    # tinygrad_reg.ops is rendered with its submodules (show_submodules in ops.md)
    missing = {m for m in modules if m not in documented and not m.startswith("tinygrad_reg.ops.")}
    assert not missing, f"modules without a page in docs/reference/: {sorted(missing)}"


def test_every_public_name_has_a_docstring():
    undocumented = [
        name
        for name in tinygrad_reg.__all__
        if not inspect.getdoc(getattr(tinygrad_reg, name))
        or (
            inspect.ismodule(getattr(tinygrad_reg, name)) is False
            and not callable(getattr(tinygrad_reg, name))
        )
    ]
    assert not undocumented, f"public names without a docstring: {undocumented}"


def test_every_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = [p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")]
    assert [p for p in pages if p not in nav] == []

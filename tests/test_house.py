"""The folders are the architecture: the core (tensor, engine, ops, functional, factories)
stands alone, and imports point down (no wing imports app/)."""

import ast
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "tinygrad_reg"
ABOVE_THE_CORE = ("app", "train", "jit", "debug")


@pytest.mark.parametrize("module", ["tinygrad_reg.tensor", "tinygrad_reg.engine", "tinygrad_reg"])
def test_importing_the_core_loads_no_wing_above_it(module):
    program = (
        f"import sys, {module}\n"
        f"wings = {ABOVE_THE_CORE!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[:2][-1] in wings "
        "and m.startswith('tinygrad_reg.')))"
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import {module} loaded {result.stdout.strip()}"


def imported_modules(path: pathlib.Path) -> set[str]:
    """The tinygrad_reg modules a file imports, as dotted names (relative imports resolved)."""
    here = ["tinygrad_reg", *path.relative_to(PACKAGE).with_suffix("").parts]
    package = here if path.name == "__init__.py" else here[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *([node.module] if node.module else [])])
            found.update(f"{target}.{alias.name}" for alias in node.names)
            found.add(target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("tinygrad_reg")}


def test_no_module_outside_app_imports_app():
    # __main__.py is python -m tinygrad_reg: the application's entry point, like app/ itself
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] not in ("app", "__main__.py")
        for name in imported_modules(path)
        if name.startswith("tinygrad_reg.app")
    ]
    assert offenders == []


def test_the_engine_attaches_tools_through_hooks_not_imports():
    imports = imported_modules(PACKAGE / "engine.py")
    assert {name for name in imports if name.split(".")[1] in ABOVE_THE_CORE} == set()


def test_every_folder_says_what_it_is_for():
    for folder in [p for p in PACKAGE.iterdir() if p.is_dir() and not p.name.startswith("_")]:
        docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
        assert docstring and len(docstring.split()) >= 20, f"{folder.name}/__init__.py"

"""A few ops on PyTorch's own OpInfo sample inputs (float64): values and first derivatives
agree, through the adapters of benchmarks/opinfo_local.py, which runs every op of its table."""

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("expecttest")  # torch's OpInfo module imports it

SCRIPT = Path(__file__).parents[2] / "benchmarks" / "opinfo_local.py"
OPS = [
    "gather",
    "scatter",
    "sort",
    "quantile",
    "clamp",
    "lerp",
    "nn.functional.nll_loss",
    "nn.functional.kl_div",
    "nn.functional.conv2d",
]


def load_script():
    spec = importlib.util.spec_from_file_location("opinfo_local", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_few_ops_agree_with_torch_on_its_opinfo_samples():
    rows = load_script().run(OPS)
    assert sorted(name for name, *_ in rows) == sorted(OPS)
    for name, agreed, _, differ in rows:
        assert not differ, (name, differ)
        assert agreed > 0, name

"""Tests of tinygrad_reg/nn/. A package, so that its test files may share a name with those of
tests/ops/ (tests/nn/test_conv.py tests the layers, tests/ops/test_conv.py the ops)."""

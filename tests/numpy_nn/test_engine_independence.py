"""The engine must never import torch (tests and benchmarks may)."""

from __future__ import annotations

import ast
from pathlib import Path

import practica.numpy_nn as engine


def test_no_module_of_the_engine_imports_torch() -> None:
    files = sorted(Path(engine.__file__).parent.glob("*.py"))
    assert len(files) >= 10
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "torch" or n.startswith("torch.") for n in names), path.name

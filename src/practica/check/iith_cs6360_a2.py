"""The check of IIT-H CS6360 A2 §2's ``lossFun`` (``min-char-rnn.py``, Karpathy's gist).

The gist trains at the top level of the script, so it cannot be imported as it is: the
check runs only the file's imports, assignments of constants and function definitions
(its training loop and file reading are left out), sets the weights as the globals the
gist's ``lossFun`` reads, and compares its loss, gradients and last hidden state with the
reference on random weights and sequences (repeated characters included).
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import numpy as np

from ..handouts import iith_cs6360_a2 as ref
from .compare import Missing, same, unpack
from .spec import Piece

NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def definitions_only(path: Path) -> ModuleType:
    """The module with only its imports, function/class definitions and constant
    assignments executed (no loops, no I/O at the top level)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    keep = [node for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef))
            or (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant))]
    module = ModuleType(path.stem)
    module.__file__ = str(path)
    exec(compile(ast.Module(body=keep, type_ignores=[]), str(path), "exec"), module.__dict__)
    return module


def check_lossfun(m: ModuleType) -> None:
    path = Path(m.__file__ or "")
    module = definitions_only(path)
    fn = getattr(module, "lossFun", None)
    if not callable(fn):
        raise Missing(f"{path.name} has no function lossFun")
    for seed, (vocab, hidden, length) in zip((0, 1, 2), ((5, 7, 6), (3, 4, 1), (8, 6, 10)),
                                             strict=True):
        rng = np.random.default_rng(seed)
        weights = {"Wxh": rng.standard_normal((hidden, vocab)) * 0.3,
                   "Whh": rng.standard_normal((hidden, hidden)) * 0.3,
                   "Why": rng.standard_normal((vocab, hidden)) * 0.3,
                   "bh": rng.standard_normal((hidden, 1)) * 0.1,
                   "by": rng.standard_normal((vocab, 1)) * 0.1}
        inputs = [int(i) for i in rng.integers(0, vocab, length)]
        inputs[: min(3, length)] = [inputs[0]] * min(3, length)  # a repeated character
        targets = [int(i) for i in rng.integers(0, vocab, length)]
        hprev = rng.standard_normal((hidden, 1)) * 0.5
        for target in (module, ref):
            for name, value in weights.items():
                setattr(target, name, value.copy())
            target.vocab_size, target.hidden_size = vocab, hidden
        got = unpack(fn(list(inputs), list(targets), hprev.copy()), 7, "lossFun")
        want = ref.lossFun(inputs, targets, hprev)
        same("lossFun: loss", got[0], want[0], hint=" (the summed cross-entropy of the targets)")
        for name, g, w in zip(("dWxh", "dWhh", "dWhy", "dbh", "dby"), got[1:6], want[1:6],
                              strict=True):
            same(f"lossFun: {name}", g, w, hint=" (backpropagation through time, clipped "
                                                "to ±5)")
        same("lossFun: the last hidden state", got[6], want[6])


PIECES = (Piece("lossfun", "§2 (min-char-rnn)", "min-char-rnn", check_lossfun,
                "lossFun: loss, gradients and last state against the reference",
                imports=False),)

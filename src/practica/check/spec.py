"""What a check is: one piece of a handout's starter code, the question it answers, the
learner's module that holds it, and the function that tests it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Piece:
    name: str  # e.g. "fc"
    question: str  # the handout's number, e.g. "Q1 (a)"
    module: str  # the learner's file without .py, e.g. "layers"
    run: Callable[[ModuleType], None]  # raises Mismatch (or anything) on failure
    what: str  # one line: what is checked
    imports: bool = True  # False: the file is a script; the check reads it itself

"""``practica check``: a learner's implementation held against the reference, piece by
piece, in the handouts' own interfaces.

Each piece runs in its own Python process with a time limit, so a crash, a hang or an
``import`` of something odd in the learner's code is reported for that piece alone and
never reaches practica. See :mod:`.compare` for how discrepancies are worded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import PracticaError
from . import cvbl_2019, eecs545_hw4, iith_cs6360_a2, uva_dl_1, waterloo_a5
from .spec import Piece

#: The handouts whose starter-code pieces can be checked, by the book's handout names.
HANDOUTS: dict[str, tuple[Piece, ...]] = {"uva-dl-1": uva_dl_1.PIECES,
                                          "cvbl-2019": cvbl_2019.PIECES,
                                          "eecs545-hw4": eecs545_hw4.PIECES,
                                          "waterloo-a5": waterloo_a5.PIECES,
                                          "iith-cs6360-a2": iith_cs6360_a2.PIECES}


@dataclass(frozen=True)
class Verdict:
    question: str
    piece: str
    status: str  # PASS, FAIL, MISSING, ERROR, TIMEOUT
    message: str


def pieces(handout: str, only: list[str] | None = None) -> tuple[Piece, ...]:
    if handout not in HANDOUTS:
        raise PracticaError(f"practica check knows {', '.join(HANDOUTS)}; not {handout!r}")
    chosen = HANDOUTS[handout]
    if only:
        names = {p.name for p in chosen}
        unknown = [n for n in only if n not in names]
        if unknown:
            raise PracticaError(f"unknown piece(s) {', '.join(unknown)}; {handout} has "
                                f"{', '.join(p.name for p in chosen)}")
        chosen = tuple(p for p in chosen if p.name in only)
    return chosen


def check_one(handout: str, folder: Path, piece: Piece, timeout: float) -> Verdict:
    """One piece in a fresh interpreter, killed after ``timeout`` seconds."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "OMP_NUM_THREADS": "1"}
    try:
        done = subprocess.run(
            [sys.executable, "-m", "practica.check.worker", handout, str(folder), piece.name],
            capture_output=True, text=True, timeout=timeout, cwd=folder, env=env,
            stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return Verdict(piece.question, piece.name, "TIMEOUT",
                       f"no answer within {timeout:g} s (an endless loop?)")
    lines = [line for line in done.stdout.splitlines() if line.startswith('{"status"')]
    if not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Verdict(piece.question, piece.name, "ERROR",
                       f"the check's process ended with code {done.returncode}: {last}")
    result = json.loads(lines[-1])
    return Verdict(piece.question, piece.name, result["status"], result["message"])


def run_checks(handout: str, folder: Path, only: list[str] | None = None,
               timeout: float = 60.0) -> list[Verdict]:
    chosen = pieces(handout, only)
    folder = Path(folder)
    if not folder.is_dir():
        raise PracticaError(f"no folder {folder}; give the folder holding your "
                            f"{', '.join(sorted({p.module + '.py' for p in chosen}))}")
    return [check_one(handout, folder.resolve(), p, timeout) for p in chosen]


def format_verdicts(verdicts: list[Verdict]) -> str:
    width = max(len(f"{v.question} {v.piece}") for v in verdicts) + 2
    lines = [f"{(v.question + ' ' + v.piece).ljust(width)} {v.status:<7} {v.message}"
             for v in verdicts]
    passed = sum(v.status == "PASS" for v in verdicts)
    lines.append(f"{passed} of {len(verdicts)} pieces pass")
    return "\n".join(lines)


def verdicts_json(verdicts: list[Verdict]) -> str:
    return json.dumps([asdict(v) for v in verdicts], indent=1) + "\n"

"""The handouts and their questions, read from ``questions/<handout>.toml``.

One file per handout: a ``[handout]`` table (title, short name, heading style) and a
``[[question]]`` list with ``id`` (as the handout numbers it), ``summary`` (one line) and
``kind`` (``graded``, ``bonus`` or ``optional``; bonus questions earn marks, so they count
as graded).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from ..errors import PracticaError

HERE = Path(__file__).resolve().parent
KINDS = ("graded", "bonus", "optional")


@dataclass(frozen=True)
class Question:
    handout: str
    id: str  # as the handout numbers it, e.g. "1.1 a)" or "§5.1 latent map"
    heading: str  # the heading shown on the page, e.g. "Question 1.1 a)"
    summary: str
    kind: str

    @property
    def graded(self) -> bool:
        return self.kind in ("graded", "bonus")

    @property
    def anchor(self) -> str:
        keep = "".join(c if c.isalnum() else "-" for c in self.id.lower())
        return "q-" + "-".join(p for p in keep.split("-") if p)


@dataclass(frozen=True)
class Handout:
    name: str  # file stem, e.g. "uva-dl-1"
    title: str
    source: str  # the handout file in shared/handouts
    order: int
    questions: tuple[Question, ...]

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise PracticaError(f"{self.name}: no question {qid!r} in questions/{self.name}.toml")


def load_handout(path: Path) -> Handout:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise PracticaError(f"cannot read {path}: {exc}") from None
    meta = data.get("handout", {})
    name = path.stem
    style = meta.get("heading", "Question {id}")
    questions = []
    seen = set()
    for row in data.get("question", []):
        qid, kind = str(row["id"]), row.get("kind", "graded")
        if kind not in KINDS:
            raise PracticaError(f"{path}: question {qid!r} has kind {kind!r}; use one of {KINDS}")
        if qid in seen:
            raise PracticaError(f"{path}: question {qid!r} is listed twice")
        seen.add(qid)
        heading = row.get("heading") or style.format(id=qid)
        questions.append(Question(name, qid, heading, str(row["summary"]), kind))
    return Handout(name, str(meta.get("title", name)), str(meta.get("source", "")),
                   int(meta.get("order", 99)), tuple(questions))


def handouts(folder: Path = HERE / "questions") -> list[Handout]:
    """Every handout with a questions file, in the book's order."""
    found = [load_handout(p) for p in sorted(folder.glob("*.toml"))]
    return sorted(found, key=lambda h: (h.order, h.name))

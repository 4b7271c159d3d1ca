"""The real answer sources: every handout has its questions table and its page, every
graded question has an answer section, and the book builds against the reference results
shipped in results/ (which checks each quoted metric and figure against those runs)."""

from __future__ import annotations

import re
import time

from practica.book import build_book, coverage_rows
from practica.book.build import ANSWERS
from practica.book.questions import handouts
from practica.book.reference import default_reference
from practica.experiments.registry import REGISTRY

HANDOUT_FILES = {"uva-dl-1", "cvbl-2019", "eecs545-hw4", "waterloo-a5", "iith-cs6360-a2"}


def test_five_handouts_each_with_questions_and_an_answer_source():
    books = handouts()
    assert {h.name for h in books} == HANDOUT_FILES
    for h in books:
        assert (ANSWERS / f"{h.name}.md").is_file()
        assert len(h.questions) >= 10
        assert len({q.anchor for q in h.questions}) == len(h.questions)  # unique anchors


def test_every_graded_question_is_answered_and_the_build_is_fast(tmp_path):
    started = time.perf_counter()
    results = build_book(tmp_path / "book", default_reference())
    seconds = time.perf_counter() - started
    rows = coverage_rows(results)
    assert {r["handout"]: r["missing"] for r in rows} == {name: [] for name in HANDOUT_FILES}
    optional = [r for r in rows if r["optional"]]
    assert optional and all(r["optional_answered"] == r["optional"] for r in optional)
    assert seconds < 60  # the bound for a fresh clone (measured: a few seconds)


def test_sources_name_only_registered_experiments_and_type_no_machine_paths():
    for source in ANSWERS.glob("*.md"):
        text = source.read_text()
        for name in re.findall(r'(?:value|figure|text|seconds|provenance)\("([^"]+)"', text):
            assert name in REGISTRY, f"{source.name}: unknown experiment {name}"
        assert not re.search(r"/(work|tmp|root|home)/", text), source.name

"""The answer book: one page per handout, its questions answered in order, with the
numbers and figures filled in from run records (the shipped reference results, and the
user's own runs beside them).

Sources: ``answers/<handout>.md`` (Markdown with a few template calls, see
:mod:`.directives`) and ``questions/<handout>.toml`` (the handout's questions). The builder
is :func:`.build.build_book`; ``practica book`` calls it.
"""

from .build import build_book, coverage_rows

__all__ = ["build_book", "coverage_rows"]

"""Markdown → HTML with the math typeset at build time (TeX → MathML), so pages need no
network and no JavaScript: Chromium and Firefox render MathML natively."""

from __future__ import annotations

import html
from typing import Any

from latex2mathml.converter import convert
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from ..errors import PracticaError


def tex_to_mathml(tex: str, display: bool) -> str:
    """One formula as MathML; a formula the converter cannot read is a build error."""
    try:
        return convert(tex.strip(), display="block" if display else "inline")
    except Exception as exc:  # the converter raises many types on bad TeX
        raise PracticaError(f"cannot typeset ${tex.strip()}$ ({type(exc).__name__}: {exc}); "
                            "fix the formula in the answer source") from None


def _render_math(content: str, options: dict[str, Any]) -> str:
    return tex_to_mathml(content, bool(options.get("display_mode")))


def markdown_renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")
    md.use(dollarmath_plugin, allow_labels=False, allow_space=False, allow_digits=False,
           double_inline=True, renderer=_render_math)
    return md


def render_markdown(text: str) -> str:
    return markdown_renderer().render(text)


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)

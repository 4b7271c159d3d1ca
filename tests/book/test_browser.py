"""The answer book in a real browser: headless Chromium opens every page, and each image
must load, the math must be typeset (no raw TeX left in the text), every internal link
must resolve and no graded question may be missing. A screenshot of each page is kept.
The second test proves the checks catch a broken figure and a missing answer.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urlparse

from browser import IMAGES_LOADED, screenshot

from practica.book import build_book
from practica.book.reference import default_reference

from .test_builder import FULL, write_sources

#: The text of the page outside code blocks (raw TeX there would be a rendering failure).
PROSE = ("const c = document.body.cloneNode(true);"
         "c.querySelectorAll('pre, code, math').forEach(e => e.remove());"
         "return c.innerText;")
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.getAttribute('href'));"
MATH_BOXES = ("return Array.from(document.querySelectorAll('math')).map("
              "m => m.getBoundingClientRect().height);")
RAW_TEX = re.compile(r"\\(frac|partial|mathbf|sum|top|odot|sigma|begin)\b|\$[^\s$][^$]*\$")


def check_site(driver, out: Path, tmp_path: Path, browser_name: str = "chromium"
               ) -> list[str]:
    """Every problem a reader would see on the built site, one line each."""
    problems = []
    for page in sorted(out.glob("*.html")):
        driver.get(page.as_uri())
        for src, ok in driver.execute_script(IMAGES_LOADED):
            if not ok:
                problems.append(f"{page.name}: image {src} did not load")
        prose = driver.execute_script(PROSE)
        for match in RAW_TEX.finditer(prose):
            problems.append(f"{page.name}: raw TeX in the text: {match.group(0)[:40]!r}")
        if page.name != "index.html":
            heights = driver.execute_script(MATH_BOXES)
            if any(h <= 0 for h in heights):
                problems.append(f"{page.name}: a formula is not rendered")
            if "(missing)</li>" in page.read_text():
                problems.append(f"{page.name}: a question has no answer")
        for href in driver.execute_script(LINKS):
            parsed = urlparse(href)
            if parsed.scheme in ("http", "https", "mailto"):
                continue
            target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if not target.is_file():
                problems.append(f"{page.name}: link {href} does not resolve")
            elif parsed.fragment and f"id='{parsed.fragment}'" not in target.read_text() \
                    and f'id="{parsed.fragment}"' not in target.read_text():
                problems.append(f"{page.name}: anchor {href} does not exist")
        screenshot(driver, tmp_path, f"book-{browser_name}-{page.stem}.png", full_page=True)
    return problems


def test_the_book_renders_in_chromium(browser, tmp_path):
    """The real book, from the reference results shipped with practica."""
    out = tmp_path / "book"
    results = build_book(out, default_reference())
    assert len(results) == 5
    assert check_site(browser, out, tmp_path) == []
    browser.get((out / "cvbl-2019.html").as_uri())
    assert browser.find_element("css selector", "h2.question").text.startswith("Question 1.1")
    assert browser.execute_script("return document.querySelectorAll('math').length") > 10


def test_the_book_renders_in_firefox(firefox, tmp_path):
    """The same checks in Firefox, whose MathML engine is not Chromium's."""
    out = tmp_path / "book"
    build_book(out, default_reference())
    assert check_site(firefox, out, tmp_path, browser_name="firefox") == []
    firefox.get((out / "uva-dl-1.html").as_uri())
    assert firefox.execute_script("return document.querySelectorAll('math').length") > 10
    widths = firefox.execute_script("return Array.from(document.querySelectorAll('math'))"
                                    ".map(m => m.getBoundingClientRect().width);")
    assert min(widths) > 0


def test_a_broken_figure_and_a_missing_answer_are_caught(browser, reference_runs, tmp_path):
    answer = FULL.split('{{ question("1.2") }}')[0].replace('{{ question("1.1 a)") }}',
                                                          '{{ question("1.1 a)") }}')
    answer += ('{{ figure("mlp-torch", "plots/accuracy.png", "accuracy") }}\n'
               "A link to [nowhere](nowhere.html) and one to [a lost anchor](#no-such-id).\n")
    sources = write_sources(tmp_path / "src", answer)  # question 1.2 is left unanswered
    out = tmp_path / "out"
    build_book(out, reference_runs, sources=sources)
    for image in (out / "figures").rglob("*.png"):
        image.unlink()
    problems = check_site(browser, out, tmp_path)
    assert any("did not load" in p for p in problems), problems
    assert any("has no answer" in p for p in problems), problems
    assert any("nowhere.html does not resolve" in p for p in problems), problems
    assert any("#no-such-id does not exist" in p for p in problems), problems

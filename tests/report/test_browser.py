"""The results report in a real browser: headless Chromium opens the index, follows a link
to a run page, checks the table rows and that every image loaded, and saves screenshots.

The browser fixture is shared (tests/browser.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import IMAGES_LOADED, screenshot
from foundation.formats import write_cifar_folder

from practica import cli
from practica.data import cifar10

EXPERIMENTS = ("mlp-torch", "convnet-vgg")


@pytest.fixture
def runs_root(tmp_path, monkeypatch) -> Path:
    """Two finished runs on the tiny CIFAR-10 fixture, and the report built from them."""
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    data = write_cifar_folder(tmp_path / "data").parent
    root = tmp_path / "runs"
    for name in EXPERIMENTS:
        assert cli.main(["run", name, "--no-progress", "--data-dir", str(data), "--runs-dir",
                         str(root), "--set", "steps=4", "--set", "eval_every=2",
                         "--set", "batch_size=10"]) == 0
    assert cli.main(["report", str(root)]) == 0
    return root


def test_report_renders_in_chromium(browser, runs_root, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get((runs_root / "report" / "index.html").as_uri())
    assert browser.title == "practica results"
    rows = browser.find_elements(By.CSS_SELECTOR, "table tr")[1:]
    names = [r.find_elements(By.TAG_NAME, "td")[0].text for r in rows]
    assert sorted(names) == sorted(EXPERIMENTS)
    for row in rows:
        cells = [td.text for td in row.find_elements(By.TAG_NAME, "td")]
        assert cells[6] == "completed"
        assert float(cells[4]) >= 0  # a measured accuracy is shown
    screenshot(browser, tmp_path, "report-index.png")

    link = rows[names.index("convnet-vgg")].find_element(By.TAG_NAME, "a")
    link.click()
    assert browser.current_url.endswith("/report.html")
    assert browser.find_element(By.TAG_NAME, "h1").text.startswith("convnet-vgg")
    images = browser.execute_script(IMAGES_LOADED)
    srcs = {src for src, _ in images}
    assert "plots/confusion_matrix.png" in srcs and len(images) >= 3
    assert all(ok for _, ok in images), [src for src, ok in images if not ok]
    screenshot(browser, tmp_path, "report-run.png")


def test_a_broken_image_is_detected(browser, runs_root):
    """The image check above can fail: a missing plot shows up as not loaded."""
    from selenium.webdriver.common.by import By

    browser.get((runs_root / "report" / "index.html").as_uri())
    link = browser.find_elements(By.CSS_SELECTOR, "table tr td a")[0]
    run_page = Path(link.get_attribute("href").removeprefix("file://"))
    (run_page.parent / "plots" / "confusion_matrix.png").unlink()
    browser.get(run_page.as_uri())
    images = dict(browser.execute_script(IMAGES_LOADED))
    assert images["plots/confusion_matrix.png"] is False

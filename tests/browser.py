"""A headless Chromium for the tests that open pages in a real browser.

Runs where Chromium, chromedriver and selenium are installed (`.ci/run` installs Debian's
chromium and chromium-driver); elsewhere those tests are skipped with the reason.
Screenshots go to ``PRACTICA_SCREENSHOTS`` when set (CI keeps them), else the test's
temporary folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
IMAGES_LOADED = ("return Array.from(document.images).map("
                 "i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0]);")


@pytest.fixture
def browser():
    webdriver = pytest.importorskip("selenium.webdriver")
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("Chromium/chromedriver not installed (apt-get install chromium "
                    "chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1000", "--allow-file-access-from-files"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options,
                              service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver, tmp_path: Path, name: str, *, full_page: bool = False) -> Path:
    folder = Path(os.environ.get("PRACTICA_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if full_page:  # the whole page, not just the window
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(1400, min(max(int(height), 1000), 16000))
    assert driver.save_screenshot(str(path))
    assert path.stat().st_size > 5_000  # a rendered page, not an empty image
    return path

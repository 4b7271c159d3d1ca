"""Headless Chromium and Firefox for the tests that open pages in a real browser.

Chromium runs where Chromium, chromedriver and selenium are installed (`.ci/run` installs
Debian's chromium and chromium-driver). Firefox is driven without geckodriver, over the
WebDriver BiDi protocol Firefox itself serves (`--remote-debugging-port`), with
websocket-client (a dependency of selenium); `.ci/run` installs Debian's firefox-esr.
Where a browser is missing its tests are skipped with the reason.
Screenshots go to ``PRACTICA_SCREENSHOTS`` when set (CI keeps them), else the test's
temporary folder.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FIREFOX = shutil.which("firefox-esr") or shutil.which("firefox")
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


class FirefoxBiDi:
    """Just enough of a WebDriver for the page checks: get, execute_script, screenshots.

    ``execute_script`` takes the same ``return …`` scripts as selenium's and returns plain
    Python values (BiDi's remote values deserialised).
    """

    def __init__(self, profile: Path) -> None:
        import websocket  # websocket-client, installed with selenium

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        (profile / "user.js").write_text(
            'user_pref("browser.shell.checkDefaultBrowser", false);\n'
            'user_pref("app.update.auto", false);\n'
            'user_pref("datareporting.policy.dataSubmissionEnabled", false);\n'
            'user_pref("network.captive-portal-service.enabled", false);\n')
        self.process = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--profile", str(profile),
             "--remote-debugging-port", str(port), "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            self.ws = self._connect(websocket, port)
            self._id = 0
            self.command("session.new", capabilities={})
            self.context = self.command("browsingContext.getTree")["contexts"][0]["context"]
            self.set_window_size(1400, 1000)
        except BaseException:  # never leave a headless Firefox behind
            self.process.kill()
            self.process.wait()
            raise

    def _connect(self, websocket: Any, port: int) -> Any:
        deadline = time.monotonic() + 60
        while True:
            try:
                return websocket.create_connection(f"ws://127.0.0.1:{port}/session",
                                                   timeout=60, suppress_origin=True)
            except OSError:  # not listening yet
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.3)

    def command(self, method: str, **params: Any) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self._id:
                if message.get("type") == "error":
                    raise RuntimeError(f"{method}: {message.get('error')}: "
                                       f"{message.get('message')}")
                return message["result"]

    def get(self, url: str) -> None:
        self.command("browsingContext.navigate", context=self.context, url=url,
                     wait="complete")

    def execute_script(self, script: str) -> Any:
        result = self.command("script.callFunction",
                              functionDeclaration=f"() => {{ {script} }}", awaitPromise=False,
                              target={"context": self.context})
        if result.get("type") == "exception":
            raise RuntimeError(result["exceptionDetails"].get("text"))
        return _plain(result["result"])

    def set_window_size(self, width: int, height: int) -> None:
        self.command("browsingContext.setViewport", context=self.context,
                     viewport={"width": width, "height": height})

    def save_screenshot(self, path: str) -> bool:
        data = self.command("browsingContext.captureScreenshot", context=self.context,
                            origin="document")["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return True

    def quit(self) -> None:
        with contextlib.suppress(Exception):  # Firefox may already be closing
            self.command("session.end")
        self.ws.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _plain(value: dict) -> Any:
    """A BiDi remote value as a Python value."""
    kind, data = value.get("type"), value.get("value")
    if kind in ("array", "set"):
        return [_plain(v) for v in data]
    if kind == "object":
        return {(k if isinstance(k, str) else _plain(k)): _plain(v) for k, v in data}
    if kind in ("undefined", "null"):
        return None
    if kind == "number" and isinstance(data, str):  # NaN, Infinity, -0
        return float(re.sub("^-0$", "0", data).replace("Infinity", "inf"))
    return data


@pytest.fixture
def firefox(tmp_path_factory):
    pytest.importorskip("websocket")
    if not FIREFOX:
        pytest.skip("Firefox not installed (apt-get install firefox-esr)")
    driver = FirefoxBiDi(tmp_path_factory.mktemp("firefox-profile"))
    try:
        yield driver
    finally:
        driver.quit()

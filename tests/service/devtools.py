"""Headless Chromium driven over the DevTools protocol, for pages that need a click
(a dialog) before they show what a test looks for: open, wait, click, screenshot.

`tests/service/browser.py` renders a URL in one command; this keeps a browser open and
speaks to its page over a websocket (the `websockets` package Prefect already needs).
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.integration.conftest import free_port, wait_until
from tests.service.browser import FLAGS, chromium


class Page:
    """One browser tab: calls of the protocol, each answered by its id."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        self.socket.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:  # events arrive in between; the answer carries our id
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        return result["result"].get("value")

    def text(self) -> str:
        return str(self.evaluate("document.body ? document.body.innerText : ''"))

    def wait_for_text(self, *words: str, timeout_s: float = 60) -> str:
        """The page's text once it shows every word (fails the test after the timeout)."""
        deadline = time.monotonic() + timeout_s
        while True:
            text = self.text()
            if all(word in text for word in words):
                return text
            assert time.monotonic() < deadline, f"{words} not on the page: {text[:2000]}"
            time.sleep(0.5)

    def click(self, label: str) -> bool:
        """Click, as a mouse does (menus open on the pointer going down), the first button
        or menu item whose text is `label`; False when there is none yet."""
        centre = self.evaluate(
            "(() => { const e = [...document.querySelectorAll('button, [role=menuitem]')]"
            f".find(e => e.innerText.trim() === {json.dumps(label)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        if not centre:
            return False
        x, y = centre
        for event in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=event, x=x, y=y, button="left",
                      buttons=1 if event == "mousePressed" else 0, clickCount=1)
        return True

    def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))
        return path


@contextmanager
def open_page(url: str) -> Iterator[Page]:
    """A headless Chromium showing `url`, closed afterwards."""
    port = free_port()
    flags = [flag for flag in FLAGS if not flag.startswith("--virtual-time-budget")]
    # Chromium's helper processes may still be writing the profile as the browser
    # exits: a profile folder left behind is no failure of the page under test.
    with tempfile.TemporaryDirectory(prefix="adforge-devtools-",
                                     ignore_cleanup_errors=True) as profile:
        process = subprocess.Popen(
            [str(chromium()), *flags, f"--user-data-dir={profile}",
             f"--remote-debugging-port={port}", "--remote-allow-origins=*", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            page_socket = _page_socket(port)
            with connect(page_socket, max_size=None, open_timeout=30) as socket:
                page = Page(socket)
                page.call("Page.enable")
                page.call("Page.navigate", url=url)
                yield page
        finally:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def resume_dialog(ui_url: str, flow_run_id: str) -> Iterator[Page]:
    """A paused flow run's page in headless Chromium, its Resume dialog opened (the run's
    actions menu, then its item)."""
    with open_page(f"{ui_url}/v2/runs/flow-run/{flow_run_id}") as page:
        page.wait_for_text("Paused")
        for label in ("Open menu", "Resume"):
            deadline = time.monotonic() + 60
            while not page.click(label):
                assert time.monotonic() < deadline, page.text()[:2000]
                time.sleep(0.5)
        yield page


def _page_socket(port: int) -> str:
    """The websocket of the browser's first tab, once the browser answers."""
    targets: list[dict[str, Any]] = []

    def answered() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=1) as r:
                targets[:] = [t for t in json.load(r) if t.get("type") == "page"]
        except OSError:
            return False
        return bool(targets)

    wait_until(answered, "chromium's DevTools endpoint", timeout_s=60)
    return str(targets[0]["webSocketDebuggerUrl"])

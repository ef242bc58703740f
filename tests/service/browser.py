"""Headless Chromium (Debian's package): the rendered DOM's text and a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--virtual-time-budget=15000", "--window-size=1400,1600"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _run(args: list[str]) -> str:
    with tempfile.TemporaryDirectory(prefix="adforge-chromium-") as profile:
        done = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=120)
    return done.stdout


def page_dom(url: str) -> str:
    return _run(["--dump-dom", url])


def page_text(url: str) -> str:
    """The visible text of the rendered page (tags stripped, whitespace collapsed)."""
    dom = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", page_dom(url), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def screenshot(url: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={path}", url])
    return path

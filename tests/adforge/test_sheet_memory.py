"""The sheets' cost does not grow with the brief: 2000 products (a 1544x532,056 picture as
one sheet, about 8 GB of memory before pages) are drawn in pages of 40, each read from the
store, drawn, encoded and written before the next, and the process stays under 500 MB.

The publish stage's own writers run in a child process (`tests/sheet_inputs.py`), whose
own peak resident size is measured, so that this test process's memory does not count;
the child's peak includes its imports (pandas, SQLAlchemy, OpenCV: about 230 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from adforge.imaging.contact_sheet import GAP, HEADER, ROW

ROOT = Path(__file__).resolve().parents[2]
PRODUCTS, PAGE = 2000, 40


@pytest.mark.slow
def test_two_thousand_products_are_drawn_in_under_500_mb(tmp_path: Path) -> None:
    child = subprocess.run([sys.executable, "-m", "tests.sheet_inputs", str(tmp_path),
                            str(PRODUCTS), str(PAGE)], cwd=ROOT, capture_output=True,
                           text=True, timeout=900, check=False)
    assert child.returncode == 0, child.stderr[-3000:]
    result = json.loads(child.stdout.strip().splitlines()[-1])
    sheets = [Path(page) for page in result["sheets"]]
    review = [Path(page) for page in result["review"]]
    assert [p.name for p in sheets[:2]] == ["contact_sheet-001.png", "contact_sheet-002.png"]
    assert len(sheets) == PRODUCTS // PAGE and all(p.stat().st_size > 10_000 for p in sheets)
    assert len(review) == PRODUCTS // 10 // PAGE  # every tenth product has a held canvas
    with sheets[-1].open("rb") as page:  # the PNG header's height: a full page
        assert int.from_bytes(page.read(24)[20:24], "big") == HEADER + PAGE * ROW + GAP
    peak_mb = result["peak_rss_kb"] / 1024
    assert peak_mb < 500, f"peak RSS {peak_mb:.0f} MB"

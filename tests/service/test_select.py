"""A selection on a real Prefect server: a run with `selection: manual` pauses with the
draft sheet and the variants on its page, its resume form is visible in headless
Chromium (screenshot: test-output/select_form.png), and `adforge select` from another
process resumes it with the chosen variant, recorded with who chose."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import TEST_OUTPUT
from tests.select_inputs import RUN_ID, score_of
from tests.service import browser
from tests.service.conftest import ADFORGE, Service
from tests.service.devtools import resume_dialog

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _paused_flow_run(service: Service, db_url: str, flow: subprocess.Popen,
                     timeout_s: float = 300) -> str:
    """The selection flow's run once the server has it Paused (its run row names it)."""
    deadline = time.monotonic() + timeout_s
    engine = sa.create_engine(db_url)
    try:
        while True:
            assert flow.poll() is None, "the selection flow ended before pausing"
            assert time.monotonic() < deadline, "the selection flow never paused"
            try:
                with engine.connect() as conn:
                    found = conn.execute(sa.text("select flow_run_id from runs where id = :id"),
                                         {"id": RUN_ID}).scalar()
            except sa.exc.OperationalError:  # no database yet
                found = None
            if found and service.api.flow_run(found)["state_name"] == "Paused":
                return found
            time.sleep(1)
    finally:
        engine.dispose()


def _show_selection_form(service: Service, flow_run_id: str) -> str:
    """The paused run's page, its Resume dialog opened: the form's text, and its
    screenshot in test-output/select_form.png."""
    with resume_dialog(service.ui_url, flow_run_id) as page:
        text = page.wait_for_text("Selected by", "BOTTLE-1", "JAR-2", "Drafted variants")
        page.screenshot(TEST_OUTPUT / "select_form.png")
        fields = page.evaluate("[...document.querySelectorAll('input, textarea')]"
                               ".map(e => e.value).join('\\n')")
    return f"{text}\n{fields}"


def test_a_paused_selection_shows_its_form_and_adforge_select_resumes_it(
        prefect_service: Service) -> None:
    folder = prefect_service.root / "select"
    folder.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{folder / 'adforge.db'}"
    with (folder / "flow.log").open("w") as log:
        flow = subprocess.Popen([sys.executable, "-m", "tests.select_inputs", str(folder),
                                 "manual", "600"], cwd=ROOT, env=prefect_service.env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        # 1. Paused, the drafts on its page and in its resume form
        flow_run_id = _paused_flow_run(prefect_service, db_url, flow)
        keys = {a["key"] for a in prefect_service.api.artifacts(flow_run_id)}
        assert {"draft-sheet", "draft-variants"} <= keys
        if browser.chromium() is not None:
            form = _show_selection_form(prefect_service, flow_run_id)
            best = score_of("BOTTLE-1", "B").variant
            assert f"{best}  score 0.95 = contrast 0.35" in form  # a product's variants
            assert "(automatic pick)" in form and score_of("JAR-2", "C").variant in form
        # 2. `adforge select` from another process: BOTTLE-1 keeps C, by ana
        done = subprocess.run([ADFORGE, "select", RUN_ID, "BOTTLE-1=C", "--by", "ana",
                               "--db", db_url], env=prefect_service.env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        assert flow.wait(timeout=180) == 0, (folder / "flow.log").read_text()
    finally:
        if flow.poll() is None:
            flow.kill()
    finished = prefect_service.api.wait(flow_run_id)
    assert (finished["state_type"], finished["state_name"]) == ("COMPLETED", "Completed")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        kept = conn.execute(sa.text("select sku, variant, selected_by from selections "
                                    "where kept order by sku")).all()
    engine.dispose()
    assert [tuple(row) for row in kept] == [
        ("BOTTLE-1", score_of("BOTTLE-1", "C").key, "ana"),
        ("JAR-2", score_of("JAR-2", "A").key, "ana")]
